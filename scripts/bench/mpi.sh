#!/usr/bin/env bash
# MPI mode of the benchmarks: on one machine, 2 ranks x 1 BLAS thread against 1 process x
# 2 threads for the CD-1, pre-training and fine-tuning epochs of `dbn bench` (the same work,
# hyper-parameters and data), run alternately so that the ratio holds on a noisy machine, and the
# all-reduce's share of the 2-rank run (rank 0's seconds inside MPI_Allreduce, waiting for the
# other rank included, over the whole run; DBN_MPI_TIMING=1). Run it on a quiet machine.
#
# usage: scripts/bench/mpi.sh [--rounds N] [--limit N] [--works cd1,pretrain,finetune] [--ranks P]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3 limit=0 works=cd1,pretrain,finetune ranks=2
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --limit) limit=$2; shift 2 ;;
        --works) works=$2; shift 2 ;;
        --ranks) ranks=$2; shift 2 ;;
        *) echo "mpi.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
swift build -c release --traits MPI --build-path .build-mpi --product dbn >/dev/null
dbn=.build-mpi/release/dbn
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
extra=()
[ "$limit" != 0 ] && extra=(--limit "$limit")
seconds() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["seconds"])'; }

echo "| work | round | 1 process x $ranks threads (s) | $ranks ranks x 1 thread (s) | ratio | all-reduce share |"
echo "|---|---|---:|---:|---:|---|"
for round in $(seq 1 "$rounds"); do
    for work in ${works//,/ }; do
        one=$("$dbn" bench --work "$work" --epochs 1 --threads "$ranks" --json --quiet "${extra[@]}" | seconds)
        log=$(mktemp)
        many=$(DBN_MPI_TIMING=1 mpirun -np "$ranks" --bind-to core "$dbn" bench --work "$work" --epochs 1 --threads 1 \
            --json --quiet "${extra[@]}" 2>"$log" | seconds)
        share=$(grep '^mpi:' "$log" | sed 's/.*rank 0: //')
        rm -f "$log"
        ratio=$(python3 -c "print(f'{$one / $many:.2f}x')")
        echo "| $work | $round | $one | $many | $ratio | $share |"
    done
done
