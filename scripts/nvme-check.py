#!/usr/bin/env python3
"""Check an NVMe backing image against what iodma_nvme_tool says it wrote.

The tool prints "# seed SEED" and one "# extent OFFSET LENGTH" line per write
(results.txt of the guest, or its stdout). Every byte of the image inside an
extent must be the tool's pattern (the 8-byte word at offset o is
mix(seed, o // 8), little-endian: src/nvme/iodma_nvme_tool.c), every other
byte zero. Prints one line saying so; exit status 0 when the image matches.
"""

import argparse
import re
import sys

M64 = (1 << 64) - 1


def mix(seed, word):
    z = (seed + word * 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def pattern(seed, off, length):
    """The pattern's bytes from disk offset off (multiple of 8 or not)."""
    first = off // 8
    last = (off + length + 7) // 8
    words = b"".join(mix(seed, w).to_bytes(8, "little") for w in range(first, last))
    start = off - first * 8
    return words[start:start + length]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("image")
    ap.add_argument("log", help="the tool's output (e.g. the guest's results.txt)")
    args = ap.parse_args()

    seed = None
    extents = []
    with open(args.log, errors="replace") as f:
        for line in f:
            m = re.match(r"^\s*#\s*seed\s+(\d+)\s*$", line)
            if m:
                seed = int(m.group(1))
            m = re.match(r"^\s*#\s*extent\s+(\d+)\s+(\d+)\s*$", line)
            if m:
                extents.append((int(m.group(1)), int(m.group(2))))
    if seed is None or not extents:
        print(f"nvme-check: no seed or no extents in {args.log}")
        return 1
    with open(args.image, "rb") as f:
        image = bytearray(f.read())
    written = 0
    for off, length in extents:
        want = pattern(seed, off, length)
        got = bytes(image[off:off + length])
        if got != want:
            bad = next(i for i in range(len(want)) if i >= len(got) or got[i] != want[i])
            print(f"nvme-check: MISMATCH in extent {off}+{length} at byte {off + bad}")
            return 1
        image[off:off + length] = bytes(length)
        written += length
    if any(image):
        bad = next(i for i, b in enumerate(image) if b)
        print(f"nvme-check: MISMATCH: byte {bad} outside every extent is not zero")
        return 1
    print(f"nvme-check: image matches: {len(extents)} extents, {written} bytes of pattern "
          f"(seed {seed}), the other {len(image) - written} bytes zero")
    return 0


if __name__ == "__main__":
    sys.exit(main())
