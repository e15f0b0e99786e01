"""role_span_labels: role-span masking as an op over an already padded (B, T) id tensor (public API).

The labels ChatCollator gives for the same rows, computed in one compiled pass by the state machine of
csrc/rolespan/rolespan_step.h (rolespan_labels_reference.py is the twin). For a batch a
tokenizer padded, or one already on its way to the model.
"""

from __future__ import annotations

import torch

from ..common.checks import check_out, check_storage, plain_arg
from ..common.views import readable, writable
from ..runtime.backend import eager
from . import rolespan_labels_library as library
from . import rolespan_labels_native as native
from .native import native_spec
from .rolespan_labels_checks import check_role_span_labels
from .spec_fields import spec_fields


def role_span_labels(input_ids, spec, *, attention_mask=None, start_index=None, out=None) -> torch.Tensor:
    """int64 labels of input_ids' shape: -100 on padding and masked tokens, the id where the spec learns it.

    input_ids: (B, T) int32/int64, any strides. attention_mask: (B, T) bool/int32/int64 with one run of 1s per
    row at its start (right padding) or its end (left padding); None: no padding. start_index: one int per
    row (a list, None entries meaning every turn, or a 1-D int tensor), as ChatCollator reads each feature's
    start_index. out: an int64 (B, T) tensor with rows of unit stride, written and returned.
    """
    input_ids, attention_mask, start_index = plain_arg(input_ids), plain_arg(attention_mask), plain_arg(start_index)
    starts = check_role_span_labels(input_ids, spec, attention_mask, start_index)
    for name, tensor in (("input_ids", input_ids), ("attention_mask", attention_mask), ("start_index", starts)):
        check_storage(name, tensor)  # after every conversion that may run user code
    inputs = [("input_ids", input_ids), ("attention_mask", attention_mask), ("start_index", starts)]
    if out is not None:
        check_out("out", out, tuple(input_ids.shape), torch.int64, inputs)
        if out.dim() == 2 and out.shape[1] > 1 and out.stride(1) != 1:
            raise ValueError("out: expected rows of unit stride (out.stride(1) == 1)")
        if not writable(out):
            return out.copy_(role_span_labels(input_ids, spec, attention_mask=attention_mask, start_index=starts))
    input_ids, attention_mask, starts = readable(input_ids), readable(attention_mask), readable(starts)
    if eager(input_ids, attention_mask, starts, out):
        labels = out if out is not None else torch.empty(input_ids.shape, dtype=torch.int64, device=input_ids.device)
        native.role_span_labels_into(input_ids, attention_mask, starts, None, labels, native_spec(spec))
        return labels
    fields = spec_fields(spec)
    if out is None:
        return library.role_span_labels(input_ids, attention_mask, starts, *fields)
    library.role_span_labels_out(input_ids, attention_mask, starts, *fields, out)
    return out
