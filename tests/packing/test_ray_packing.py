"""Offline packing on a local Ray instance: every stored row equals, bit for bit, what PackingSampler and the
collator give online for the same pack, from samples in Ray's object store and from a save_to_disk folder."""

import os
import random

import numpy as np
import pytest
import torch

from fastcollate import ChatCollator, PackingSampler, presets

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from fastcollate.packing.ray_packing import pack_on_ray  # noqa: E402


def chat(rng: random.Random) -> dict:
    """A Llama-3 chat: user and assistant turns of random words, the last one the assistant's."""
    ids = [128000]
    turns = rng.randint(1, 4)
    for k in range(turns):
        role = 78191 if k == turns - 1 else rng.choice([882, 78191])
        ids += [128006, role, 128007, 271] + [rng.randrange(1000, 5000) for _ in range(rng.randint(1, 60))] + [128009]
    return {"input_ids": ids}


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    # Ray's workers start in the driver's directory and import from it first: outside the checkout they import
    # the installed package (with its compiled extension), not the source tree.
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("ray"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
    os.chdir(here)


def assert_rows_equal(rows, sampler, features, collate):
    expected = [collate([features[i] for i in batch]) for batch in sampler]
    assert sorted(r["pack"] for r in rows) == list(range(len(expected)))
    for row in rows:
        want = expected[row["pack"]]
        assert row["indices"].tolist() == sampler.packs[row["pack"]]
        assert set(row) - {"pack", "indices"} == set(want)
        for key, value in want.items():
            if isinstance(value, torch.Tensor):
                got = np.asarray(row[key])
                assert got.dtype == value.numpy().dtype and np.array_equal(got, value.numpy()), key
            else:
                assert row[key] == value, key


def test_ray_rows_are_the_online_batches(local_ray, tmp_path):
    rng = random.Random(0)
    features = [chat(rng) for _ in range(120)]
    sampler = PackingSampler([len(f["input_ids"]) for f in features], 512, shuffle=False)
    collate = ChatCollator(presets.llama3(), 128001, packed=True)
    rows = pack_on_ray(features, sampler.packs, collate, concurrency=1).take_all()
    assert_rows_equal(rows, sampler, features, collate)

    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(features).save_to_disk(tmp_path / "chats")
    rows = pack_on_ray(tmp_path / "chats", sampler.packs, collate, concurrency=1).take_all()
    assert_rows_equal(rows, sampler, features, collate)
