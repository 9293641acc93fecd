#!/usr/bin/env bash
# Runs the Swift benchmarks of the hot paths: the separate package in Benchmarks/ (ordo-one/benchmark,
# built in release by its plugin): one CD-1 step, one fine-tuning step, the sigmoid and Bernoulli kernels,
# with wall clock, throughput and the malloc counters (allocations per step).
#
#   scripts/bench/swift-benchmarks.sh                      # full run (about a minute after the build)
#   scripts/bench/swift-benchmarks.sh --smoke              # CI: 3 iterations each (a few seconds after the build);
#                                                          # fails unless the CD-1 steps and the fine-tuning
#                                                          # step show zero mallocs
#   scripts/bench/swift-benchmarks.sh --filter 'CD-1.*'    # other arguments go to `benchmark run`
#   scripts/bench/swift-benchmarks.sh --allocation-stacks  # where the allocations of each benchmark come from
#
# MNIST is read from datasets/mnist (or $DBN_MNIST); without it the benchmarks step through synthetic
# binary data of the same shape.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

args=()
for argument in "$@"; do
    case "$argument" in
        --smoke) export DBN_BENCH_SMOKE=1 ;;
        *) args+=("$argument") ;;
    esac
done

cd "$repo"
if [ -z "${DBN_BENCH_SMOKE:-}" ]; then
    exec swift package --package-path Benchmarks benchmark run --target DeepBeliefBenchmarks --no-progress "${args[@]}"
fi
# Smoke: run, show the tables, then check the malloc counters of the minibatch steps.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
swift package --package-path Benchmarks benchmark run --target DeepBeliefBenchmarks --no-progress "${args[@]}" | tee "$log"
python3 - "$log" <<'PY'
import re, sys
current, found, bad = None, 0, []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if line and not line.startswith(("│", "├", "╞", "╘", "╒", " ", "=")):
        current = line.strip()
    match = re.match(r"│ Malloc \(total\) \*\s*│(.*)│\s*$", line)
    if match and current and (current.startswith("CD-1 step") or current.startswith("Fine-tuning step")):
        cells = [c.strip() for c in match.group(1).split("│")]
        found += 1
        if any(c not in ("0", "") for c in cells[:-1]):
            bad.append(f"{current}: mallocs per step {cells[:-1]}")
if found < 4:
    sys.exit(f"swift-benchmarks: expected malloc counters of 4 step benchmarks, found {found}")
if bad:
    sys.exit("swift-benchmarks: allocations in a minibatch step:\n  " + "\n  ".join(bad))
print("swift-benchmarks: 0 mallocs per CD-1 step (1 and 2 threads) and per fine-tuning step (plain; batch norm + maxout)")
PY
