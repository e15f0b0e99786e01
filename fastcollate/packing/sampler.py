"""PackingSampler: a batch sampler whose batches are packs of dataset indices, planned once over the whole pool
(plan_packs), shuffled per epoch, split across ranks, resumable mid-epoch."""

from __future__ import annotations

from typing import Iterator, List, Optional

import numpy as np
import torch

from ..common.checks import check_int
from .planner import lengths_column, plan_packs


def windows(order: np.ndarray, size: int):
    return (order[i : i + size] for i in range(0, len(order), size))


def _replicas(num_replicas: Optional[int], rank: Optional[int]):
    """(num_replicas, rank): given, or torch.distributed's when it is initialised, else (1, 0)."""
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    if num_replicas is None:
        num_replicas = torch.distributed.get_world_size() if distributed else 1
    if rank is None:
        rank = torch.distributed.get_rank() if distributed else 0
    num_replicas, rank = check_int("num_replicas", num_replicas), check_int("rank", rank)
    if num_replicas < 1:
        raise ValueError(f"num_replicas: expected an int >= 1, got {num_replicas}")
    if not 0 <= rank < num_replicas:
        raise ValueError(f"rank: expected an int in [0, {num_replicas}), got {rank}")
    return num_replicas, rank


class PackingSampler:
    """Batches of dataset indices for `DataLoader(dataset, batch_sampler=sampler, collate_fn=...)`: each batch is
    `rows_per_batch` packs of at most `max_tokens` tokens (and `max_audio_frames` audio frames), their indices
    concatenated pack after pack.

    The packs are planned once, best fit decreasing over the whole pool (plan_packs; `oversized` as there); each
    epoch shuffles their order from (`seed`, epoch) (`set_epoch`, as DistributedSampler) and groups them. A
    batch's rows are padded to its longest row (text) and its longest audio: with several rows per batch, each
    window of `group_window` batches' packs is sorted by audio frames (tokens without audio) before grouping,
    so rows of a batch are alike (under 1% audio padding on a voice-cloning pool, against 4-15% at random;
    `group_window=1`: no sorting). With
    several ranks (`num_replicas`, `rank`: torch.distributed's when initialised) each rank takes every
    num_replicas-th batch, so ranks get disjoint samples and the same number of steps: the last batches are
    dropped (`drop_last=True`) or the first ones repeated to fill the last step. `state_dict()` /
    `load_state_dict()` resume mid-epoch: the next iteration continues after the last batch handed out (any
    other iteration starts the epoch from its first batch).
    """

    def __init__(
        self,
        lengths,
        max_tokens: int,
        *,
        audio_lengths=None,
        max_audio_frames: Optional[int] = None,
        rows_per_batch: int = 1,
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: Optional[int] = None,
        rank: Optional[int] = None,
        drop_last: bool = False,
        oversized: str = "error",
        group_window: int = 32,
    ):
        self.rows_per_batch = check_int("rows_per_batch", rows_per_batch)
        if self.rows_per_batch < 1:
            raise ValueError(f"rows_per_batch: expected an int >= 1, got {rows_per_batch}")
        self.num_replicas, self.rank = _replicas(num_replicas, rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), check_int("seed", seed), bool(drop_last)
        self.packs = plan_packs(
            lengths, max_tokens, audio_lengths=audio_lengths, max_audio_frames=max_audio_frames, oversized=oversized
        )
        self.dropped: List[int] = self.packs.dropped
        self.group_window = check_int("group_window", group_window)
        if self.group_window < 1:
            raise ValueError(f"group_window: expected an int >= 1, got {group_window}")
        self._size = self._pack_sizes(lengths if audio_lengths is None else audio_lengths)
        self.epoch = 0
        self._done = 0  # batches of this epoch handed out on this rank (by the latest iteration)
        self._resume = 0  # where the next iteration starts (load_state_dict sets it)

    def _pack_sizes(self, column) -> np.ndarray:
        """Each pack's total of `column` (audio frames, or tokens): what its batch is padded to."""
        values = lengths_column("lengths", column)
        flat = np.fromiter((i for pack in self.packs for i in pack), dtype=np.int64)
        starts = np.cumsum([0] + [len(pack) for pack in self.packs[:-1]]) if self.packs else np.zeros(0, np.int64)
        return np.add.reduceat(values[flat], starts) if self.packs else np.zeros(0, np.int64)

    def _all_batches(self) -> List[List[int]]:
        """Every rank's batches of this epoch, in order (each a list of pack numbers)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.packs)) if self.shuffle else np.arange(len(self.packs))
        R = self.rows_per_batch
        grouped = R > 1 and self.group_window > 1
        if grouped:  # alike rows in a batch: each window of packs sorted by size, then cut into batches
            window = R * self.group_window
            order = np.concatenate(
                [order[:0]] + [w[np.argsort(self._size[w], kind="stable")] for w in windows(order, window)]
            )
        batches = [order[i : i + R].tolist() for i in range(0, len(order), R)]
        if self.drop_last and batches and len(batches[-1]) < R:
            batches.pop()
        if grouped and self.shuffle:  # the windows run small to large: mix their batches
            batches = [batches[j] for j in rng.permutation(len(batches))]
        steps, extra = divmod(len(batches), self.num_replicas)
        if extra and self.drop_last:
            batches = batches[: steps * self.num_replicas]
        elif extra:  # repeat the first batches: every rank takes the same number of steps
            missing = self.num_replicas - extra
            batches += (batches * (missing // len(batches) + 1))[:missing]
        return batches

    def _batches(self) -> List[List[int]]:
        return self._all_batches()[self.rank :: self.num_replicas]

    def batch_rows(self) -> List[List[List[int]]]:
        """This rank's batches of the current epoch as rows: each batch a list of packs (lists of indices), what
        iterating yields concatenated."""
        return [[self.packs[p] for p in batch] for batch in self._batches()]

    def __iter__(self) -> Iterator[List[int]]:
        """The epoch's batches from the first, or, right after load_state_dict, from the first not handed out."""
        batches = self.batch_rows()
        start, self._resume = self._resume, 0
        self._done = start
        for k in range(start, len(batches)):
            self._done = k + 1
            yield [i for row in batches[k] for i in row]

    def __len__(self) -> int:
        return len(self._batches())

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose shuffle the next iteration uses (call it before each epoch, as with DistributedSampler);
        starts that epoch from its first batch."""
        self.epoch = check_int("epoch", epoch)
        self._done = self._resume = 0

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "batches_done": self._done, "seed": self.seed, "packs": len(self.packs)}

    def load_state_dict(self, state: dict) -> None:
        """Resume: the next iteration continues the saved epoch after its last batch handed out. The sampler must
        be built with the same lengths and settings (the number of packs is checked)."""
        if state.get("packs") != len(self.packs) or state.get("seed") != self.seed:
            raise ValueError(
                f"state: saved for {state.get('packs')} packs and seed {state.get('seed')}, this sampler has "
                f"{len(self.packs)} packs and seed {self.seed}; build it with the same lengths and settings"
            )
        self.epoch = check_int("epoch", state["epoch"])
        self._done = self._resume = check_int("batches_done", state["batches_done"])
