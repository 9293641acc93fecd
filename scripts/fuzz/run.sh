#!/usr/bin/env bash
# Builds the libFuzzer fuzzers of the readers of outside bytes and runs them.
#
#   scripts/fuzz/run.sh [idx|safetensors|checkpoint|all] [runs]   (default: all, 1000000 runs each)
#
# Each fuzzer starts from its seed corpus (scripts/fuzz/corpus/<fuzzer>/, read only) and keeps
# what it finds in .build-fuzz/corpus/<fuzzer>/; a crash, hang or oversized allocation leaves
# its input in .build-fuzz/artifacts/. Prints runs, wall time, coverage and the result per
# fuzzer; exits non-zero if any fuzzer failed. The fuzzers run one after the other, one process
# each (the machine has two shared cores). FUZZ_EXTRA adds libFuzzer flags (e.g. "-seed=1").
set -euo pipefail

which_fuzzers=${1:-all}
runs=${2:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/fuzz"
build="$root/.build-fuzz"
mkdir -p "$build/artifacts"

case "$which_fuzzers" in
    idx) fuzzers=(idx) ;;
    safetensors) fuzzers=(safetensors) ;;
    checkpoint) fuzzers=(checkpoint) ;;
    all) fuzzers=(idx safetensors checkpoint) ;;
    *) echo "usage: $0 [idx|safetensors|checkpoint|all] [runs]" >&2; exit 2 ;;
esac

# --- Build -------------------------------------------------------------------------------------
# The library modules are compiled with coverage instrumentation and AddressSanitizer, in
# release mode (-O keeps Swift's bounds and overflow checks), with -enable-testing so that the
# entries can reach internal functions (`@testable import`).
# The C target CKernels (Philox blocks) is compiled with clang and imported through a module map.
flags=(-O -wmo -parse-as-library -sanitize=fuzzer,address -enable-testing
       -I "$build" -I "$root/Modules/CBLAS" -I "$root/Modules/CZlib" -I "$build/CKernels"
       -Xcc -I/usr/include/x86_64-linux-gnu/openblas-pthread)

build_ckernels() {
    mkdir -p "$build/CKernels"
    printf 'module CKernels {\n    header "%s"\n    export *\n}\n' "$root/Sources/CKernels/include/ckernels.h" \
        >"$build/CKernels/module.modulemap"
    clang -O2 -fsanitize=fuzzer-no-link,address -I "$root/Sources/CKernels/include" \
        -c "$root/Sources/CKernels/philox.c" -o "$build/CKernels.o"
}

