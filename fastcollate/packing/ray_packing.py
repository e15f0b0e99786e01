"""Offline packing on Ray Data, for a dataset too large to pack in one process in reasonable time: the plan is made
once (plan_packs, one process: a million lengths in well under a second), then Ray Data materialises the packed
rows in parallel, one collate call per pack, exactly what PackingSampler + the collator give online."""

from __future__ import annotations

import os
from typing import Callable, Optional, Sequence

import numpy as np
import torch


def _plain(value):
    """A collated value as Ray Data stores it: tensors as numpy arrays, ints as they are."""
    return value.numpy() if isinstance(value, torch.Tensor) else value


class _Materialise:
    """The Ray Data actor: opens the samples once, then collates every pack of each block it is given."""

    def __init__(self, source, collate_fn: Callable):
        import ray

        kind, where = source
        if kind == "disk":
            import datasets

            self.samples = datasets.load_from_disk(where)
        else:
            self.samples = ray.get(where)
        self.collate_fn = collate_fn

    def __call__(self, block: dict) -> dict:
        columns: dict = {"pack": [], "indices": []}
        for pack, indices in zip(block["pack"], block["indices"]):
            indices = [int(i) for i in indices]
            batch = self.collate_fn([self.samples[i] for i in indices])
            for key, value in batch.items():
                columns.setdefault(key, []).append(_plain(value))
            columns["pack"].append(int(pack))
            columns["indices"].append(np.array(indices, dtype=np.int64))
        return columns


def pack_on_ray(
    samples,
    packs: Sequence[Sequence[int]],
    collate_fn: Callable,
    *,
    concurrency: Optional[int] = None,
    packs_per_block: int = 16,
):
    """A Ray Dataset of packed batches: one row per pack (`pack`: its number, `indices`: its dataset indices, then
    every key `collate_fn` returns, tensors as numpy arrays), materialised in parallel by Ray Data.

    samples: a folder written by `datasets`' save_to_disk (each Ray worker memory-maps it), or any sequence of
    samples (put in Ray's object store once). packs: a plan (fastcollate.plan_packs, or PackingSampler(...).packs).
    collate_fn: the collator to apply to each pack's samples, e.g. ChatCollator(..., packed=True).
    concurrency: Ray actors materialising packs (default: Ray's CPUs). Call `ray.init(...)` first, or let Ray start
    a local instance. `.write_parquet(path)` stores the result.
    """
    import ray

    if isinstance(samples, (str, os.PathLike)):
        source = ("disk", os.fspath(samples))
    else:
        source = ("object", ray.put(samples))
    items = [{"pack": p, "indices": list(map(int, pack))} for p, pack in enumerate(packs)]
    blocks = max(-(-len(items) // packs_per_block), 1)
    plan = ray.data.from_items(items, override_num_blocks=blocks)
    workers = min(concurrency or max(int(ray.available_resources().get("CPU", 1)), 1), blocks)
    return plan.map_batches(
        _Materialise,
        fn_constructor_kwargs={"source": source, "collate_fn": collate_fn},
        batch_size=packs_per_block,
        batch_format="numpy",
        concurrency=workers,
    )
