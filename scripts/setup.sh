#!/usr/bin/env bash
# Installs the system libraries (OpenBLAS, LAPACKE, zlib, pkg-config) and the Python packages used
# by the interoperability test and the plots. Idempotent: skips what is already there.
# With --mpi, also Open MPI (libopenmpi-dev openmpi-bin) for the MPI build of dbn
# (`swift build --traits MPI --build-path .build-mpi`, see the README's "More than one machine").
set -euo pipefail
packages=(libopenblas-dev liblapacke-dev zlib1g-dev pkg-config)
for argument in "$@"; do
    case "$argument" in
        --mpi) packages+=(libopenmpi-dev openmpi-bin) ;;
        *) echo "setup: unknown option $argument (expected --mpi)" >&2; exit 2 ;;
    esac
done
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -c "import safetensors, numpy, tensorboard" >/dev/null 2>&1; then
    echo "setup: pip install safetensors numpy tensorboard"
    python3 -m pip install -q safetensors numpy tensorboard || echo "setup: warning: pip install failed (interop tests need it)"
fi
