"""The torch.library namespace of fastcollate's ops (`torch.ops.fastcollate.*`), shared by every capability
that registers one (fastcollate/delay/library.py, fastcollate/rolespan/rolespan_labels_library.py)."""

from __future__ import annotations

import torch

NAMESPACE = "fastcollate"


def custom_op(name: str, mutates_args=()):
    """The decorator registering `fastcollate::<name>`."""
    return torch.library.custom_op(f"{NAMESPACE}::{name}", mutates_args=mutates_args)
