"""How much of a batch is learned: masked/learned label counts per sample, per audio codebook, and in total.

A quick check that a label mask does what was meant (e.g. that the assistant turns, and only they, are learned).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import List, Optional

from ..common.labels import IGNORE
from ..common.learned import audio_segment_bounds, sample_audio_out, segment_learned, text_counts
from ..higgs_hf.config import HIGGS_HF_IDS
from .higgs_hf_audio import sample_audio


@dataclass
class LabelStats:
    """label_stats()'s counts: plain Python ints, per sample and in total (print it for a table)."""

    tokens: List[int]  # per sample: real (non-padding) tokens
    learned: List[int]  # per sample: labels != -100
    audio_learned: Optional[List[int]] = None  # per codebook stream of label_audio_ids
    audio_frames: int = 0  # columns of label_audio_ids
    audio_segment_learned: List[int] = field(default_factory=list)  # per audio-out segment, all codebooks
    # Per sample, audio-out labels (all codebooks) learned / total; only when audio_out_token_id was given.
    sample_audio_learned: Optional[List[int]] = None
    sample_audio_labels: Optional[List[int]] = None
    # transformers' Higgs Audio v2 batches (audio_labels (B, T, K)): per sample, learned audio labels per
    # codebook, clips, and learned clips whose stream EOS is not learned (see higgs_hf_audio.py).
    sample_codebook_learned: Optional[List[List[int]]] = None
    sample_clips: Optional[List[int]] = None
    sample_clips_without_eos: Optional[List[int]] = None

    @property
    def masked(self) -> List[int]:
        return [t - n for t, n in zip(self.tokens, self.learned)]

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)

    @property
    def total_learned(self) -> int:
        return sum(self.learned)

    @property
    def share_learned(self) -> float:
        return self.total_learned / self.total_tokens if self.total_tokens else 0.0

    def __str__(self) -> str:
        per_sample_audio = self.sample_audio_learned is not None
        audio_head = f" {'audio learned':>13} {'audio masked':>12}" if per_sample_audio else ""
        lines = [f"{'sample':>6} {'tokens':>7} {'text learned':>12} {'text masked':>11} {'learned%':>8}{audio_head}"]

        def row(name, tokens, learned, audio_learned=None, audio_total=None):
            audio = ""
            if per_sample_audio:
                audio = f" {audio_learned:>13} {audio_total - audio_learned:>12}"
            share = 100 * learned / tokens if tokens else 0
            return f"{name:>6} {tokens:>7} {learned:>12} {tokens - learned:>11} {share:>7.1f}%{audio}"

        for i, (t, n) in enumerate(zip(self.tokens, self.learned)):
            audio = (self.sample_audio_learned[i], self.sample_audio_labels[i]) if per_sample_audio else ()
            nothing = n == 0 and not (per_sample_audio and self.sample_audio_learned[i])
            lines.append(row(i, t, n, *audio) + ("  <- nothing learned" if nothing else ""))
        audio = (sum(self.sample_audio_learned), sum(self.sample_audio_labels)) if per_sample_audio else ()
        lines.append(row("total", self.total_tokens, self.total_learned, *audio))
        if per_sample_audio:
            lines.append(
                "(audio columns count label entries of the sample's audio-out segments: frames x codebooks, "
                "the delay-pattern fills and stream BOS masked)"
            )
        if self.sample_clips is not None:
            lines += _clip_lines(self)
        if self.audio_learned is not None:
            lines.append(f"audio: {self.audio_frames} frames; learned per codebook: {self.audio_learned}")
            if self.audio_segment_learned:
                lines.append(f"audio: learned per audio-out segment (all codebooks): {self.audio_segment_learned}")
        return "\n".join(lines)


def _clip_lines(stats: LabelStats) -> List[str]:
    lines = ["audio per sample (learned labels per codebook; clips; learned clips without a learned stream EOS):"]
    for i, (per_k, clips, no_eos) in enumerate(
        zip(stats.sample_codebook_learned, stats.sample_clips, stats.sample_clips_without_eos)
    ):
        lines.append(f"{i:>6} {per_k}; {clips} clip(s); {no_eos} without EOS")
    missing = sum(stats.sample_clips_without_eos)
    if missing:
        lines.append(
            f"!! {missing} learned clip(s) never learn their stream EOS: generation stops only when the model "
            "emits it (HiggsAudioV2Collator(label_mode='correct') learns it)"
        )
    return lines


def label_stats(
    batch,
    audio_out_token_id: Optional[int] = None,
    *,
    audio_stream_bos_id: int = HIGGS_HF_IDS["audio_stream_bos_id"],
    audio_stream_eos_id: int = HIGGS_HF_IDS["audio_stream_eos_id"],
) -> LabelStats:
    """For a ChatCollator dict batch, a transformers Higgs Audio v2 dict batch (HiggsAudioV2Collator or
    HiggsAudioV2Processor: `audio_labels` (B, T, K), counted per sample, codebook and clip; the stream ids
    find the clips) or a HiggsAudioBatchInput-like object (label_ids / label_audio_ids).

    With `audio_out_token_id`, audio-out labels are also counted per sample: segment j of the batch belongs
    to the sample holding the j-th <|AUDIO_OUT|> token (audio_out_ids_start_group_loc cannot tell: upstream
    fills it with one entry per sample).
    """
    if isinstance(batch, Mapping):  # a dict, or transformers' BatchFeature
        tokens, learned = text_counts(batch["labels"], batch.get("attention_mask"), batch.get("cu_seq_lens_q"))
        stats = LabelStats(tokens, learned)
        if "audio_labels" in batch:
            _higgs_hf_audio(stats, batch, audio_stream_bos_id, audio_stream_eos_id)
        return stats
    if not hasattr(batch, "label_ids"):
        raise ValueError(
            f"batch: expected a dict with 'labels' or an object with label_ids, got {type(batch).__name__}"
        )
    if batch.label_ids is None:
        raise ValueError("batch: label_ids: is None (collated without labels)")
    tokens, learned = text_counts(batch.label_ids, batch.attention_mask, None)
    stats = LabelStats(tokens, learned)
    audio = getattr(batch, "label_audio_ids", None)
    if audio is not None:
        stats.audio_learned = (audio != IGNORE).sum(1).tolist()
        stats.audio_frames = int(audio.shape[1])
        bounds = audio_segment_bounds(getattr(batch, "audio_out_ids_start", None), stats.audio_frames)
        stats.audio_segment_learned = segment_learned(audio, bounds)
        if audio_out_token_id is not None:
            stats.sample_audio_learned, stats.sample_audio_labels = sample_audio_out(
                batch.input_ids, audio_out_token_id, stats.audio_segment_learned, bounds, audio.shape[0]
            )
    return stats


def _higgs_hf_audio(stats: LabelStats, batch, stream_bos: int, stream_eos: int):
    per_sample = sample_audio(batch, stream_bos, stream_eos)
    labels = batch["audio_labels"]
    stats.audio_learned = (labels != IGNORE).sum((0, 1)).tolist()
    stats.audio_frames = int(labels.shape[1])
    stats.sample_audio_learned = [sum(s.codebook_learned) for s in per_sample]
    stats.sample_audio_labels = [s.frames * labels.shape[2] for s in per_sample]
    stats.sample_codebook_learned = [s.codebook_learned for s in per_sample]
    stats.sample_clips = [s.clips for s in per_sample]
    stats.sample_clips_without_eos = [s.clips_without_eos for s in per_sample]
