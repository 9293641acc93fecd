#!/usr/bin/env bash
# Runs the Swift benchmarks of the hot paths: the separate package in Benchmarks/ (ordo-one/benchmark,
# built in release by its plugin): one CD-1 step, one fine-tuning step, the sigmoid and Bernoulli kernels,
# with wall clock, throughput and the malloc counters (allocations per step).
#
#   scripts/bench/swift-benchmarks.sh                      # full run (about a minute after the build)
#   scripts/bench/swift-benchmarks.sh --smoke              # CI: 3 iterations each (a few seconds after the build)
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
exec swift package --package-path Benchmarks benchmark run --no-progress "${args[@]}"
