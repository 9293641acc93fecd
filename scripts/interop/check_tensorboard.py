#!/usr/bin/env python3
"""Reads a TensorBoard event file (or a folder of them) written by DeepBelief with the
`tensorboard` package's own reader and checks it against a JSON of what was written.

  check_tensorboard.py PATH EXPECTED.json
  check_tensorboard.py --dump PATH      # prints what the reader found, as one JSON object

--dump prints {"scalars": {TAG: [[STEP, VALUE], ...]},
               "histograms": {TAG: [[STEP, MIN, MAX, NUM, SUM], ...]},
               "images": {TAG: [[STEP, WIDTH, HEIGHT], ...]}}
for tests that check values computed elsewhere (means over steps, sums over a model's weights).

EXPECTED.json:
  {"scalars":    {TAG: [{"step": S, "value": V}, ...]},           # "value" optional
   "histograms": {TAG: [{"step": S, "min": A, "max": B, "num": N, "sum": X}, ...]},  # all but step optional
   "images":     {TAG: [{"step": S, "width": W, "height": H, "png_sha256": HEX}, ...]},  # all but step optional
   "exact_tags": true}   # optional: no tags besides those listed

Scalars are compared within float32 rounding (relative 1e-6), histogram sums within 1e-9
relative; the bucket counts must add up to num. Prints "OK ..." and exits 0, or prints every
difference and exits 1.
"""
import hashlib
import json
import math
import sys

from tensorboard.backend.event_processing.event_accumulator import (
    COMPRESSED_HISTOGRAMS, HISTOGRAMS, IMAGES, SCALARS, TENSORS, AUDIO, EventAccumulator)


def close(a, b, rel):
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


def load(path):
    guidance = {kind: 0 for kind in (SCALARS, HISTOGRAMS, COMPRESSED_HISTOGRAMS, IMAGES, TENSORS, AUDIO)}
    accumulator = EventAccumulator(path, size_guidance=guidance)
    accumulator.Reload()
    return accumulator


def dump(path):
    accumulator = load(path)
    tags = accumulator.Tags()
    found = {
        "scalars": {tag: [[e.step, e.value] for e in accumulator.Scalars(tag)] for tag in tags[SCALARS]},
        "histograms": {tag: [[e.step, e.histogram_value.min, e.histogram_value.max, e.histogram_value.num,
                              e.histogram_value.sum] for e in accumulator.Histograms(tag)] for tag in tags[HISTOGRAMS]},
        "images": {tag: [[e.step, e.width, e.height] for e in accumulator.Images(tag)] for tag in tags[IMAGES]},
    }
    print(json.dumps(found))
    return 0


def main(path, expected_path):
    with open(expected_path) as f:
        expected = json.load(f)
    guidance = {kind: 0 for kind in (SCALARS, HISTOGRAMS, COMPRESSED_HISTOGRAMS, IMAGES, TENSORS, AUDIO)}
    accumulator = EventAccumulator(path, size_guidance=guidance)
    accumulator.Reload()
    tags = accumulator.Tags()
    problems = []
    checked = 0

    def compare(kind, tag, got, want, fields):
        nonlocal checked
        if [e.step for e in got] != [w["step"] for w in want]:
            problems.append(f"{kind} {tag}: steps {[e.step for e in got]}, expected {[w['step'] for w in want]}")
            return
        for event, wish in zip(got, want):
            for field, read, rel in fields:
                if field in wish and not close(read(event), wish[field], rel):
                    problems.append(f"{kind} {tag} step {event.step}: {field} {read(event)!r}, expected {wish[field]!r}")
            checked += 1

    def present(kind, key, read):
        """(tag, expected events, events read) for the expected tags of one kind that are there."""
        for tag, want in expected.get(key, {}).items():
            if tag in tags[kind]:
                yield tag, want, read(tag)
            else:
                problems.append(f"{key} {tag}: missing ({key}: {sorted(tags[kind])})")

    for tag, want, got in present(SCALARS, "scalars", accumulator.Scalars):
        compare("scalar", tag, got, want, [("value", lambda e: e.value, 1e-6)])

    for tag, want, got in present(HISTOGRAMS, "histograms", accumulator.Histograms):
        for event in got:
            h = event.histogram_value
            if not close(sum(h.bucket), h.num, 1e-12) or len(h.bucket) != len(h.bucket_limit):
                problems.append(f"histogram {tag} step {event.step}: buckets {list(h.bucket)} do not add up to {h.num}")
            if any(b > a for a, b in zip(h.bucket_limit[1:], h.bucket_limit)):
                problems.append(f"histogram {tag} step {event.step}: bucket limits not increasing")
        compare("histogram", tag, got, want, [
            ("min", lambda e: e.histogram_value.min, 1e-12), ("max", lambda e: e.histogram_value.max, 1e-12),
            ("num", lambda e: e.histogram_value.num, 0), ("sum", lambda e: e.histogram_value.sum, 1e-9)])

    for tag, want, got in present(IMAGES, "images", accumulator.Images):
        for event in got:
            if not event.encoded_image_string.startswith(b"\x89PNG\r\n\x1a\n"):
                problems.append(f"image {tag} step {event.step}: not a PNG")
        compare("image", tag, got, want, [
            ("width", lambda e: e.width, 0), ("height", lambda e: e.height, 0)])
        for event, wish in zip(got, want):
            digest = hashlib.sha256(event.encoded_image_string).hexdigest()
            if "png_sha256" in wish and digest != wish["png_sha256"]:
                problems.append(f"image {tag} step {event.step}: PNG sha256 {digest}, expected {wish['png_sha256']}")

    if expected.get("exact_tags"):
        for kind, key in ((SCALARS, "scalars"), (HISTOGRAMS, "histograms"), (IMAGES, "images")):
            extra = set(tags[kind]) - set(expected.get(key, {}))
            if extra:
                problems.append(f"unexpected {key}: {sorted(extra)}")

    if accumulator.file_version != 2.0:
        problems.append(f"file_version {accumulator.file_version!r}, expected 2.0 (brain.Event:2)")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"OK: tensorboard's EventAccumulator read "
          f"{checked} events ({len(tags[SCALARS])} scalar, {len(tags[HISTOGRAMS])} histogram, "
          f"{len(tags[IMAGES])} image tags)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if sys.argv[1] == "--dump":
        sys.exit(dump(sys.argv[2]))
    sys.exit(main(sys.argv[1], sys.argv[2]))
