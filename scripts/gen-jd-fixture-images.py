#!/usr/bin/env python3
"""Generates the JD default-fixture images (spec jd.md §8.1) as 8-bit RGB PNGs.

Prints one JSON object {name: standard Base64 of the PNG} on stdout, in this order:

    ramp_lr    256x256 gray ramp left->right, v = x              (food / Milk_salt_soda_v1)
    ramp_tb    256x256 gray ramp top->bottom, v = y              (food / Green_tea_v2)
    checker32  256x256 checkerboard of 32 px squares, black first (food / Rice_cracker_v1)
    ramp_diag  256x256 diagonal ramp, v = (x + y) // 2           (shop / 1002039492343.jpg)
    ramp_rl    256x256 gray ramp right->left, v = 255 - x        (shop / 1002039492344.jpg)
    checker64  256x256 checkerboard of 64 px squares, black first (shop / 1002039492345.jpg)
    tiny       100x100 gray ramp left->right, v = x * 255 // 99  (tests only: below JD's 201 px minimum)

Every pixel is gray (R = G = B = v). "Checkerboard, black first": v = 255 if (x//S + y//S) is odd,
else 0, so the top-left square is black. The Rust side (src/similarity.rs tests) pins the average
hashes of these exact patterns; change a pattern here and those pins must change too.

Only the Python 3 standard library is used. With --out-dir DIR the PNG files are also written there as
NAME.png. Output is deterministic for a given zlib build (filter "Sub" on every row, level 9).
"""

import argparse
import base64
import json
import os
import struct
import sys
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def ramp_lr(x, y):
    return x


def ramp_tb(x, y):
    return y


def checker(size):
    def pattern(x, y):
        return 255 if (x // size + y // size) % 2 else 0

    return pattern


def ramp_diag(x, y):
    return (x + y) // 2


def ramp_rl(x, y):
    return 255 - x


def tiny_ramp(x, y):
    return x * 255 // 99


# (name, width, height, gray value of pixel (x, y)); order as in spec jd.md §8.1, then test-only images.
PATTERNS = [
    ("ramp_lr", 256, 256, ramp_lr),
    ("ramp_tb", 256, 256, ramp_tb),
    ("checker32", 256, 256, checker(32)),
    ("ramp_diag", 256, 256, ramp_diag),
    ("ramp_rl", 256, 256, ramp_rl),
    ("checker64", 256, 256, checker(64)),
    ("tiny", 100, 100, tiny_ramp),
]


def chunk(kind, data):
    """One PNG chunk: length, type, data, CRC-32 over type + data."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def sub_filtered_row(rgb):
    """Filter type 1 (Sub): each byte minus the byte one pixel (3 bytes) to its left."""
    out = bytearray([1])
    for i, byte in enumerate(rgb):
        left = rgb[i - 3] if i >= 3 else 0
        out.append((byte - left) & 0xFF)
    return out


def encode_png(width, height, gray):
    """An 8-bit RGB (color type 2), non-interlaced PNG of the gray function."""
    raw = bytearray()
    for y in range(height):
        row = bytearray()
        for x in range(width):
            v = gray(x, y)
            row += bytes((v, v, v))
        raw += sub_filtered_row(row)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", help="also write NAME.png files into this directory")
    args = parser.parse_args()

    images = {}
    for name, width, height, gray in PATTERNS:
        png = encode_png(width, height, gray)
        images[name] = base64.b64encode(png).decode("ascii")
        if args.out_dir:
            os.makedirs(args.out_dir, exist_ok=True)
            with open(os.path.join(args.out_dir, name + ".png"), "wb") as f:
                f.write(png)

    json.dump(images, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
