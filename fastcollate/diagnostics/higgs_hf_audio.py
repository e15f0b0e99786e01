"""What the audio labels of a HiggsAudioV2Collator / HiggsAudioV2Processor batch train, per sample and clip.

A clip starts at a valid frame whose codebook 0 holds the stream BOS (the delay pattern puts it there and
nowhere else); it spans L + K + 1 frames, and codebook k's stream EOS sits at its frame k + L + 1. A clip
"learns its EOS" when that cell is labelled with the stream EOS in every codebook: generation stops only when
the model emits it, and the processor's labels never train it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import torch

from ..common.labels import IGNORE
from ..higgs_hf.config import HIGGS_HF_IDS


@dataclass
class SampleAudio:
    frames: int  # valid audio frames
    codebook_learned: List[int]  # learned audio labels per codebook
    clips: int
    clips_learned: int  # clips with at least one learned label
    clips_without_eos: int  # learned clips whose stream EOS is not learned in every codebook


def eos_learned_codebooks(labels, stream_eos: int = HIGGS_HF_IDS["audio_stream_eos_id"]) -> int:
    """In how many codebooks one clip's (frames, K) labels learn its stream EOS: codebook k's sits at frame
    k + L + 1 of the clip's L + K + 1 frames, and is learned when labelled with the stream EOS. A clip of
    K frames or fewer has no place for it (none)."""
    frames, k_count = labels.shape
    length = frames - k_count - 1
    if length < 0:
        return 0
    return sum(int(labels[k + length + 1, k]) == stream_eos for k in range(k_count))


def sample_audio(
    batch: dict,
    stream_bos: int = HIGGS_HF_IDS["audio_stream_bos_id"],
    stream_eos: int = HIGGS_HF_IDS["audio_stream_eos_id"],
) -> List[SampleAudio]:
    ids, labels, mask = batch["audio_input_ids"], batch["audio_labels"], batch["audio_input_ids_mask"]
    if ids.shape != labels.shape or ids.dim() != 3 or mask.shape != ids.shape[:2]:
        raise ValueError(
            f"batch: audio_input_ids {tuple(ids.shape)}, audio_labels {tuple(labels.shape)} and "
            f"audio_input_ids_mask {tuple(mask.shape)}: expected (B, T, K), (B, T, K) and (B, T)"
        )
    k_count = ids.shape[2]
    out = []
    for b in range(ids.shape[0]):
        frames = int(mask[b].sum())
        learned = labels[b, :frames] != IGNORE
        starts = torch.nonzero(ids[b, :frames, 0] == stream_bos).flatten().tolist()
        bounds = starts + [frames]
        with_eos_missing = clips_learned = 0
        for a, z in zip(bounds, bounds[1:]):
            if not learned[a:z].any():
                continue
            clips_learned += 1
            if eos_learned_codebooks(labels[b, a:z], stream_eos) < k_count:
                with_eos_missing += 1
        out.append(SampleAudio(frames, learned.sum(0).tolist(), len(starts), clips_learned, with_eos_missing))
    return out
