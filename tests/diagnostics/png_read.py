"""Reading a PNG back into an (H, W, 3) uint8 array with the standard library and numpy: 8-bit RGB or RGBA,
not interlaced, any of the five row filters (headless Chromium's screenshots use them all)."""

import struct
import zlib

import numpy as np


def read_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unsupported PNG: {header}"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if kind == 0:
            cur = row
        elif kind == 1:  # Sub: a running sum per channel
            cur = np.cumsum(row.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            cur = (row + prev) % 256
        else:  # Average, Paeth: each byte depends on the one bpp before it
            cur = _sequential(kind, row.tolist(), prev.tolist(), bpp)
        out[y] = cur
        prev = np.asarray(cur, dtype=np.int32)
    return out.reshape(height, width, bpp)[:, :, :3]


def _sequential(kind: int, row, prev, bpp: int):
    cur = [0] * len(row)
    for i, x in enumerate(row):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            cur[i] = (x + (a + b) // 2) & 255
            continue
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        cur[i] = (x + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return np.array(cur, dtype=np.int32)


def count_color(image: np.ndarray, rgb) -> int:
    """Pixels of exactly this color."""
    return int(np.all(image == np.array(rgb, dtype=np.uint8), axis=2).sum())
