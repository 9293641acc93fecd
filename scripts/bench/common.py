"""Shared by the peers: thread settings (import this module before numpy/torch/jax), MNIST
loading from the IDX .gz files, and the one-line JSON result."""
import gzip
import json
import os
import sys
from pathlib import Path

THREADS = os.environ.get("BENCH_THREADS", "2")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=" + THREADS)

import numpy as np  # noqa: E402  (after the thread variables)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "datasets" / "mnist"


def add_common_args(parser, epochs=1, repeats=1):
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the MNIST .gz files")
    parser.add_argument("--limit", type=int, default=60000, help="use the first N training images")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--repeats", type=int, default=repeats, help="independent timed runs")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} values for dims {dims}")
    return data.reshape(dims)


def _find(folder, stem):
    for name in (f"{stem}-idx{{}}-ubyte", f"{stem}.idx{{}}-ubyte"):
        for rank in (1, 3):
            for suffix in (".gz", ""):
                p = Path(folder) / (name.format(rank) + suffix)
                if p.exists():
                    return p
    raise FileNotFoundError(f"no {stem} IDX file in {folder}")


def load_mnist(folder, split="train", limit=None):
    """Images as float32 (N, 784) in [0, 1] (pixels/255) and labels as int64 (N,)."""
    prefix = "train" if split == "train" else "t10k"
    x = _read_idx(_find(folder, f"{prefix}-images"))
    y = _read_idx(_find(folder, f"{prefix}-labels"))
    if limit:
        x, y = x[:limit], y[:limit]
    return (x.reshape(len(x), -1).astype(np.float32) / np.float32(255)), y.astype(np.int64)


def emit(result):
    """Print the result as the last stdout line, as compact JSON."""
    result.setdefault("threads", int(THREADS))
    print(json.dumps(result), flush=True)


def log(*args):
    print(*args, file=sys.stderr, flush=True)
