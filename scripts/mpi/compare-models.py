#!/usr/bin/env python3
"""Compares the tensors of two safetensors files (F32, same names and shapes), with no package
beyond the standard library: prints the largest absolute difference and fails (exit 1) when it
exceeds TOLERANCE (0: the tensors must be bit-identical).

usage: compare-models.py A.safetensors B.safetensors TOLERANCE
"""
import json
import struct
import sys
from array import array


def tensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {entry['dtype']}, expected F32")
        start, end = entry["data_offsets"]
        values = array("f")
        values.frombytes(body[start:end])
        if sys.byteorder != "little":
            values.byteswap()
        out[name] = (tuple(entry["shape"]), values)
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    a, b, tolerance = tensors(sys.argv[1]), tensors(sys.argv[2]), float(sys.argv[3])
    if sorted(a) != sorted(b):
        sys.exit(f"different tensors: {sorted(a)} vs {sorted(b)}")
    worst, where, identical = 0.0, "", True
    for name in sorted(a):
        (sa, va), (sb, vb) = a[name], b[name]
        if sa != sb:
            sys.exit(f"{name}: shape {sa} vs {sb}")
        identical = identical and va.tobytes() == vb.tobytes()
        for x, y in zip(va, vb):
            d = abs(x - y)
            if d != d:  # NaN
                sys.exit(f"{name}: NaN")
            if d > worst:
                worst, where = d, name
    print(f"max |difference| = {worst:.3g}" + (f" (in {where})" if where else "")
          + (", bit-identical" if identical else ""))
    if tolerance == 0 and not identical or worst > tolerance:
        sys.exit(f"FAIL: more than the tolerance {tolerance}")


main()
