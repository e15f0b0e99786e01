"""Token-tensor operations usable outside the collators (mirrors csrc/ops): the multi-codebook delay pattern
(padded and ragged, apply and revert) and role-span labels of a padded batch.

Each op: a public function (`delay_pattern.py`, `role_span_labels.py`), its pure-Python twin, the
specification (`*_reference.py`), argument checks shared by both (`checks.py`), the compiled glue
(`native.py`) and its torch.library registration (`library.py`: torch.compile, meta tensors).
"""

from .delay_pattern import (RaggedCodes, RaggedDelayed, apply_delay_pattern, apply_delay_pattern_ragged,
                            revert_delay_pattern, revert_delay_pattern_ragged)
from .role_span_labels import role_span_labels

__all__ = ["RaggedCodes", "RaggedDelayed", "apply_delay_pattern", "apply_delay_pattern_ragged",
           "revert_delay_pattern", "revert_delay_pattern_ragged", "role_span_labels"]
