#!/usr/bin/env bash
# The MPI tests of data-parallel training (needs Open MPI: scripts/setup.sh --mpi). Builds `dbn`
# with the MPI trait (in .build-mpi) and the plain `dbn` (in .build), then on the bundled MNIST
# (the first 600 images, batch 60: divisible by 1, 2, 3 and 6; 784-64-32; --threads 1, one BLAS
# thread per rank) checks:
#   1. pre-training with CD-1 and with PCD (+ resampled binary data), and fine-tuning (SGD with
#      dropout), under `mpirun -np 1, 2, 3`, against the single-process run: bit-identical at
#      -np 1, and within TOLERANCE (largest absolute weight difference) at -np 2 and 3, where
#      only the order of the float sums differs;
#   2. the reproducible mode (--reproducible 6): the same runs give model files byte-identical
#      (cmp) to the single-process run with the same flag at -np 1, 2 and 3;
#   3. a run killed after a checkpoint and resumed with another number of ranks;
#   4. Ctrl-C: SIGINT to mpirun after the first checkpoint stops every rank (exit status
#      non-zero, one error line, no temporary file, no rank left running), and
#      --resume on another number of ranks ends byte-identical to the uninterrupted run
#      (reproducible mode);
#   5. a rank that fails on a bad file stops the whole job (no hang) with one error line, and
#      ranks that drift apart (different learning rates) stop the job with a clear error.
# Prints the measured differences. Exit status 0 when every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."

TOLERANCE=${TOLERANCE:-1e-4}
command -v mpirun >/dev/null || { echo "mpi-tests: mpirun not found (run scripts/setup.sh --mpi)"; exit 1; }

swift build --product dbn >/dev/null
swift build --traits MPI --build-path .build-mpi --product dbn >/dev/null
SINGLE=.build/debug/dbn
PARALLEL=.build-mpi/debug/dbn

# Ranks on one machine over shared memory, as root in CI containers, more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
# Containers often forbid the cross-memory attach of the shared-memory transport.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi() { local np=$1; shift; timeout 600 mpirun -np "$np" "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
small=(--limit 600 --batch-size 60 --threads 1 --quiet --seed 7)
layers=(--layers 64,32)
failures=0
compare() {  # compare A B TOLERANCE WHAT
    local line
    if line=$(python3 scripts/mpi/compare-models.py "$1" "$2" "$3" 2>&1); then
        echo "ok    $4: $line"
    else
        echo "FAIL  $4: $line"; failures=$((failures + 1))
    fi
}

# 1. The same run on 1, 2 and 3 ranks.
check_ranks() {  # check_ranks NAME COMMAND ARGS...
    local name=$1; shift
    "$SINGLE" "$@" --output "$work/$name-single.safetensors"
    for np in 1 2 3; do
        mpi "$np" "$PARALLEL" "$@" --output "$work/$name-np$np.safetensors"
        local tolerance=$TOLERANCE
        [ "$np" = 1 ] && tolerance=0
        compare "$work/$name-single.safetensors" "$work/$name-np$np.safetensors" "$tolerance" "$name, -np $np vs one process"
    done
}
check_ranks cd1 pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 2
check_ranks pcd pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 2 --persistent --binarize resample
check_ranks finetune finetune "${small[@]}" --weights "$work/cd1-single.safetensors" --finetune-epochs 2 \
    --dropout 0.2 --validation 0

# 2. The reproducible mode: byte-identical model files (metadata included) for any -np.
check_identical() {  # check_identical NAME COMMAND ARGS...
    local name=$1; shift
    "$SINGLE" "$@" --reproducible 6 --output "$work/$name-r-single.safetensors"
    for np in 1 2 3; do
        mpi "$np" "$PARALLEL" "$@" --reproducible 6 --output "$work/$name-r-np$np.safetensors"
        if cmp -s "$work/$name-r-single.safetensors" "$work/$name-r-np$np.safetensors"; then
            echo "ok    $name --reproducible 6, -np $np vs one process: byte-identical"
        else
            echo "FAIL  $name --reproducible 6, -np $np vs one process: the files differ"; failures=$((failures + 1))
        fi
    done
}
check_identical cd1 pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 2
check_identical pcd pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 2 --persistent --binarize resample
check_identical finetune finetune "${small[@]}" --weights "$work/cd1-single.safetensors" --finetune-epochs 2 \
    --dropout 0.2 --validation 0

wait_for_checkpoint() {  # wait_for_checkpoint FILE PID: until FILE exists or PID ends (2 minutes at most)
    for _ in $(seq 1 600); do
        [ -f "$1" ] && break
        kill -0 "$2" 2>/dev/null || break
        sleep 0.2
    done
}

# 3. Killed after its first checkpoint on 2 ranks, resumed on 3: ends where the uninterrupted
#    single-process run ends (within the tolerance).
resume=(pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 3 --persistent)
"$SINGLE" "${resume[@]}" --output "$work/resume-single.safetensors"
mpirun -np 2 "$PARALLEL" "${resume[@]}" --checkpoint-dir "$work/checkpoints" --output "$work/resume.safetensors" &
job=$!  # mpirun itself: SIGTERM makes it kill its ranks
wait_for_checkpoint "$work/checkpoints/checkpoint.safetensors" "$job"
kill -TERM "$job" 2>/dev/null || true
wait "$job" 2>/dev/null || true
if [ -f "$work/resume.safetensors" ]; then
    echo "note  the killed run had already finished; the resume below starts from its last checkpoint"
fi
if [ ! -f "$work/checkpoints/checkpoint.safetensors" ]; then
    echo "FAIL  kill and resume: no checkpoint was written"; failures=$((failures + 1))
