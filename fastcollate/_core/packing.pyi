# _core.packing (csrc/python/bind_packing.cpp): the best-fit-decreasing packing planner.
from typing import Tuple

import torch

max_tokens: int

def plan(
    lengths: object, max_tokens: int, audio_lengths: object = None, max_audio: int = 0
) -> Tuple[torch.Tensor, torch.Tensor]:
    """(order, offsets), int64 tensors: row r holds the samples order[offsets[r]:offsets[r + 1]]; the rules are
    fastcollate/packing/planner_reference.py's."""
