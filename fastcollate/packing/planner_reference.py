"""The packing plan in plain Python: the specification the compiled planner (csrc/packing/pack_planner.cpp)
is held to, plan for plan, in the tests. Quadratic in the number of rows: for clarity, not for pools."""

from __future__ import annotations

from typing import List, Optional, Sequence


def plan_packs_reference(
    lengths: Sequence[int], max_tokens: int, audio_lengths: Optional[Sequence[int]] = None, max_audio_frames: int = 0
) -> List[List[int]]:
    """Best-fit decreasing. Samples are placed longest first (text length, then audio frames, descending; then
    index). Each goes to the open row it fits best: the least text room left that still holds it and its audio,
    then the least audio room, then the row opened first; a sample that fits no row opens a new one. Rows come
    out in the order they were opened, each row's samples in ascending index order."""
    n = len(lengths)
    audio = list(audio_lengths) if audio_lengths is not None else [0] * n
    rows: List[List[int]] = []
    text_room: List[int] = []
    audio_room: List[int] = []
    for i in sorted(range(n), key=lambda i: (-lengths[i], -audio[i], i)):
        fits = [r for r in range(len(rows)) if text_room[r] >= lengths[i] and audio_room[r] >= audio[i]]
        if fits:
            r = min(fits, key=lambda r: (text_room[r], audio_room[r], r))
        else:
            r = len(rows)
            rows.append([])
            text_room.append(max_tokens)
            audio_room.append(max_audio_frames)
        rows[r].append(i)
        text_room[r] -= lengths[i]
        audio_room[r] -= audio[i]
    return [sorted(row) for row in rows]
