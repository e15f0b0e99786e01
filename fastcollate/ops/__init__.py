"""Token-tensor operations usable outside the collators (public API, re-exports only): the multi-codebook delay
pattern (padded and ragged, apply and revert; fastcollate/delay/) and role-span labels of a padded batch
(fastcollate/rolespan/rolespan_labels.py).

Each op lives with its capability: a public function, its pure-Python twin (the specification, `*_reference.py`),
its argument checks, the compiled glue (CPU and CUDA) and its torch.library registration (torch.compile, meta
tensors: `torch.ops.fastcollate.*`).
"""

from ..delay.delay_pattern import (
    RaggedCodes,
    RaggedDelayed,
    apply_delay_pattern,
    apply_delay_pattern_ragged,
    revert_delay_pattern,
    revert_delay_pattern_ragged,
)
from ..rolespan.rolespan_labels import role_span_labels

__all__ = [
    "RaggedCodes",
    "RaggedDelayed",
    "apply_delay_pattern",
    "apply_delay_pattern_ragged",
    "revert_delay_pattern",
    "revert_delay_pattern_ragged",
    "role_span_labels",
]
