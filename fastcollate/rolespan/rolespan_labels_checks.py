"""Argument checks of the role_span_labels op: a ValueError that names the argument, never a crash inside.

Shared by the public op (rolespan_labels.py) and its pure-Python twin (rolespan_labels_reference.py). The
attention mask's values are checked where they are read: by the twin (row_span) and by the compiled code with
the same messages.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch

from ..common.checks import ID_DTYPES, check_int, check_same_device, check_tensor, values_on
from .spec import RoleSpanSpec

MASK_DTYPES = (torch.bool, torch.int32, torch.int64)


def check_role_span_labels(input_ids, spec, attention_mask, start_index) -> Optional[torch.Tensor]:
    """Checks the arguments of role_span_labels; returns start_index as an int64 (B,) tensor, or None."""
    check_tensor("input_ids", input_ids, (2,), ID_DTYPES)
    if not isinstance(spec, RoleSpanSpec):
        raise ValueError(f"spec: expected a RoleSpanSpec, got {type(spec).__name__}")
    rows = input_ids.shape[0]
    if attention_mask is not None:
        check_tensor("attention_mask", attention_mask, (2,), MASK_DTYPES)
        if attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"attention_mask: expected the shape of input_ids {tuple(input_ids.shape)}, "
                f"got {tuple(attention_mask.shape)}"
            )
        check_same_device("attention_mask", attention_mask, "input_ids", input_ids)
    if start_index is None:
        return None
    reason = spec.unread_start_index_reason()  # as in every collator: a start_index is never silently ignored
    if reason is not None and (
        isinstance(start_index, torch.Tensor)
        or (isinstance(start_index, (list, tuple)) and any(v is not None for v in start_index))
    ):
        raise ValueError(f"start_index: is given, but {reason}")
    if isinstance(start_index, torch.Tensor):
        check_tensor("start_index", start_index, (1,), ID_DTYPES)
        check_same_device("start_index", start_index, "input_ids", input_ids)
    elif isinstance(start_index, (list, tuple)):
        # None: every turn, as ChatCollator reads a feature without start_index (the state machine's 0).
        start_index = values_on(
            [0 if v is None else check_int(f"start_index: entry {j}", v) for j, v in enumerate(start_index)], input_ids
        ).long()
    else:
        raise ValueError(
            f"start_index: expected a 1-D int tensor or a list (one entry per row), got {type(start_index).__name__}"
        )
    if start_index.shape[0] != rows:
        raise ValueError(f"start_index: expected {rows} entries (one per row), got {start_index.shape[0]}")
    # A spec that reads no start_index got here only with None entries, "not given" as for a feature without
    # one: no start_index, rather than a tensor of zeros a later check of the same arguments would take as given.
    return start_index if reason is None else None


def row_span(row: int, mask: Sequence[int]) -> Tuple[int, int]:
    """The columns [begin, end) of a row's tokens: its attention mask is 0 or 1 everywhere, with one run of 1s
    at the start (right padding) or at the end (left padding); no 1 at all is an empty row."""
    for c, v in enumerate(mask):
        if v not in (0, 1):
            raise ValueError(f"attention_mask: row {row} has {int(v)} at column {c}, expected 0 or 1")
    ones = [c for c, v in enumerate(mask) if v == 1]
    if not ones:
        return 0, 0
    begin, end = ones[0], ones[-1] + 1
    if len(ones) != end - begin or (begin != 0 and end != len(mask)):
        raise ValueError(
            f"attention_mask: row {row} is not one run of 1s at the start (right padding) or the end (left padding)"
        )
    return begin, end
