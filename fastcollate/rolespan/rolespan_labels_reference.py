"""role_span_labels in plain Python: each row's tokens (from its attention mask) labelled on their own by the
role-span reference (reference.py), exactly as ChatCollator labels the same ids. The
specification the compiled op is tested against, and the fallback when the extension is missing."""

from __future__ import annotations

import torch

from ..common.labels import IGNORE
from .reference import mask_labels_reference
from .rolespan_labels_checks import check_role_span_labels, row_span


def role_span_labels(input_ids, spec, *, attention_mask=None, start_index=None) -> torch.Tensor:
    """int64 labels of input_ids' shape: -100 on padding, the spec's labels on every row's tokens."""
    starts = check_role_span_labels(input_ids, spec, attention_mask, start_index)
    rows, cols = input_ids.shape
    labels = torch.full((rows, cols), IGNORE, dtype=torch.int64)
    for r in range(rows):
        begin, end = (0, cols) if attention_mask is None else row_span(r, attention_mask[r].tolist())
        start = None if starts is None else int(starts[r])
        labels[r, begin:end] = mask_labels_reference(input_ids[r, begin:end], spec, start)
    return labels
