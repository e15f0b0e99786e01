"""Seeing what a batch learns: label counts, per-token explanations, and the `inspect` command."""

from .explain import explain
from .label_stats import LabelStats, label_stats
from .token_view import show_labels

__all__ = ["LabelStats", "explain", "label_stats", "show_labels"]
