"""A stand-in QR screenshot for simulated scans: a PNG drawn with the standard library alone."""

from __future__ import annotations

import random
import struct
import zlib

MODULES = 25


def simulated_qrcode_png(seed: str = "", *, scale: int = 8, border: int = 4) -> bytes:
    """A QR-looking (not decodable) black and white PNG, the same for the same seed."""
    rng = random.Random(seed)
    grid = [[rng.random() < 0.5 for _ in range(MODULES)] for _ in range(MODULES)]
    for top, left in ((0, 0), (0, MODULES - 7), (MODULES - 7, 0)):
        _finder(grid, top, left)
    size = (MODULES + 2 * border) * scale
    rows = []
    for y in range(size):
        gy = y // scale - border
        row = bytearray([0])  # filter type: none
        for x in range(size):
            gx = x // scale - border
            dark = 0 <= gx < MODULES and 0 <= gy < MODULES and grid[gy][gx]
            row.append(0 if dark else 255)
        rows.append(bytes(row))
    return _png(size, size, b"".join(rows))


def _finder(grid: list[list[bool]], top: int, left: int) -> None:
    for dy in range(7):
        for dx in range(7):
            ring = max(abs(dx - 3), abs(dy - 3))
            grid[top + dy][left + dx] = ring != 2


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
