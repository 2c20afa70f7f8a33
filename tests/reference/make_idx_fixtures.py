"""Writes the small IDX files read by tests/data/idx_test.cpp: one uint8 rank-3 file, plain
and gzip-compressed (gzip header time fixed, so the output is byte-identical each run).

Run from the repository root: python3 tests/reference/make_idx_fixtures.py
"""
import gzip
import struct

VALUES = bytes((i * 37 + 11) % 256 for i in range(2 * 3 * 4))
DATA = b"\x00\x00\x08\x03" + struct.pack(">III", 2, 3, 4) + VALUES

with open("tests/reference/idx_u8_2x3x4.idx", "wb") as f:
    f.write(DATA)
with open("tests/reference/idx_u8_2x3x4.idx.gz", "wb") as raw:
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(DATA)
