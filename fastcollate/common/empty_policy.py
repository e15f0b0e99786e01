"""What every collator does with a sample that learns nothing (`on_empty`): the silent all -100 failure."""

from __future__ import annotations

import warnings
from typing import Dict, List, Optional

ON_EMPTY = ("error", "warn", "drop", "keep")


class EmptySampleWarning(UserWarning):
    """A batch has samples with no learned token (on_empty="warn")."""


def check_on_empty(value: str) -> str:
    if value not in ON_EMPTY:
        raise ValueError(f"on_empty: expected one of {ON_EMPTY}, got {value!r}")
    return value


def handle_empty(policy: str, reasons: Dict[int, str], batch_size: int) -> Optional[List[int]]:
    """Apply `policy` to the samples in `reasons` (index -> why nothing is learned).

    Raises for "error", warns once for "warn"; returns the indices to keep for "drop", else None.
    """
    if not reasons or policy == "keep":
        return None
    empty = sorted(reasons)
    if policy == "error":
        i = empty[0]
        raise ValueError(
            f"sample {i}: labels: no learned token: {reasons[i]} (on_empty='error'; "
            f"{len(empty)} such sample(s) in this batch)"
        )
    if policy == "warn":
        listed = "; ".join(f"sample {i}: {reasons[i]}" for i in empty)
        warnings.warn(
            f"fastcollate: {len(empty)} sample(s) with no learned token: {listed}", EmptySampleWarning, stacklevel=4
        )
        return None
    keep = [i for i in range(batch_size) if i not in reasons]  # "drop"
    if not keep:
        raise ValueError(f"batch: every sample has no learned token (on_empty='drop'): sample 0: {reasons[0]}")
    return keep
