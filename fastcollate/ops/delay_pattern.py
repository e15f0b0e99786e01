"""The multi-codebook delay pattern (MusicGen): codebook k is shifted right by k steps.

For codes of shape (K, L) the result has shape (K, L + K - 1): row k is `k` copies of `bos`, the row's L
codes, then `K - 1 - k` copies of `pad`. Upstream's `build_delay_pattern_mask` builds the same thing with
triangular masks; this is the plain loop that defines it, and `revert_delay_pattern` undoes it.
"""

from __future__ import annotations

import torch


def apply_delay_pattern(codes: torch.Tensor, bos: int, pad: int) -> torch.Tensor:
    num_codebooks, length = codes.shape
    out = torch.full((num_codebooks, length + num_codebooks - 1), pad, dtype=torch.long)
    for k in range(num_codebooks):
        out[k, :k] = bos
        out[k, k:k + length] = codes[k]
    return out


def revert_delay_pattern(delayed: torch.Tensor) -> torch.Tensor:
    num_codebooks, width = delayed.shape
    length = width - num_codebooks + 1
    return torch.stack([delayed[k, k:k + length] for k in range(num_codebooks)]) if num_codebooks else delayed
