"""Run by tests/integration/test_torchrun.py under `torchrun --nproc_per_node=2` (gloo, CPU): each rank collates
its DistributedSampler shard with ChatCollator and takes a few DDP steps of a tiny Llama; it writes what it
collated and its final parameters to OUT_DIR/rank{N}.pt for the test to check."""

import os
import sys

import torch
import torch.distributed as dist
from tiny_llama import tiny_llama
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from fastcollate import ChatCollator, presets
from fastcollate.synthetic import synthetic_text_batch

STEPS, BATCH = 3, 2


def dataset():
    """Index-tagged features, so each rank can report which samples its shard held."""
    return [
        {"input_ids": s.input_ids.tolist(), "index": i}
        for i, s in enumerate(synthetic_text_batch(STEPS * BATCH * 2, 40, seed=5, exchanges=1))
    ]


def main(out_dir: str):
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.set_num_threads(1)
    collate = ChatCollator(presets.llama3(), pad_token_id=128001, ignore_keys=("index",))
    sampler = DistributedSampler(dataset(), shuffle=True, seed=3)
    loader = DataLoader(
        dataset(),
        batch_size=BATCH,
        sampler=sampler,
        collate_fn=lambda rows: ([r["index"] for r in rows], collate(rows)),
    )
    model = DistributedDataParallel(tiny_llama("eager", seed=0))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = []
    for indices, batch in loader:
        loss = model(**batch).loss
        loss.backward()  # DDP averages the gradients of both ranks here
        optimizer.step()
        optimizer.zero_grad()
        seen.append((indices, batch))
    params = {k: v.detach().clone() for k, v in model.module.state_dict().items()}
    torch.save(
        {"world_size": dist.get_world_size(), "seen": seen, "params": params}, os.path.join(out_dir, f"rank{rank}.pt")
    )
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
