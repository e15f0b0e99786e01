"""Integer fields in every form users pass: the Python twin of csrc/python/reader_forms.cpp (same forms, same
messages).

* torch tensors: int32/int64, dense, on the CPU (kept as they are);
* numpy arrays and other buffer-protocol objects of any integer dtype and byte order (converted once to
  int64 unless already native int32/int64);
* lists or tuples of ints (1-D), or of such lists (2-D): every value range-checked, an int outside int64 names
  its position; bools are not ints here.

`int_tensor` returns a CPU int32/int64 tensor; an unusable value is a ValueError "sample {i}: {field}: ...".
"""

from __future__ import annotations

import operator
from typing import Optional

import numpy as np
import torch

from .checks import check_int_tensor, index_failure, is_tensor, require, sample_error, stored_items

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT_FORMATS = set("bBhHiIlLqQ")


def expected_kind(ndim: int) -> str:
    return (
        "a 1-D torch.Tensor, numpy array or list of ints"
        if ndim == 1
        else "a 2-D torch.Tensor, numpy array or list of lists of ints"
    )


def _at(*index) -> str:
    return f"position {index[0]}" if len(index) == 1 else f"position ({index[0]}, {index[1]})"


def _int_values(i: Optional[int], field: str, seq, kind: str, row: Optional[int]) -> list:
    out = []
    for j, v in enumerate(seq):
        where = _at(j) if row is None else _at(row, j)
        if type(v) is not int:
            try:
                if isinstance(v, bool) or not hasattr(type(v), "__index__"):
                    raise TypeError
                v = operator.index(v)
            except TypeError:  # not an int, or an __index__ that refuses (a float tensor)
                raise sample_error(i, field, f"expected {kind}, got {type(v).__name__} at {where}") from None
            except Exception as e:  # an __index__ that fails otherwise (a meta tensor)
                problem = f"expected {kind}, got {type(v).__name__} at {where} ({index_failure(e)})"
                raise sample_error(i, field, problem) from e
        if not INT64_MIN <= v <= INT64_MAX:
            raise sample_error(i, field, f"value {v} at {where} does not fit in int64")
        out.append(v)
    return out


def _from_sequence(i, field, value, ndim: int) -> torch.Tensor:
    # Every list is read from a copy of its stored items taken before any item is converted: an item's __index__
    # is Python code that may extend or clear the lists it sits in; what is read is the lists as they were passed.
    value = stored_items(value)
    if ndim == 1:
        return torch.tensor(_int_values(i, field, value, "a list of ints", None), dtype=torch.int64)
    snapshots = []
    for r, row in enumerate(value):
        if not isinstance(row, (list, tuple)):
            raise sample_error(i, field, f"expected a list of lists of ints, got {type(row).__name__} at row {r}")
        snapshots.append(stored_items(row))
        if len(snapshots[r]) != len(snapshots[0]):
            raise sample_error(i, field, f"row {r} has {len(snapshots[r])} entries, row 0 has {len(snapshots[0])}")
    rows = [_int_values(i, field, row, "a list of lists of ints", r) for r, row in enumerate(snapshots)]
    cols = len(rows[0]) if rows else 0
    return torch.tensor(rows, dtype=torch.int64).reshape(len(rows), cols)


def _format_code(fmt: str) -> Optional[str]:
    code = fmt[1:] if fmt[:1] in ("<", ">", "!", "=", "@") else fmt
    return code if len(code) == 1 and code in INT_FORMATS else None


def _from_buffer(i, field, value, ndim: int) -> torch.Tensor:
    view = memoryview(value)
    if _format_code(view.format) is None:
        raise sample_error(i, field, f"expected an integer dtype, got buffer format '{view.format}'")
    if view.ndim != ndim:
        raise sample_error(i, field, f"expected a {ndim}-D array, got {view.ndim} dimensions")
    if any(s % view.itemsize for s in view.strides):
        raise sample_error(i, field, "expected strides that are whole numbers of elements")
    numel = 0 if 0 in view.shape else int(np.prod(view.shape))
    extent = 1 + sum((n - 1) * abs(s // view.itemsize) for n, s in zip(view.shape, view.strides))
    if numel > extent:
        raise sample_error(
            i,
            field,
            f"expected an array whose elements do not overlap: {numel} elements over "
            f"{extent} distinct ones (np.broadcast_to?); pass a contiguous copy",
        )
    array = np.asarray(view)  # by the buffer protocol, as the compiled path reads it (bytes: uint8)
    if array.dtype.kind == "u" and array.dtype.itemsize == 8:
        too_big = np.argwhere(array > INT64_MAX)
        if len(too_big):
            where = _at(*too_big[0].tolist())
            raise sample_error(i, field, f"value {array[tuple(too_big[0])]} at {where} does not fit in int64")
    if array.dtype.kind == "i" and array.dtype.itemsize in (4, 8) and array.dtype.isnative:
        return torch.from_numpy(np.array(array))  # a writable contiguous copy, as torch.from_numpy needs
    return torch.from_numpy(array.astype(np.int64))


def int_tensor(i: Optional[int], field: str, value, ndim: int) -> torch.Tensor:
    """The field as a CPU int32/int64 tensor of `ndim` dimensions, or ValueError naming sample and field."""
    require(i, field, value)
    if is_tensor(value):
        return check_int_tensor(i, field, value, ndim)
    if isinstance(value, (list, tuple)):
        return _from_sequence(i, field, value, ndim)
    try:
        memoryview(value)
    except TypeError:
        raise sample_error(i, field, f"expected {expected_kind(ndim)}, got {type(value).__name__}") from None
    return _from_buffer(i, field, value, ndim)
