"""PNG files from an (H, W, 3) uint8 array, with the standard library only (zlib): the pictures fastcollate
draws (`fastcollate plan --plot`) need no plotting package."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rgb: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 image as a PNG (8-bit RGB, no filter)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.dtype} of shape {rgb.shape}")
    height, width = rgb.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + _chunk(b"IEND", b"")
    )


# Digits, capitals and the few signs chart labels need, 3 x 5 pixels each (rows top to bottom).
_GLYPHS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001001001001",
    "8": "111101111101111",
    "9": "111101111001111",
    "%": "101001010100101",
    ".": "000000000000010",
    " ": "000000000000000",
    ":": "000010000010000",
    "-": "000000111000000",
    "A": "010101111101101",
    "B": "110101110101110",
    "C": "111100100100111",
    "D": "110101101101110",
    "E": "111100111100111",
    "F": "111100111100100",
    "G": "111100101101111",
    "H": "101101111101101",
    "I": "111010010010111",
    "K": "101101110101101",
    "L": "100100100100111",
    "M": "101111111101101",
    "N": "110101101101101",
    "O": "111101101101111",
    "P": "111101111100100",
    "R": "110101110101101",
    "S": "111100111001111",
    "T": "111010010010010",
    "U": "101101101101111",
    "V": "101101101101010",
    "W": "101101101111101",
    "X": "101101010101101",
    "Y": "101101010010010",
}


def draw_text(image: np.ndarray, text: str, x: int, y: int, color, scale: int = 2) -> None:
    """`text` (digits, capitals, ' %.:-') at (x, y) (top left), each glyph 3 x 5 pixels times `scale`."""
    for k, ch in enumerate(text):
        bits = np.array([int(b) for b in _GLYPHS[ch]], dtype=bool).reshape(5, 3)
        block = np.kron(bits, np.ones((scale, scale), dtype=bool))
        x0 = x + k * 4 * scale
        region = image[y : y + block.shape[0], x0 : x0 + block.shape[1]]
        region[block[: region.shape[0], : region.shape[1]]] = color
