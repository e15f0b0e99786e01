"""Output sizes, checked before anything is allocated: the Python twin of csrc/common/checked_size.h (same
rule, same messages). A tensor larger than a 64-bit process can address is a ValueError naming what asked
for it, on every backend, instead of an overflow inside the compiled path or a failed allocation here; one
larger than the machine's memory is a RuntimeError (the class of torch's failed allocations) naming it too."""

from __future__ import annotations

import os

# 2**47 bytes (128 TiB): the user address space of a 64-bit process (x86-64, AArch64 with 4-level paging).
MAX_TENSOR_BYTES = 2**47
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _machine_memory() -> int:
    """Physical memory in bytes (sysconf, as csrc/common/checked_size.h reads it), 0 where unknown."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return 0
    return pages * page if pages > 0 and page > 0 else 0


MACHINE_MEMORY = _machine_memory()


def check_fits_memory(nbytes: int, what: str) -> None:
    """RuntimeError "{what} needs ..." when one output of `nbytes` is larger than the machine's memory: refused
    before anything is allocated, on every backend, instead of an allocator's error naming nothing."""
    if MACHINE_MEMORY and nbytes > MACHINE_MEMORY:
        raise RuntimeError(f"{what} needs {nbytes} bytes, more than this machine's memory ({MACHINE_MEMORY} bytes)")


def _padding_message(rows: int, longest: int, multiple: int, what: str, limit: str) -> str:
    width = -(-longest // multiple) * multiple
    return (
        f"{what}: padding {rows} rows of up to {longest} tokens to a multiple of {multiple} needs "
        f"{rows} x {width} int64 values, more than {limit}"
    )


def padded_width(rows: int, longest: int, multiple: int, what: str) -> int:
    """ceil(longest / multiple) * multiple; ValueError naming `what` unless rows x width int64 fit."""
    width = -(-longest // multiple) * multiple
    if width * rows * 8 > MAX_TENSOR_BYTES:
        raise ValueError(_padding_message(rows, longest, multiple, what, "a process can address"))
    return width


def check_padded_memory(rows: int, longest: int, multiple: int, what: str) -> None:
    """After every other check of a batch, before its outputs are allocated: RuntimeError naming `what` unless
    the padded rows x width int64 values fit in the machine's memory (arguments as padded_width's)."""
    width = -(-longest // multiple) * multiple
    if MACHINE_MEMORY and width * rows * 8 > MACHINE_MEMORY:
        limit = f"this machine's memory ({MACHINE_MEMORY} bytes)"
        raise RuntimeError(_padding_message(rows, longest, multiple, what, limit))


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
