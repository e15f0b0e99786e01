"""What a packed batch gives the model so that its samples do not attend to each other.

A packed row holds several samples back to back. A causal attention over the whole row lets every sample see
the ones before it; only an attention told where the samples begin keeps them apart:

* flash-attention varlen (transformers `attn_implementation="flash_attention_2"`) reads the boundaries from
  `cu_seq_lens_q` / `cu_seq_lens_k` (int32, B + 1 cumulative lengths) and `max_length_q` / `max_length_k`,
  the keys and dtypes of transformers' own `DataCollatorWithFlattening(return_flash_attn_kwargs=True)`
  (in releases that have that option; 4.46, which the tests run, has not, and derives the same boundaries
  from `position_ids`, restarting at 0 per sample);
* eager and sdpa read none of those: they need `block_causal_mask`, a 4-D additive mask.
"""

from __future__ import annotations

import torch


def varlen_fields(cu_seq_lens: torch.Tensor, max_length: int) -> dict:
    """The flash-attention varlen keyword arguments of a packed batch.

    Self-attention: queries and keys are the same tokens, so `_q` and `_k` are one int32 tensor of B + 1
    entries and one int (the longest sample), as in transformers' DataCollatorWithFlattening.
    """
    return {
        "cu_seq_lens_q": cu_seq_lens,
        "cu_seq_lens_k": cu_seq_lens,
        "max_length_q": max_length,
        "max_length_k": max_length,
    }


def block_causal_mask(cu_seq_lens: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(1, 1, T, T) additive mask of `dtype`: 0 where query i may attend key j (same sample and j <= i),
    torch.finfo(dtype).min elsewhere.

    This is the "inverted" 4-D form transformers' Llama (4.46 and later) takes as `attention_mask` and uses as
    it is, on eager (added to the scores) and sdpa (passed as `attn_mask`). T * T elements: 256 MiB at
    T = 8192 in float32. Built per sample block from one causal template, so the cost is one fill of T * T
    plus a copy of each sample's square.
    """
    bounds = cu_seq_lens.tolist()
    total = bounds[-1]
    lowest = torch.finfo(dtype).min
    mask = torch.full((total, total), lowest, dtype=dtype)
    longest = max((b - a for a, b in zip(bounds, bounds[1:])), default=0)
    causal = torch.full((longest, longest), lowest, dtype=dtype).triu_(1)  # 0 on and below the diagonal
    for a, b in zip(bounds, bounds[1:]):
        mask[a:b, a:b] = causal[: b - a, : b - a]
    return mask.view(1, 1, total, total)


def check_block_mask_dtype(dtype, packed: bool):
    """None, or a floating torch dtype, and only for packed batches (a padded batch has its own mask)."""
    if dtype is None:
        return None
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(
            f"block_mask_dtype: expected a floating torch.dtype (the dtype attention runs in, e.g. "
            f"torch.bfloat16) or None, got {dtype!r}"
        )
    if not packed:
        raise ValueError(
            "block_mask_dtype: only packed batches get a block-diagonal mask (a padded batch's "
            "attention_mask already keeps samples apart); pass packed=True or leave it None"
        )
    return dtype
