"""PackingSampler: batches of packs in a DataLoader, deterministic per (seed, epoch), every sample once per
epoch, resumable mid-epoch, disjoint across ranks with the same number of steps on each."""

import numpy as np
import pytest
import torch

from fastcollate import PackingSampler, plan_packs
from fastcollate.packing.report import padding_of

RNG = np.random.default_rng(0)
LENGTHS = RNG.integers(10, 400, 500).tolist()


def flat(batches):
    return [i for batch in batches for i in batch]


def test_every_sample_once_per_epoch_within_budget():
    sampler = PackingSampler(LENGTHS, 1024, rows_per_batch=2, seed=3)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(flat(batches)) == list(range(len(LENGTHS)))
    assert all(sum(LENGTHS[i] for i in batch) <= 2 * 1024 for batch in batches)


def test_batches_are_packs_of_the_plan():
    sampler = PackingSampler(LENGTHS, 1024, shuffle=False)
    assert list(sampler) == list(plan_packs(LENGTHS, 1024))


def test_shuffle_is_deterministic_per_seed_and_epoch():
    a, b = PackingSampler(LENGTHS, 1024, seed=1), PackingSampler(LENGTHS, 1024, seed=1)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first and sorted(flat(a)) == sorted(flat(first))
    assert list(PackingSampler(LENGTHS, 1024, seed=2)) != first


def test_resumes_mid_epoch():
    sampler = PackingSampler(LENGTHS, 1024, seed=5)
    sampler.set_epoch(2)
    expected = list(sampler)
    sampler.set_epoch(2)
    it = iter(sampler)
    head = [next(it) for _ in range(7)]
    state = sampler.state_dict()
    resumed = PackingSampler(LENGTHS, 1024, seed=5)
    resumed.load_state_dict(state)
    assert head + list(resumed) == expected
    assert list(resumed) == expected  # only the iteration right after load_state_dict resumes
    assert list(sampler) == expected  # a new iteration starts the epoch over
    with pytest.raises(ValueError, match="build it with the same lengths and settings"):
        PackingSampler(LENGTHS[:-50], 1024, seed=5).load_state_dict(state)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("replicas", [2, 3, 7])
def test_ranks_get_disjoint_samples_and_equal_steps(replicas, drop_last):
    samplers = [
        PackingSampler(LENGTHS, 1024, rows_per_batch=2, num_replicas=replicas, rank=r, drop_last=drop_last, seed=9)
        for r in range(replicas)
    ]
    per_rank = [list(s) for s in samplers]
    assert len({len(b) for b in per_rank}) == 1 and len(per_rank[0]) == len(samplers[0])
    seen = [flat(b) for b in per_rank]
    if drop_last:
        everything = flat(seen)
        assert len(everything) == len(set(everything))  # disjoint
    else:
        assert set(flat(seen)) == set(range(len(LENGTHS)))  # every sample, a few twice to even the steps


def test_dataloader_batches(tmp_path):
    dataset = [torch.full((n,), i) for i, n in enumerate(LENGTHS)]
    sampler = PackingSampler(LENGTHS, 1024, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=lambda rows: torch.cat(rows))
    rows = list(loader)
    assert len(rows) == len(sampler) and all(r.numel() <= 1024 for r in rows)
    assert sum(r.numel() for r in rows) == sum(LENGTHS)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"rows_per_batch: expected an int >= 1, got 0"):
        PackingSampler(LENGTHS, 1024, rows_per_batch=0)
    with pytest.raises(ValueError, match=r"rank: expected an int in \[0, 2\), got 2"):
        PackingSampler(LENGTHS, 1024, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match=r"sample 0: length 5000 is more than max_tokens=1024"):
        PackingSampler([5000], 1024)
    assert PackingSampler([5000, 3], 1024, oversized="drop").dropped == [0]


def test_rows_of_a_batch_are_alike_in_audio():
    """A batch pads its rows to its longest audio: grouping packs by audio frames keeps that padding small."""
    rng = np.random.default_rng(1)
    n, K, fps = 4000, 8, 25
    audio = (rng.uniform(3, 10, n) * fps).astype(int) + (rng.uniform(2, 30, n) * fps).astype(int) + 2 * (K + 1)
    tokens = rng.integers(20, 401, n) + audio

    def audio_padding(sampler):
        return padding_of(sampler.batch_rows(), tokens, audio)[1]

    grouped = PackingSampler(tokens, 4096, audio_lengths=audio, max_audio_frames=4096, rows_per_batch=4)
    random = PackingSampler(tokens, 4096, audio_lengths=audio, max_audio_frames=4096, rows_per_batch=4, group_window=1)
    assert sorted(flat(grouped)) == list(range(n))
    assert audio_padding(grouped) < 0.02 < audio_padding(random)
