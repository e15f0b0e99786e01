"""ChatCollator batches given as Arrow data (what a Hugging Face `datasets.Dataset` holds underneath), read
zero-copy: each chunk's id values and offsets become numpy views of the Arrow buffers, handed to the compiled
path as they are (int32/int64 ids are never copied; other integer types are converted once, natively).

Accepted: a `pyarrow.ListArray` / `LargeListArray` of integer ids, a `ChunkedArray` of those, or a
`Table` / `RecordBatch` with an `input_ids` column and an optional `start_index` column. pyarrow is imported
only when such an object is passed.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from ..common.checks import check_start_index

FEATURE_COLUMNS = ("input_ids", "start_index")


def is_arrow(obj) -> bool:
    return type(obj).__module__.split(".")[0] == "pyarrow"


def _chunk(chunk, index_base: int) -> Tuple[np.ndarray, np.ndarray]:
    """(values, offsets) numpy views of one list array's buffers."""
    import pyarrow as pa

    if not (pa.types.is_list(chunk.type) or pa.types.is_large_list(chunk.type)):
        raise ValueError(f"input_ids: expected an Arrow list<int> column, got {chunk.type}")
    if chunk.null_count:
        row = next(k for k, valid in enumerate(chunk.is_valid().to_pylist()) if not valid)
        raise ValueError(f"sample {index_base + row}: input_ids: is null")
    offsets = chunk.offsets.to_numpy(zero_copy_only=True)
    values = chunk.values  # the whole child array: the offsets of a sliced chunk index into it
    if not pa.types.is_integer(values.type):
        raise ValueError(f"input_ids: expected integer ids, got Arrow type {values.type}")
    if values.null_count:
        at = int(np.flatnonzero(~values.is_valid().to_numpy(zero_copy_only=False))[0])
        row = int(np.searchsorted(offsets, at, side="right")) - 1
        raise ValueError(f"sample {index_base + row}: input_ids: null id at position {at - int(offsets[row])}")
    return values.to_numpy(zero_copy_only=True), offsets


def arrow_batch(obj, unread_reason: Optional[str], ignore_keys=frozenset()):
    """([(values, offsets) per chunk], start indices or None) of an Arrow batch; ValueError naming what is wrong."""
    import pyarrow as pa

    starts = None
    if isinstance(obj, (pa.Table, pa.RecordBatch)):
        for name in obj.column_names:
            if name not in FEATURE_COLUMNS and name not in ignore_keys:
                raise ValueError(
                    f"{name}: is not a feature ChatCollator reads ({', '.join(FEATURE_COLUMNS)}): "
                    "drop the column or list it in ignore_keys to skip it"
                )
        if "input_ids" not in obj.column_names:
            raise ValueError("input_ids: missing from the Arrow batch's columns")
        if "start_index" in obj.column_names and "start_index" not in ignore_keys:
            starts = [
                check_start_index(i, v, unread_reason) for i, v in enumerate(obj.column("start_index").to_pylist())
            ]
        obj = obj.column("input_ids")
    chunks: List = obj.chunks if isinstance(obj, pa.ChunkedArray) else [obj]
    out, base = [], 0
    for chunk in chunks:
        out.append(_chunk(chunk, base))
        base += len(chunk)
    return out, starts


def rows_of(chunks) -> list:
    """Every row as a numpy view (the Python twin's and the on_empty policy's per-sample form)."""
    return [values[offsets[k] : offsets[k + 1]] for values, offsets in chunks for k in range(len(offsets) - 1)]
