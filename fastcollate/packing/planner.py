"""plan_packs: checks the lengths, leaves out (or refuses) samples longer than a row, and plans the rest with the
compiled planner (csrc/packing/) or its twin (planner_reference.py), which give the same plan."""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ..common.checks import check_int
from ..runtime.backend import _core, resolve_backend
from .planner_reference import plan_packs_reference

MAX_TOKENS = 1 << 22  # rows of up to 4,194,304 tokens (csrc/packing/pack_planner.h, kMaxPackTokens)
OVERSIZED = ("error", "drop")


class Packs(list):
    """The plan: a list of packs, each a list of dataset indices (ascending), every planned index exactly once.
    `dropped`: the indices left out because they do not fit in one row (oversized="drop"); `max_tokens` and
    `max_audio_frames`: the row budget it was planned for."""

    def __init__(self, packs, dropped, max_tokens, max_audio_frames):
        super().__init__(packs)
        self.dropped: List[int] = dropped
        self.max_tokens: int = max_tokens
        self.max_audio_frames: Optional[int] = max_audio_frames


def lengths_column(name: str, values) -> np.ndarray:
    """A 1-D column of non-negative ints (a list, numpy array, tensor or `datasets` column) as int64."""
    try:
        array = np.asarray(values)
    except Exception as exc:  # a ragged list, an object that is no column at all
        raise ValueError(f"{name}: expected a 1-D sequence of ints, got {type(values).__name__} ({exc})") from None
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence of ints, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected ints, got dtype {array.dtype}")
    if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name}: value {array.max()} does not fit in int64")
    array = array.astype(np.int64, copy=False)
    negative = np.flatnonzero(array < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"sample {i}: {name}: is {array[i]}; expected a length >= 0")
    return array


def plan_packs(
    lengths,
    max_tokens: int,
    *,
    audio_lengths=None,
    max_audio_frames: Optional[int] = None,
    oversized: str = "error",
    backend: str = "auto",
) -> Packs:
    """Packs of dataset indices whose text lengths sum to at most `max_tokens` per pack (and audio frames to at
    most `max_audio_frames`, when `audio_lengths` is given): best fit decreasing, deterministic, every index
    exactly once.

    lengths: one int per sample (a list, numpy array, tensor or `datasets` column): the tokens it adds to a
    row. audio_lengths / max_audio_frames: the audio frames each sample adds, and a row's budget (both or
    neither). oversized: a sample longer than a row is an error ("error") or left out and listed in the plan's
    `dropped` ("drop"). backend: "auto" (compiled when built), "cpu" (compiled), "python" (the twin).
    """
    max_tokens = check_int("max_tokens", max_tokens)
    if not 1 <= max_tokens <= MAX_TOKENS:
        raise ValueError(f"max_tokens: expected an int in [1, {MAX_TOKENS}], got {max_tokens}")
    if oversized not in OVERSIZED:
        raise ValueError(f"oversized: expected one of {OVERSIZED}, got {oversized!r}")
    text = lengths_column("lengths", lengths)
    audio = None
    if (audio_lengths is None) != (max_audio_frames is None):
        given, missing = (
            ("audio_lengths", "max_audio_frames")
            if max_audio_frames is None
            else (
                "max_audio_frames",
                "audio_lengths",
            )
        )
        raise ValueError(f"{given}: given without {missing}; pass both to budget audio frames, or neither")
    if audio_lengths is not None:
        max_audio_frames = check_int("max_audio_frames", max_audio_frames)
        if max_audio_frames < 0:
            raise ValueError(f"max_audio_frames: expected an int >= 0, got {max_audio_frames}")
        audio = lengths_column("audio_lengths", audio_lengths)
        if audio.shape != text.shape:
            raise ValueError(f"audio_lengths: {audio.size} entries for {text.size} lengths")

    too_long = text > max_tokens if audio is None else (text > max_tokens) | (audio > max_audio_frames)
    dropped = np.flatnonzero(too_long)
    if dropped.size and oversized == "error":
        i = int(dropped[0])
        what = (
            f"length {text[i]} is more than max_tokens={max_tokens}"
            if text[i] > max_tokens
            else f"{audio[i]} audio frames are more than max_audio_frames={max_audio_frames}"
        )
        raise ValueError(
            f"sample {i}: {what} ({dropped.size} such sample(s)); raise the budget, or pass "
            "oversized='drop' to leave them out (listed in the plan's dropped)"
        )
    kept = np.flatnonzero(~too_long)
    if dropped.size:
        text = text[kept]
        audio = audio[kept] if audio is not None else None

    if resolve_backend(backend) == "python":
        packs = plan_packs_reference(
            text.tolist(), max_tokens, audio.tolist() if audio is not None else None, max_audio_frames or 0
        )
    else:
        packs = _core.packing.plan(text, max_tokens, audio, max_audio_frames or 0)
    if dropped.size:  # back to dataset indices (kept is ascending: each pack stays ascending)
        index = kept.tolist()
        packs = [[index[j] for j in pack] for pack in packs]
    return Packs(packs, dropped.tolist(), max_tokens, max_audio_frames)
