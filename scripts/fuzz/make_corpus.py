#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers (scripts/fuzz/corpus/<fuzzer>/), independently of the
Swift writers: IDX files by struct.pack and Python's gzip, safetensors files by Python's
safetensors package (with metadata) and by hand for what NumPy cannot express (BF16, F8, C64,
unknown fields, escapes, null metadata). Running it again gives the same bytes, except the order
of the two metadata keys of python-dbn.safetensors (the reference writer keeps them in a hash map).

Usage: python3 scripts/fuzz/make_corpus.py   (needs numpy and safetensors: scripts/setup.sh)
"""
import gzip
import io
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
IDX_DIR = os.path.join(HERE, "corpus", "idx")
ST_DIR = os.path.join(HERE, "corpus", "safetensors")

# IDX type code -> (struct format of one big-endian value, NumPy dtype)
IDX_TYPES = {
    "u8": (0x08, ">u1"),
    "i8": (0x09, ">i1"),
    "i16": (0x0B, ">i2"),
    "i32": (0x0C, ">i4"),
    "f32": (0x0D, ">f4"),
    "f64": (0x0E, ">f8"),
}


def idx_bytes(code, values):
    """An IDX file: 0, 0, type, rank, big-endian dimensions, big-endian values in C order."""
    header = bytes([0, 0, code, values.ndim]) + b"".join(struct.pack(">I", d) for d in values.shape)
    return header + values.tobytes()


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def make_idx():
    rng = np.random.default_rng(7)
    for name, (code, dtype) in IDX_TYPES.items():
        # Three 6x6 "digits": a bright stroke on a dark background, MNIST-like intensities.
        images = np.zeros((3, 6, 6))
        for k in range(3):
            images[k, 1:5, 1 + k] = 1.0
            images[k, 1 + k, 1:5] = 0.5
        if name == "u8":
            values = (images * 255).astype(dtype)
        elif name in ("i8", "i16", "i32"):
            values = (images * np.iinfo(np.dtype(dtype)).max).astype(dtype)
        else:
            values = (images + rng.normal(0, 0.01, images.shape)).astype(dtype)
        plain = idx_bytes(code, values)
        write(IDX_DIR, f"images-{name}.idx", plain)
        write(IDX_DIR, f"images-{name}.idx.gz", gzip.compress(plain, mtime=0))
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=">u1")
    plain_labels = idx_bytes(0x08, labels)
    write(IDX_DIR, "labels-u8.idx", plain_labels)
    write(IDX_DIR, "labels-u8.idx.gz", gzip.compress(plain_labels, mtime=0))
    write(IDX_DIR, "labels-i32.idx", idx_bytes(0x0C, labels.astype(">i4")))
    write(IDX_DIR, "empty-u8.idx", idx_bytes(0x08, np.zeros((0, 6, 6), dtype=">u1")))
    # gzip with a file name in its header (FNAME), and two concatenated gzip members.
    named = io.BytesIO()
    with gzip.GzipFile(filename="t10k-labels-idx1-ubyte", mode="wb", fileobj=named, mtime=0) as f:
        f.write(plain_labels)
    write(IDX_DIR, "labels-u8-named.idx.gz", named.getvalue())
    write(IDX_DIR, "labels-u8-two-members.idx.gz",
          gzip.compress(plain_labels[:10], mtime=0) + gzip.compress(plain_labels[10:], mtime=0))
    # Mode seeds of the fuzzer (see FuzzIDX.swift): the first byte 1, 2 or 3 wraps the rest in
    # gzip; the bytes after it are those of a valid plain file.
    diagonal = (np.eye(6) * 255).astype(">u1")[None]  # one 6x6 image
    write(IDX_DIR, "mode1-images-u8", b"\x01" + idx_bytes(0x08, diagonal)[1:])
    write(IDX_DIR, "mode1-labels-u8", b"\x01" + plain_labels[1:])
    write(IDX_DIR, "mode2-labels-u8", b"\x02" + plain_labels[1:])
    write(IDX_DIR, "mode3-images-f32", b"\x03" + idx_bytes(0x0D, (diagonal / 255).astype(">f4"))[1:])


def safetensors_file(header, buffer):
    """A safetensors file from a header dict, padded with spaces to 8 bytes like the writer."""
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + buffer


def make_safetensors():
    from safetensors.numpy import save

    rng = np.random.default_rng(11)
    weights = {
        "layers.0.weight": rng.normal(0, 0.1, (4, 3)).astype(np.float32),
        "layers.0.visible_bias": np.zeros(4, dtype=np.float32),
        "layers.0.hidden_bias": np.full(3, -0.5, dtype=np.float32),
    }
    write(ST_DIR, "python-dbn.safetensors", save(weights, metadata={"format_version": "1", "kind": "dbn"}))
    mixed = {
        "f64": np.array([[1.5, -2.0]], dtype=np.float64),
        "f16": np.array([1.0, 65504.0, -0.0], dtype=np.float16),
        "i64": np.array([-(2**62), 7], dtype=np.int64),
        "u64": np.array([2**63 + 1], dtype=np.uint64),
        "i32": np.array([[1, -2], [3, -4]], dtype=np.int32),
        "u32": np.array([4000000000], dtype=np.uint32),
        "i16": np.array([-300], dtype=np.int16),
        "u16": np.array([65535], dtype=np.uint16),
        "i8": np.array([-128, 127], dtype=np.int8),
        "u8": np.array([0, 255], dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 5), dtype=np.float32),
    }
    write(ST_DIR, "python-mixed.safetensors", save(mixed, metadata={"note": "mixed dtypes"}))
    write(ST_DIR, "python-nometa.safetensors", save({"v": np.arange(6, dtype=np.float32).reshape(2, 3)}))

    # By hand: dtypes NumPy lacks, JSON features the Python writer never emits.
    buffer = bytes([0x80, 0x3F, 0x00, 0xC0]) + bytes([0x3C, 0x7B, 0xFF, 0x7F]) + struct.pack("<ff", 1.0, -1.0)
    header = {
        "__metadata__": {"format_version": "1", "t\u00e9st": "line\nbreak \"quoted\" \u2603"},
        "bf16": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
        "f8": {"dtype": "F8_E4M3", "shape": [2, 1], "data_offsets": [4, 6], "extra": {"a": [1, 2.5e3, None, True]}},
        "f8e5m2": {"dtype": "F8_E5M2", "shape": [1], "data_offsets": [6, 7]},
        "e8m0": {"dtype": "F8_E8M0", "shape": [], "data_offsets": [7, 8]},
        "c64": {"dtype": "C64", "shape": [1], "data_offsets": [8, 16]},
    }
    write(ST_DIR, "hand-exotic.safetensors", safetensors_file(header, buffer))
    text = b'{"__metadata__":null, "esc\\u00e9\\ud83d\\ude00\\/":{"data_offsets":[0,4],"shape":[1],"dtype":"F32"}}'
    write(ST_DIR, "hand-escapes.safetensors", struct.pack("<Q", len(text)) + text + struct.pack("<f", 2.0))
    write(ST_DIR, "hand-empty.safetensors", safetensors_file({}, b""))


if __name__ == "__main__":
    make_idx()
    make_safetensors()
    for folder in (IDX_DIR, ST_DIR):
        names = sorted(os.listdir(folder))
        print(f"{os.path.relpath(folder, HERE)}: {len(names)} files, "
              f"{sum(os.path.getsize(os.path.join(folder, n)) for n in names)} bytes")
