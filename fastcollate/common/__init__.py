"""What every collator shares: the ignore label, boundary validation, the on_empty policy (mirrors csrc/common)."""

from .empty_policy import EmptySampleWarning
from .labels import IGNORE

__all__ = ["EmptySampleWarning", "IGNORE"]
