#!/usr/bin/env python3
"""Interop checks between DeepBelief's Swift safetensors code and Python's `safetensors`.

Needs `pip install safetensors numpy` (torch is used too when it is importable).

  check_safetensors.py check FILE EXPECTED.json
      Loads FILE (written by Swift) with safetensors.numpy.load_file, safe_open and
      safetensors.deserialize (and safetensors.torch.load_file if torch is installed) and
      compares names, dtypes, shapes, values and metadata with EXPECTED.json:
        {"tensors": {NAME: {"dtype": "F32", "shape": [2, 3], "values": [...]}},
         "metadata": {KEY: VALUE}, "byte_exact": true}
      "values" is the flat row-major list (booleans as 0/1). With "byte_exact", the arrays
      are saved again with safetensors.numpy.save and must give FILE's bytes exactly.

  check_safetensors.py write FILE EXPECTED.json
      Writes FILE with safetensors.numpy.save_file (float32, float64, float16, int64,
      int32, int16, int8, uint8, bool; a scalar; an empty tensor; non-ASCII metadata) and
      EXPECTED.json describing it in the format above, for Swift to read.

Exit status 0 and a line starting with "OK" on success; 1 and a message naming the
tensor, what was expected and what was found otherwise.
"""
import json
import struct
import sys

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import load_file, save, save_file

NUMPY_TYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8,
    "BOOL": np.bool_,
}


class Mismatch(Exception):
    pass


def expected_array(spec):
    """The expected NumPy array of a tensor spec (None for types NumPy lacks, e.g. BF16)."""
    numpy_type = NUMPY_TYPES.get(spec["dtype"])
    if numpy_type is None:
        return None
    return np.array(spec["values"], dtype=numpy_type).reshape(spec["shape"])


def expected_raw_bytes(spec):
    """The expected little-endian bytes of a tensor spec."""
    if spec["dtype"] == "BF16":
        bits = np.array(spec["values"], dtype="<f4").view("<u4") >> 16
        return bits.astype("<u2").tobytes()
    array = expected_array(spec)
    if array is None:
        raise Mismatch(f"no reference for dtype {spec['dtype']}")
    return array.astype(array.dtype.newbyteorder("<")).tobytes()


def compare_array(where, name, spec, array):
    want = expected_array(spec)
    if list(array.shape) != list(spec["shape"]):
        raise Mismatch(f"{where}: tensor {name!r} has shape {list(array.shape)}, expected {spec['shape']}")
    if array.dtype != want.dtype:
        raise Mismatch(f"{where}: tensor {name!r} has dtype {array.dtype}, expected {want.dtype}")
    if not np.array_equal(array, want):
        raise Mismatch(f"{where}: tensor {name!r} values differ: {array.ravel()[:8]} vs {want.ravel()[:8]}")


