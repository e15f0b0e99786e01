"""Packing: a best-fit-decreasing plan of samples into rows of a token budget (plan_packs), and the batch
sampler built on it (PackingSampler). The plan is made once over the whole pool, where it leaves almost no
padding; the collators then concatenate each row's samples."""

from .lengths_file import dataset_lengths
from .planner import Packs, plan_packs
from .sampler import PackingSampler

__all__ = ["Packs", "PackingSampler", "dataset_lengths", "plan_packs"]
