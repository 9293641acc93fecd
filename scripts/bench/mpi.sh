#!/usr/bin/env bash
# MPI mode of the benchmarks: on one machine, P ranks x 1 BLAS thread against 1 process x
# P threads for the CD-1, pre-training and fine-tuning epochs of `dbn bench` (the same work,
# hyper-parameters and data), run alternately so that the ratio holds on a noisy machine; the
# all-reduce's share of the P-rank run (rank 0's seconds inside MPI_Allreduce, waiting for the
# other ranks included, over the whole run; DBN_MPI_TIMING=1); and the reproducible mode
# (--reproducible G: G row groups per minibatch, an ordered sum in place of the all-reduce) on
# the same P ranks, its time against the normal P-rank run and the share of its ordered sums.
# Then the inputs of the README's scaling model (section "More than one machine"): the
# gradient's size, the compute per step, and the global batch for 80% efficiency at a stated
# bandwidth, printed in the README's words. Run it on a quiet machine.
#
# usage: scripts/bench/mpi.sh [--rounds N] [--limit N] [--works cd1,pretrain,finetune] [--ranks P]
#                             [--groups G] [--bandwidth GBIT] [--debug]
# A tiny budget (to check that the script runs, not to measure): --rounds 1 --limit 600, or the
# environment MPI_BENCH_ROUNDS=1 MPI_BENCH_LIMIT=600. --debug uses the debug build (no release
# build needed; figures meaningless).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${MPI_BENCH_ROUNDS:-3} limit=${MPI_BENCH_LIMIT:-0} works=cd1,pretrain,finetune ranks=2 groups=4
bandwidth=10 configuration=release
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --limit) limit=$2; shift 2 ;;
        --works) works=$2; shift 2 ;;
        --ranks) ranks=$2; shift 2 ;;
        --groups) groups=$2; shift 2 ;;
        --bandwidth) bandwidth=$2; shift 2 ;;
        --debug) configuration=debug; shift ;;
        *) echo "mpi.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$groups" -ge "$ranks" ] || { echo "mpi.sh: --groups ($groups) must be at least --ranks ($ranks)" >&2; exit 2; }
swift build -c "$configuration" --traits MPI --build-path .build-mpi --product dbn >/dev/null
dbn=.build-mpi/$configuration/dbn
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
extra=()
[ "$limit" != 0 ] && extra=(--limit "$limit")
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
# The share of rank 0's time inside the sums, from the DBN_MPI_TIMING line on stderr.
share() { grep '^mpi:' "$1" | sed 's/.*(\(.*%\))$/\1/'; }
# The floats one step sums, per work (batch 100, MNIST): CD's V*H + V + H + 1 per layer (the
# pre-training epoch's average over its layers), fine-tuning's weights, biases, loss and errors.
floats() {
    python3 - "$1" <<'EOF'
import sys
work = sys.argv[1]
rbm = lambda v, h: v * h + v + h + 1
if work == "cd1": print(rbm(784, 500))
elif work == "pretrain": print(round(sum(rbm(v, h) for v, h in [(784, 500), (500, 500), (500, 2000)]) / 3))
else:
    sizes = [784, 500, 500, 2000, 10]
    print(sum(a * b + b for a, b in zip(sizes, sizes[1:])) + 2)
EOF
}

declare -A sum_one sum_many sum_repro images
echo "| work | round | 1 process x $ranks threads (s) | $ranks ranks x 1 thread (s) | ratio | all-reduce share | $ranks ranks, --reproducible $groups (s) | reproducible / normal | ordered-sum share |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
    for work in ${works//,/ }; do
        out=$("$dbn" bench --work "$work" --epochs 1 --threads "$ranks" --json --quiet "${extra[@]}")
        one=$(field seconds <<<"$out")
        images[$work]=$(field images <<<"$out")
        log=$(mktemp)
        many=$(DBN_MPI_TIMING=1 mpirun -np "$ranks" --bind-to core "$dbn" bench --work "$work" --epochs 1 --threads 1 \
            --json --quiet "${extra[@]}" 2>"$log" | field seconds)
        reduce_share=$(share "$log")
        repro=$(DBN_MPI_TIMING=1 mpirun -np "$ranks" --bind-to core "$dbn" bench --work "$work" --epochs 1 --threads 1 \
            --reproducible "$groups" --json --quiet "${extra[@]}" 2>"$log" | field seconds)
        ordered_share=$(share "$log")
        rm -f "$log"
        sum_one[$work]=$(python3 -c "print(${sum_one[$work]:-0} + $one)")
        sum_many[$work]=$(python3 -c "print(${sum_many[$work]:-0} + $many)")
        sum_repro[$work]=$(python3 -c "print(${sum_repro[$work]:-0} + $repro)")
        python3 -c "print(f'| $work | $round | {$one:.3f} | {$many:.3f} | {$one / $many:.2f}x | $reduce_share | {$repro:.3f} | {$repro / $many:.2f}x | $ordered_share |')"
    done
done

echo
echo "Bytes per step (one all-reduce, or one ordered sum, of the gradient slab), and the scaling model's"
echo "inputs at $bandwidth Gbit/s between machines (README, \"More than one machine\", Scaling):"
echo
for work in ${works//,/ }; do
    python3 - "$work" "$(floats "$work")" "${sum_one[$work]}" "$rounds" "${images[$work]}" "$ranks" "$groups" "$bandwidth" <<'EOF'
import sys
work, n, total, rounds, images, p, g, gbit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
steps = max(images // 100, 1)
tc = total / rounds / steps                      # one process's compute per step of batch 100 (s)
if work == "pretrain":
    tc /= 3                                      # the greedy epoch trains 3 layers: per layer's step
bytes_ = 4 * n
ring = 2 * (p - 1) / p * bytes_                  # a ring all-reduce, per process
chain = 2 * bytes_                               # the ordered sum: in, out (plus the broadcast's ~1x)
beta = gbit * 1e9 / 8
t_reduce = 2 * bytes_ / beta                     # 8N/beta: the model's all-reduce time
per_row = tc / 100
# 80%: t_c(B)/P >= 4 * 8N/beta  =>  B >= 4 * 8N/beta * P / per_row
batches = {m: 4 * t_reduce * m / per_row for m in (2, 4, 8)}
print(f"- {work}: N = {n:,} floats ({bytes_ / 1e6:.2f} MB per step); all-reduce moves {ring / 1e6:.2f} MB per process "
      f"at P = {p} (ring), the reproducible ordered sum {chain / 1e6:.2f} MB in and out plus a broadcast, and keeps "
      f"{-(-g // p)} partial gradients ({-(-g // p) * bytes_ / 1e6:.2f} MB) per process; "
      f"t_c(100) = {tc * 1e3:.2f} ms per step{' (per layer)' if work == 'pretrain' else ''} on one process (x {p} threads); 8N/beta = {t_reduce * 1e3:.2f} ms at "
      f"{gbit:g} Gbit/s; 80% efficiency needs a global batch of about "
      + ", ".join(f"{b:,.0f} on {m} machines" for m, b in batches.items()) + ".")
EOF
done