def check(path, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    specs = expected["tensors"]
    with open(path, "rb") as f:
        content = f.read()

    # 1. Raw view of every tensor (all dtypes, BF16 included).
    raw = dict(safetensors.deserialize(content))
    if sorted(raw) != sorted(specs):
        raise Mismatch(f"deserialize: names {sorted(raw)}, expected {sorted(specs)}")
    for name, spec in specs.items():
        view = raw[name]
        if view["dtype"] != spec["dtype"] or list(view["shape"]) != list(spec["shape"]):
            raise Mismatch(f"deserialize: tensor {name!r} is {view['dtype']} {view['shape']}, "
                           f"expected {spec['dtype']} {spec['shape']}")
        if bytes(view["data"]) != expected_raw_bytes(spec):
            raise Mismatch(f"deserialize: tensor {name!r} bytes differ")

    # 2. NumPy loader (types NumPy has).
    numpy_specs = {n: s for n, s in specs.items() if s["dtype"] in NUMPY_TYPES}
    if len(numpy_specs) == len(specs):
        arrays = load_file(path)
        for name, spec in specs.items():
            compare_array("numpy.load_file", name, spec, arrays[name])
    else:
        arrays = None
        with safe_open(path, framework="np") as f:
            for name, spec in numpy_specs.items():
                compare_array("safe_open(np)", name, spec, f.get_tensor(name))

    # 3. Metadata.
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
    if metadata != expected.get("metadata", {}):
        raise Mismatch(f"metadata {metadata!r}, expected {expected.get('metadata', {})!r}")

    # 4. PyTorch, when installed.
    torch_note = "torch not installed"
    try:
        import torch  # noqa: F401
        from safetensors.torch import load_file as torch_load_file
    except ImportError:
        pass
    else:
        tensors = torch_load_file(path)
        for name, spec in specs.items():
            t = tensors[name]
            if list(t.shape) != list(spec["shape"]):
                raise Mismatch(f"torch.load_file: tensor {name!r} has shape {list(t.shape)}, expected {spec['shape']}")
            got = t.to(torch.float64).numpy().ravel() if t.dtype != torch.bool else t.numpy().ravel().astype(np.float64)
            want = np.array(spec["values"], dtype=np.float64).ravel()
            if not np.array_equal(got, want):
                raise Mismatch(f"torch.load_file: tensor {name!r} values differ")
        torch_note = f"torch {torch.__version__} checked"

    # 5. Byte-exact re-encoding by the reference writer.
    exact_note = ""
    if expected.get("byte_exact"):
        if arrays is None:
            raise Mismatch("byte_exact needs NumPy dtypes only")
        again = save(arrays, metadata=metadata or None)
        if again != content:
            n = struct.unpack("<Q", content[:8])[0]
            m = struct.unpack("<Q", again[:8])[0]
            raise Mismatch(f"re-encoded bytes differ: header {content[8:8 + n]!r} vs {again[8:8 + m]!r}")
        exact_note = "; re-encoding gives identical bytes"

    print(f"OK: {len(specs)} tensors and {len(metadata)} metadata entries checked with "
          f"safetensors {safetensors.__version__}, numpy {np.__version__}; {torch_note}{exact_note}")


def write(path, expected_path):
    def pattern(count, scale, offset):
        return np.arange(count, dtype=np.float64) * scale + offset

    tensors = {
        "float32.matrix": pattern(12, 0.25, -1.5).astype(np.float32).reshape(3, 4),
        "float64.vector": (pattern(5, 1.0, 0.0) / 3.0).astype(np.float64),
        "float16.grid": pattern(6, 0.125, -0.25).astype(np.float16).reshape(2, 3),
        "int64.ids": (np.arange(4, dtype=np.int64) * 1_000_000_007 - 2),
        "int32.counts": (np.arange(3, dtype=np.int32) * -5 + 1),
        "int16.small": (np.arange(3, dtype=np.int16) * 300 - 301),
        "int8.bytes": (np.arange(4, dtype=np.int8) * 40 - 100),
        "uint8.pixels": (np.arange(8, dtype=np.uint8) * 31).reshape(2, 2, 2),
        "bool.mask": np.array([True, False, False, True]),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "gewicht.äöü": np.array([1.0, -2.0], dtype=np.float32),
    }
    metadata = {
        "format_version": "1",
        "comment": 'Grüße, 世界 🧠 "quoted" \\ / \n\ttab',
        "framework": "numpy",
    }
    save_file(tensors, path, metadata=metadata)
    expected = {
        "tensors": {
            name: {
                "dtype": {v: k for k, v in NUMPY_TYPES.items()}[array.dtype.type],
                "shape": list(array.shape),
                "values": [float(x) if array.dtype.kind == "f" else int(x) for x in array.ravel()],
            }
            for name, array in tensors.items()
        },
        "metadata": metadata,
    }
    with open(expected_path, "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
    print(f"OK: wrote {len(tensors)} tensors with safetensors {safetensors.__version__}")


def main(argv):
    if len(argv) != 4 or argv[1] not in ("check", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        (check if argv[1] == "check" else write)(argv[2], argv[3])
    except Mismatch as error:
        print(f"MISMATCH: {argv[2]}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
