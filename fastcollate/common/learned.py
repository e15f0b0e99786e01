"""Counting learned labels (labels != -100): per sample, per audio-out segment, per sample's audio-out.

Shared by the collators (the on_empty policy asks which samples learn nothing) and by diagnostics.label_stats,
which prints the same counts; one definition keeps the two from disagreeing.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch

from .labels import IGNORE


def to_int_list(ids) -> List[int]:
    """A 1-D id sequence (tensor of any shape, flattened; list; array) as a list of Python ints."""
    if isinstance(ids, torch.Tensor):
        return [int(v) for v in ids.reshape(-1).tolist()]
    return [int(v) for v in ids]


def text_counts(
    labels: torch.Tensor, attention_mask: Optional[torch.Tensor], cu_seqlens: Optional[torch.Tensor]
) -> Tuple[List[int], List[int]]:
    """(real tokens, learned labels) per sample of a (B, T) batch; packed (cu_seqlens, one row): per segment."""
    learned = labels != IGNORE
    if cu_seqlens is not None:  # packed: one row, samples delimited by cu_seq_lens_q
        bounds = cu_seqlens.tolist()
        flat = learned.reshape(-1)
        return ([b - a for a, b in zip(bounds, bounds[1:])], [int(flat[a:b].sum()) for a, b in zip(bounds, bounds[1:])])
    real = attention_mask.bool() if attention_mask is not None else torch.ones_like(learned)
    return real.sum(1).tolist(), (learned & real).sum(1).tolist()


def audio_segment_bounds(audio_out_ids_start: Optional[torch.Tensor], frames: int) -> List[int]:
    """Column bounds of every audio-out segment of a (K, frames) label_audio_ids: segment j is
    [bounds[j], bounds[j + 1])."""
    return (audio_out_ids_start.tolist() if audio_out_ids_start is not None else []) + [frames]


def segment_learned(label_audio_ids: torch.Tensor, bounds: Sequence[int]) -> List[int]:
    """Learned labels of every audio-out segment, all codebooks together."""
    learned = label_audio_ids != IGNORE
    return [int(learned[:, a:b].sum()) for a, b in zip(bounds, bounds[1:])]


def sample_audio_out(
    input_ids: torch.Tensor,
    audio_out_token_id: int,
    learned_per_segment: Sequence[int],
    bounds: Sequence[int],
    codebooks: int,
) -> Tuple[List[int], List[int]]:
    """(learned, all) audio-out labels per sample: the segments of sample i are the next n_i, n_i = its count of
    audio-out tokens (audio_out_ids_start_group_loc cannot tell: upstream fills it with one entry per sample)."""
    learned, total, seg = [], [], 0
    for n in (input_ids == audio_out_token_id).sum(1).tolist():
        learned.append(sum(learned_per_segment[seg : seg + n]))
        total.append(codebooks * (bounds[seg + n] - bounds[seg]))
        seg += n
    return learned, total


def learned_text_and_audio_out(batch, audio_out_token_id: int) -> Tuple[List[int], List[int]]:
    """(learned text labels, learned audio-out labels) per sample of a HiggsAudioBatchInput with labels."""
    _, text = text_counts(batch.label_ids, batch.attention_mask, None)
    audio = getattr(batch, "label_audio_ids", None)
    if audio is None:
        return text, [0] * len(text)
    bounds = audio_segment_bounds(getattr(batch, "audio_out_ids_start", None), int(audio.shape[1]))
    learned, _ = sample_audio_out(
        batch.input_ids, audio_out_token_id, segment_learned(audio, bounds), bounds, audio.shape[0]
    )
    return text, learned