build_module() {  # name: compiles Sources/<name>/*.swift into <name>.o and <name>.swiftmodule
    local name=$1
    swiftc "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$build/$name.swiftmodule" \
        -c "$root/Sources/$name"/*.swift -o "$build/$name.o"
}

build_fuzzer() {  # fuzzer entry modules...: links fuzz-<fuzzer> from its entry file
    local fuzzer=$1 entry=$2; shift 2
    local objects=()
    for m in "$@"; do objects+=("$build/$m.o"); done
    swiftc "${flags[@]}" -module-name "Fuzz_$fuzzer" "$here/$entry" "${objects[@]}" \
        -use-ld=lld -lz -lopenblas -llapacke -lm -o "$build/fuzz-$fuzzer"
}

start=$(date +%s)
echo "fuzz: building modules (sanitizers: fuzzer, address)"
if ! {
    build_ckernels
    modules=(Linalg Zlib Files IDX ModelFiles)
    [[ " ${fuzzers[*]} " == *" checkpoint "* ]] && modules+=(Pretraining FineTuning DeepBelief)
    for m in "${modules[@]}"; do build_module "$m"; done
    build_fuzzer idx FuzzIDX.swift CKernels Linalg Zlib Files IDX
    build_fuzzer safetensors FuzzSafeTensors.swift CKernels Linalg Zlib Files ModelFiles
    if [[ " ${fuzzers[*]} " == *" checkpoint "* ]]; then
        build_fuzzer checkpoint FuzzCheckpoint.swift CKernels Linalg Zlib Files IDX ModelFiles Pretraining FineTuning DeepBelief
    fi
} >"$build/build.log" 2>&1; then
    cat "$build/build.log" >&2
    echo "fuzz: build failed" >&2
    exit 1
fi
echo "fuzz: built in $(( $(date +%s) - start )) s"

# --- Run ---------------------------------------------------------------------------------------
# Limits: -timeout=5 (a hang), -rss_limit_mb=2048, -max_len=16384, and a limit on one allocation
# at what a 16 KiB input can justify:
#   idx: a gzip stream may inflate to IDXFile.decompressionLimit(16384) = 1032 x 16384 + 1 MiB
#        (about 17.5 MiB; the entry passes a 64 MiB cap, which is not the tighter bound), and the
#        growing output array may hold up to twice that: 64 MiB.
#   safetensors: no decompression; the largest legitimate buffer is floats() of a U8 tensor,
#        4 x the input (64 KiB): 2 MiB.
#   checkpoint: the input resumes a tiny run (6-4-3 stack, 12 rows); its own buffers are a few
#        KiB, and a safetensors tensor cannot be larger than the input: 64 MiB is generous.
malloc_limit() { case $1 in idx) echo 64 ;; safetensors) echo 2 ;; checkpoint) echo 64 ;; esac; }

# Swift's crash backtracer would run under AddressSanitizer after a trap and report its own
# reads as errors, hiding the trap's message: turn it off.
export SWIFT_BACKTRACE=enable=no
status=0
summary=()
for fuzzer in "${fuzzers[@]}"; do
    corpus="$build/corpus/$fuzzer"
    log="$build/fuzz-$fuzzer.log"
    mkdir -p "$corpus"
    echo "fuzz: running $fuzzer for $runs inputs (log: $log)"
    t0=$(date +%s)
    set +e
    dict=()
    [ -f "$here/$fuzzer.dict" ] && dict=(-dict="$here/$fuzzer.dict")
    seeds="$here/corpus/$fuzzer"
    if [ "$fuzzer" = checkpoint ]; then
        # Real checkpoints of the entry's tiny run, written by the entry itself (not in git).
        seeds="$build/seeds-checkpoint"
        rm -rf "$seeds"
        FUZZ_CHECKPOINT_SEEDS="$seeds" "$build/fuzz-$fuzzer" -runs=0 >/dev/null 2>&1 || true
        [ -n "$(ls -A "$seeds" 2>/dev/null)" ] || { echo "fuzz: the checkpoint seeds were not written" >&2; exit 1; }
    fi
    # shellcheck disable=SC2086
    "$build/fuzz-$fuzzer" -runs="$runs" -timeout=5 -rss_limit_mb=2048 -malloc_limit_mb="$(malloc_limit "$fuzzer")" \
        -max_len=16384 -print_final_stats=1 "${dict[@]}" -artifact_prefix="$build/artifacts/$fuzzer-" \
        ${FUZZ_EXTRA:-} "$corpus" "$seeds" >"$log" 2>&1
    code=$?
    set -e
    seconds=$(( $(date +%s) - t0 ))
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
    executed=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' || true)
    if [ "$code" -eq 0 ]; then
        result="OK (no crash, hang or oversized allocation)"
    else
        status=1
        result="FAILED (exit $code): $(grep -m1 -E '^==[0-9]+==ERROR|Fatal error|deadly signal|out-of-memory|malloc\(' "$log" || echo 'see log')"
        artifact=$(grep -m1 -o 'Test unit written to .*' "$log" || true)
        [ -n "$artifact" ] && result="$result; $artifact"
    fi
    line="$fuzzer: runs ${executed:-?}, ${seconds} s, ${done_line:-no DONE line} -> $result"
    echo "fuzz: $line"
    summary+=("$line")
done

echo "fuzz: summary"
for line in "${summary[@]}"; do echo "  $line"; done
exit $status
