#!/usr/bin/env python3
"""Independent check of a PNG written by DeepBelief, with Python's zlib and struct only.

  check_png.py FILE.png EXPECTED.raw WIDTH HEIGHT CHANNELS

Checks the signature, every chunk's CRC-32, IHDR (8-bit, grayscale for 1 channel or RGB
for 3, no interlace), inflates the IDAT stream, undoes the five PNG row filters and compares
the pixels with EXPECTED.raw (row-major bytes). If Pillow is installed, also decodes with it.
Prints "OK ..." and exits 0, or prints the difference and exits 1.
"""
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("bad signature")
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"bad CRC in chunk {kind!r}")
        chunks.append((kind, body))
        pos += 12 + length
    if chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise ValueError("IHDR must come first and IEND last")
    width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if depth != 8 or color not in (0, 2) or (compression, filtering, interlace) != (0, 0, 0):
        raise ValueError(f"unexpected IHDR {depth, color, compression, filtering, interlace}")
    channels = 1 if color == 0 else 3
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{len(raw)} decompressed bytes, expected {height * (stride + 1)}")
    pixels, previous = bytearray(), bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = row[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            row[x] = (row[x] + predictor) & 0xFF
        pixels += row
        previous = row
    return width, height, channels, bytes(pixels)


def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    with open(argv[2], "rb") as f:
        expected = f.read()
    want = (int(argv[3]), int(argv[4]), int(argv[5]))
    try:
        width, height, channels, pixels = decode(data)
    except ValueError as error:
        print(f"MISMATCH: {argv[1]}: {error}", file=sys.stderr)
        return 1
    if (width, height, channels) != want:
        print(f"MISMATCH: {argv[1]}: size {width}x{height}x{channels}, expected {want}", file=sys.stderr)
        return 1
    if pixels != expected:
        print(f"MISMATCH: {argv[1]}: pixels differ", file=sys.stderr)
        return 1
    note = "Pillow not installed"
    try:
        from PIL import Image
    except ImportError:
        pass
    else:
        with Image.open(argv[1]) as image:
            if image.tobytes() != expected:
                print(f"MISMATCH: {argv[1]}: Pillow decodes other pixels", file=sys.stderr)
                return 1
        note = "Pillow agrees"
    print(f"OK: {width}x{height}x{channels} pixels match; {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
