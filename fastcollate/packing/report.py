"""What packing saves, before training: the padding of random padded batches against packed ones, over a whole
dataset's lengths (`fastcollate plan`, and the packing benchmark)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .planner import lengths_column
from .sampler import PackingSampler


def padding_of(batches, tokens: np.ndarray, audio: Optional[np.ndarray]):
    """(text, audio or None) padding fractions of `batches`, each a list of rows, each row a list of sample
    indices: a batch is padded to its longest row in (B, T) and its longest audio in (B, T_audio, K)."""
    padded_text = padded_audio = used_text = used_audio = 0
    for rows in batches:
        row_tokens = [int(tokens[r].sum()) for r in rows]
        padded_text += len(rows) * max(row_tokens)
        used_text += sum(row_tokens)
        if audio is not None:
            row_audio = [int(audio[r].sum()) for r in rows]
            padded_audio += len(rows) * max(row_audio)
            used_audio += sum(row_audio)
    text = 1 - used_text / padded_text if padded_text else 0.0
    frames = (1 - used_audio / padded_audio if padded_audio else 0.0) if audio is not None else None
    return text, frames


@dataclass
class PackingReport:
    """Padding fractions (0.0-1.0) of random batches of `batch_size` samples and of packed batches of
    `rows_per_batch` rows of at most `max_tokens`; `row_fill`: each packed row's tokens / max_tokens."""

    samples: int
    batch_size: int
    max_tokens: int
    rows_per_batch: int
    padded_text: float
    packed_text: float
    padded_audio: Optional[float]
    packed_audio: Optional[float]
    rows: int
    dropped: int
    row_fill: np.ndarray = field(repr=False)

    def lines(self) -> List[str]:
        """The report as `fastcollate plan` prints it."""
        fill = self.row_fill
        out = [
            f"{self.samples} samples; random batches of {self.batch_size} vs packed batches of "
            f"{self.rows_per_batch} row(s) of at most {self.max_tokens} tokens ({self.rows} rows"
            + (f", {self.dropped} sample(s) longer than a row left out" if self.dropped else "")
            + ")",
            f"padding in (B, T): {self.padded_text:.1%} padded, {self.packed_text:.1%} packed",
        ]
        if self.padded_audio is not None:
            out.append(f"padding in audio (B, T, K): {self.padded_audio:.1%} padded, {self.packed_audio:.1%} packed")
        if len(fill):
            q = np.percentile(fill, [0, 10, 50, 90, 100])
            out.append("row fill: min {:.1%}, p10 {:.1%}, median {:.1%}, p90 {:.1%}, max {:.1%}".format(*q))
        return out


def packing_report(
    lengths,
    max_tokens: int,
    *,
    batch_size: int,
    rows_per_batch: int = 1,
    audio_lengths=None,
    max_audio_frames: Optional[int] = None,
    seed: int = 0,
) -> PackingReport:
    """The padding a dataset's random batches of `batch_size` carry, against PackingSampler's batches (same
    settings, samples longer than a row left out and counted). With `audio_lengths` and no
    `max_audio_frames`, a row's audio budget is `max_tokens` (in HiggsAudioV2Collator's layout every audio frame
    is a position of the row)."""
    tokens = lengths_column("lengths", lengths)
    audio = lengths_column("audio_lengths", audio_lengths) if audio_lengths is not None else None
    if batch_size < 1:
        raise ValueError(f"batch_size: expected an int >= 1, got {batch_size}")
    order = np.random.default_rng(seed).permutation(len(tokens))
    padded = [[[i] for i in order[b : b + batch_size]] for b in range(0, len(order), batch_size)]
    padded_text, padded_audio = padding_of(padded, tokens, audio)
    if audio is not None and max_audio_frames is None:
        max_audio_frames = max_tokens  # HiggsAudioV2Collator's layout: every frame is a position of the row
    sampler = PackingSampler(
        tokens,
        max_tokens,
        audio_lengths=audio,
        max_audio_frames=max_audio_frames if audio is not None else None,
        rows_per_batch=rows_per_batch,
        seed=seed,
        num_replicas=1,
        rank=0,
        oversized="drop",
    )
    packed_text, packed_audio = padding_of(sampler.batch_rows(), tokens, audio)
    packs = sampler.packs
    fill = np.array([tokens[p].sum() / max_tokens for p in packs], dtype=np.float64)
    return PackingReport(
        samples=len(tokens),
        batch_size=batch_size,
        max_tokens=max_tokens,
        rows_per_batch=rows_per_batch,
        padded_text=padded_text,
        packed_text=packed_text,
        padded_audio=padded_audio,
        packed_audio=packed_audio,
        rows=len(packs),
        dropped=len(sampler.dropped),
        row_fill=fill,
    )
