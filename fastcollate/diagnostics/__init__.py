"""Seeing what a batch learns: label counts, per-token explanations, and the `inspect` command."""

from .explain import explain
from .label_stats import LabelStats, label_stats

__all__ = ["LabelStats", "explain", "label_stats"]
