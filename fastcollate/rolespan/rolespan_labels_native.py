"""role_span_labels on real tensors: one compiled call fills the output (GIL released); a CUDA tensor's labels
come from one kernel launch on torch's current stream, on its device. Without the extension the pure-Python
twin (rolespan_labels_reference.py) computes them.

Arguments arrive checked (rolespan_labels_checks.py); both the registered torch.library ops
(rolespan_labels_library.py) and the public function's eager path call role_span_labels_into. The attention
mask is the only input the kernels can find invalid; see runtime.backend.check_status for when the host waits
for that check.
"""

from __future__ import annotations

import torch

from ..runtime import backend
from ..runtime.backend import _core, check_status, kernel_target, require_cuda_built
from . import rolespan_labels_reference as labels_twin
from .rolespan_labels_checks import row_span
from .spec_fields import native_spec_from_fields, spec_from_fields


def role_span_labels_into(input_ids, attention_mask, start_index, fields, out, native_spec=None) -> None:
    """`fields`: the spec as spec_fields() gives it; `native_spec` its compiled form when the caller has it."""
    if input_ids.is_cuda:
        spec = (
            native_spec if native_spec is not None else (native_spec_from_fields(*fields) if backend.COMPILED else None)
        )
        return _cuda_into(input_ids, attention_mask, start_index, spec, out)
    if backend.COMPILED:
        spec = native_spec if native_spec is not None else native_spec_from_fields(*fields)
        _core.rolespan.labels(input_ids, attention_mask, start_index, spec, out)
        return
    out.copy_(
        labels_twin.role_span_labels(
            input_ids, spec_from_fields(*fields), attention_mask=attention_mask, start_index=start_index
        )
    )


def _cuda_into(input_ids, attention_mask, start_index, native_spec, out) -> None:
    require_cuda_built(input_ids)
    starts = None if start_index is None else start_index.to(torch.int64).contiguous()
    # Only an attention mask can be invalid (the ids are any values): without one, no status and no wait.
    status = None if attention_mask is None else torch.zeros(1, dtype=torch.int32, device=input_ids.device)
    _core.rolespan.kernel_labels(
        input_ids, attention_mask, starts, native_spec, out, status, **kernel_target(input_ids.device)
    )
    if status is None:
        return

    def recheck():
        mask = attention_mask.cpu()
        for r in range(mask.shape[0]):
            row_span(r, mask[r].tolist())

    check_status(status, recheck)
