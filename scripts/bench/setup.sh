#!/usr/bin/env bash
# Creates scripts/bench/.venv with numpy, a CPU-only PyTorch and jax[cpu] for the peer benchmarks.
# Idempotent: does nothing when the venv already imports all three.
# Torch: PyPI's default Linux wheel pulls ~3 GB of CUDA libraries (nvidia-*, triton), so we only
# install a "+cpu" build: first from pip's find-links (this image ships
# /opt/wheels/torch-2.13.0+cpu-*.whl), then from PyTorch's CPU index; failing both, the torch peers
# are skipped (set BENCH_TORCH_SPEC to force another requirement, e.g. "torch" to accept CUDA).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="$venv/bin/python"
start=$SECONDS
log() { echo "bench-setup: $*" >&2; }

if [ -x "$py" ] && "$py" -c "import numpy, torch, jax" >/dev/null 2>&1; then
    log "venv ready ($("$py" -c 'import numpy, torch, jax; print("numpy", numpy.__version__, "torch", torch.__version__, "jax", jax.__version__)'))"
    exit 0
fi
[ -x "$py" ] || { log "creating $venv"; python3 -m venv "$venv"; }
pip=("$py" -m pip install -q --disable-pip-version-check)

"$py" -c "import numpy" 2>/dev/null || { log "installing numpy"; "${pip[@]}" numpy; }

if ! "$py" -c "import torch" 2>/dev/null; then
    spec="${BENCH_TORCH_SPEC:-torch==2.13.0+cpu}"
    log "installing $spec"
    if ! "${pip[@]}" "$spec"; then
        log "$spec not found; trying PyTorch's CPU index"
        "${pip[@]}" --index-url https://download.pytorch.org/whl/cpu torch \
            || log "WARNING: no CPU-only torch available; torch peers will be skipped"
    fi
fi

"$py" -c "import jax" 2>/dev/null || { log "installing jax[cpu]"; "${pip[@]}" "jax[cpu]"; }

"$py" - <<'PY' >&2
import importlib
for m in ("numpy", "torch", "jax", "jaxlib"):
    try:
        print(f"bench-setup: {m} {importlib.import_module(m).__version__}")
    except Exception as e:  # noqa: BLE001
        print(f"bench-setup: {m} MISSING ({e.__class__.__name__})")
PY
log "done in $((SECONDS - start)) s"
