"""Two processes under `torchrun --nproc_per_node=2` (gloo, CPU), each collating its DistributedSampler shard with
ChatCollator for a few DDP steps (tests/integration/ddp_shards.py): the shards are disjoint and cover the dataset, every
batch is what ChatCollator gives in this process, and the ranks end with identical parameters."""

import os
import subprocess
import sys
from pathlib import Path

import ddp_shards  # this folder is on sys.path (tests/conftest.py)
import pytest
import torch

from fastcollate import ChatCollator, presets

HERE = Path(__file__).resolve().parent
pytest.importorskip("transformers")


def test_two_ranks_collate_their_shards(tmp_path):
    torchrun = Path(sys.executable).parent / "torchrun"
    # The ranks import tests/tiny_llama.py, a helper module of the tests/ root.
    path = os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    done = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", str(HERE / "ddp_shards.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    assert all(r["world_size"] == 2 for r in ranks)

    data = ddp_shards.dataset()
    collate = ChatCollator(presets.llama3(), pad_token_id=128001, ignore_keys=("index",))
    shards = []
    for r in ranks:
        assert len(r["seen"]) == ddp_shards.STEPS
        shard = [i for indices, _ in r["seen"] for i in indices]
        shards.append(set(shard))
        for indices, batch in r["seen"]:
            want = collate([data[i] for i in indices])
            assert batch.keys() == want.keys()
            assert all(torch.equal(batch[k], want[k]) for k in want)
    assert not shards[0] & shards[1] and shards[0] | shards[1] == set(range(len(data)))
    for name, value in ranks[0]["params"].items():
        assert torch.equal(value, ranks[1]["params"][name]), name
    start = ddp_shards.tiny_llama("eager", seed=0).state_dict()
    assert any(not torch.equal(start[k], v) for k, v in ranks[0]["params"].items())  # it did train
