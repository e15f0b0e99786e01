"""Output sizes, checked before anything is allocated: the Python twin of csrc/common/checked_size.h (same
rule, same messages). A tensor larger than a 64-bit process can address is a ValueError naming what asked
for it, on every backend, instead of an overflow inside the compiled path or a failed allocation here."""

from __future__ import annotations

# 2**47 bytes (128 TiB): the user address space of a 64-bit process (x86-64, AArch64 with 4-level paging).
MAX_TENSOR_BYTES = 2**47
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def padded_width(rows: int, longest: int, multiple: int, what: str) -> int:
    """ceil(longest / multiple) * multiple; ValueError naming `what` unless rows x width int64 fit."""
    width = -(-longest // multiple) * multiple
    if width * rows * 8 > MAX_TENSOR_BYTES:
        raise ValueError(
            f"{what}: padding {rows} rows of up to {longest} tokens to a multiple of {multiple} needs "
            f"{rows} x {width} int64 values, more than a process can address"
        )
    return width


def stream_too_big(sample: int, stream: str, codebooks: int) -> ValueError:
    return ValueError(
        f"sample {sample}: audio_ids_concat: the batch's {stream} stream of {codebooks} codebooks "
        "grows past what a process can address at this sample"
    )


def fits(rows: int, cols: int, elem_bytes: int = 8) -> bool:
    """rows x cols values fit, and so does a row of cols int64 (the compiled path's checked sums)."""
    return cols <= MAX_TENSOR_BYTES // 8 and rows * cols * elem_bytes <= MAX_TENSOR_BYTES


def out_of_int64(value: int) -> bool:
    return not INT64_MIN <= value <= INT64_MAX