else
    if mpi 3 "$PARALLEL" "${resume[@]}" --checkpoint-dir "$work/checkpoints" --resume --output "$work/resume.safetensors"; then
        compare "$work/resume-single.safetensors" "$work/resume.safetensors" "$TOLERANCE" \
            "killed on 2 ranks, resumed on 3, vs one uninterrupted process"
    else
        echo "FAIL  kill and resume: the resumed run failed"; failures=$((failures + 1))
    fi
fi

# 4. Ctrl-C: SIGINT to mpirun after the first checkpoint. Open MPI 4 does not forward SIGINT: it
#    ends the job by sending SIGTERM to the ranks, which remove any temporary file, and rank 0
#    prints one line naming the checkpoint (ranks that get SIGINT themselves agree at the next
#    checkpoint to stop, TrainingRun). (set -m: a background job of a script would otherwise
#    start with SIGINT ignored.)
interrupt=(pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 6 --persistent --reproducible 6)
"$SINGLE" "${interrupt[@]}" --output "$work/ctrlc-single.safetensors"
set -m
mpirun -np 2 "$PARALLEL" "${interrupt[@]}" --checkpoint-dir "$work/ctrlc" --output "$work/ctrlc.safetensors" \
    >"$work/ctrlc.out" 2>"$work/ctrlc.err" &
job=$!
set +m
wait_for_checkpoint "$work/ctrlc/checkpoint.safetensors" "$job"
kill -INT "$job" 2>/dev/null || true
status=0
timeout 120 tail --pid="$job" -f /dev/null || true
wait "$job" 2>/dev/null || status=$?
leftover=$(find "$work/ctrlc" -name '.checkpoint*tmp*' | wc -l)
running=$(pgrep -f -- "--checkpoint-dir $work/ctrlc" | wc -l || true)
errors=$(grep -c '^Error' "$work/ctrlc.err" || true)
if [ -f "$work/ctrlc.safetensors" ]; then
    echo "note  Ctrl-C: the run had already finished before the signal (machine too fast): nothing to check"
elif [ "$status" = 0 ] || [ "$errors" != 1 ] || ! grep -Eq '^Error: (interrupted|stopped by a signal)' "$work/ctrlc.err" \
        || [ "$leftover" != 0 ] || [ "$running" != 0 ]; then
    echo "FAIL  Ctrl-C under mpirun: status $status, $errors error line(s), $leftover temporary file(s), $running process(es) left:"
    cat "$work/ctrlc.err"; failures=$((failures + 1))
else
    echo "ok    Ctrl-C under mpirun: status $status, $(grep '^Error' "$work/ctrlc.err")"
fi
if [ ! -f "$work/ctrlc.safetensors" ]; then
    if mpi 3 "$PARALLEL" "${interrupt[@]}" --checkpoint-dir "$work/ctrlc" --resume \
            --output "$work/ctrlc.safetensors" && cmp -s "$work/ctrlc-single.safetensors" "$work/ctrlc.safetensors"; then
        echo "ok    Ctrl-C on 2 ranks, resumed on 3: byte-identical to one uninterrupted process (--reproducible 6)"
    else
        echo "FAIL  Ctrl-C on 2 ranks, resumed on 3: failed or not byte-identical"; failures=$((failures + 1))
    fi
fi

# 5a. Rank 1 reads a truncated image file while rank 0 reads the good one: the job must stop
#     (not hang with rank 0 waiting in a sum) with rank 1's error line and a non-zero status.
mkdir -p "$work/bad"
cp datasets/mnist/*labels* datasets/mnist/t10k-images-idx3-ubyte.gz "$work/bad/"
head -c 100000 datasets/mnist/train-images-idx3-ubyte.gz > "$work/bad/train-images-idx3-ubyte.gz"
expect_failure() {  # expect_failure WHAT PATTERN MPIRUN-ARGS...
    local what=$1 pattern=$2; shift 2
    local status=0
    timeout 300 mpirun "$@" >"$work/out" 2>"$work/err" || status=$?
    local lines
    lines=$(grep -c '^Error' "$work/err" || true)
    if [ "$status" = 0 ] || [ "$status" = 124 ]; then
        echo "FAIL  $what: exit status $status (0: no failure, 124: hung)"; failures=$((failures + 1))
    elif ! grep -q "$pattern" "$work/err" || [ "$lines" != 1 ]; then
        echo "FAIL  $what: expected one error line matching '$pattern', got:"; cat "$work/err"
        failures=$((failures + 1))
    else
        echo "ok    $what: status $status, $(grep '^Error' "$work/err")"
    fi
}
expect_failure "a rank that fails on a bad file stops the job" "rank 1" \
    -np 1 "$PARALLEL" pretrain "${small[@]}" "${layers[@]}" --output "$work/x.safetensors" : \
    -np 1 "$PARALLEL" pretrain "${small[@]}" "${layers[@]}" --data "$work/bad" --output "$work/x.safetensors"
expect_failure "every rank fails on a missing folder: one line" "does-not-exist" \
    -np 3 "$PARALLEL" pretrain "${small[@]}" "${layers[@]}" --data "$work/does-not-exist" --output "$work/x.safetensors"
# 5b. Ranks that apply different updates drift apart: the check at the next epoch stops the job.
expect_failure "ranks that drift apart stop the job" "drifted" \
    -np 1 "$PARALLEL" pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 2 --pretrain-learning-rate 0.1 --output "$work/x.safetensors" : \
    -np 1 "$PARALLEL" pretrain "${small[@]}" "${layers[@]}" --pretrain-epochs 2 --pretrain-learning-rate 0.2 --output "$work/x.safetensors"

if [ "$failures" -gt 0 ]; then
    echo "mpi-tests: $failures check(s) failed"; exit 1
fi
echo "mpi-tests: all checks passed"
