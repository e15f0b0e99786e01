"""Token-tensor operations usable outside the collators: the multi-codebook delay pattern."""

from .delay_pattern import apply_delay_pattern, revert_delay_pattern

__all__ = ["apply_delay_pattern", "revert_delay_pattern"]
