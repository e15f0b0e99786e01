"""plan_packs: the compiled planner gives the twin's plan (planner_reference.py) on random and adversarial
lengths; every plan holds every index exactly once within the budgets; the errors name the sample."""

import numpy as np
import pytest
import torch
from conftest import COMPILED
from hypothesis import given, settings
from hypothesis import strategies as st

import fastcollate
from fastcollate import plan_packs
from fastcollate.packing.planner_reference import plan_packs_reference

BACKENDS = ["python", "cpu"] if COMPILED else ["python"]


def check_plan(packs, lengths, max_tokens, audio=None, max_audio=None, dropped=()):
    planned = sorted(i for pack in packs for i in pack)
    assert planned == sorted(set(range(len(lengths))) - set(dropped))
    for pack in packs:
        assert pack == sorted(pack) and pack
        assert sum(lengths[i] for i in pack) <= max_tokens
        if audio is not None:
            assert sum(audio[i] for i in pack) <= max_audio


@st.composite
def pools(draw):
    max_tokens = draw(st.integers(1, 64))
    n = draw(st.integers(0, 80))
    lengths = draw(st.lists(st.integers(0, max_tokens), min_size=n, max_size=n))
    if draw(st.booleans()):
        return lengths, max_tokens, None, None
    max_audio = draw(st.integers(0, 30))
    audio = draw(st.lists(st.integers(0, max_audio), min_size=n, max_size=n))
    return lengths, max_tokens, audio, max_audio


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
@settings(max_examples=400, deadline=None, derandomize=True)
@given(pools())
def test_compiled_plan_is_the_twins(pool):
    lengths, max_tokens, audio, max_audio = pool
    compiled = plan_packs(lengths, max_tokens, audio_lengths=audio, max_audio_frames=max_audio, backend="cpu")
    assert list(compiled) == plan_packs_reference(lengths, max_tokens, audio, max_audio or 0)
    check_plan(compiled, lengths, max_tokens, audio, max_audio)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "lengths, max_tokens",
    [
        ([], 10),
        ([0, 0, 0], 1),  # zero-length samples join the fullest row
        ([5] * 7, 5),  # every sample fills a row
        ([1] * 50, 7),
        ([10, 9, 8, 1, 2, 3], 10),
        ([3, 3, 3, 3], 12),
        (list(range(40, 0, -1)), 40),
    ],
)
def test_adversarial_pools(backend, lengths, max_tokens):
    packs = plan_packs(lengths, max_tokens, backend=backend)
    assert list(packs) == plan_packs_reference(lengths, max_tokens)
    check_plan(packs, lengths, max_tokens)


def test_best_fit_decreasing_by_hand():
    # 9 opens row 0 (room 1), 7 row 1 (room 3), 4 row 2 (room 6); 3 goes to row 1 (the least room that holds
    # it), 1 to row 0.
    assert list(plan_packs([9, 7, 4, 3, 1], 10, backend="python")) == [[0, 4], [1, 3], [2]]
    # Audio: 5 tokens + 9 frames open row 0 (room 5 tokens, 1 frame); 4 + 5 frames do not fit its audio and open
    # row 1 (room 6, 5); 4 + 0 frames go to row 0, the least text room.
    packs = plan_packs([5, 4, 4], 10, audio_lengths=[9, 5, 0], max_audio_frames=10, backend="python")
    assert list(packs) == [[0, 2], [1]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_columns_in_every_form(backend):
    lengths = [5, 3, 8, 2, 7]
    expected = plan_packs_reference(lengths, 10)
    for column in (lengths, tuple(lengths), np.array(lengths, dtype=np.int32), torch.tensor(lengths)):
        assert list(plan_packs(column, 10, backend=backend)) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_oversized_samples_error_or_drop(backend):
    with pytest.raises(ValueError, match=r"sample 2: length 11 is more than max_tokens=10 \(2 such sample\(s\)\)"):
        plan_packs([1, 2, 11, 12], 10, backend=backend)
    packs = plan_packs([1, 2, 11, 12, 9], 10, oversized="drop", backend=backend)
    assert packs.dropped == [2, 3]
    check_plan(packs, [1, 2, 11, 12, 9], 10, dropped=[2, 3])
    with pytest.raises(ValueError, match=r"sample 1: 11 audio frames are more than max_audio_frames=10"):
        plan_packs([1, 2], 10, audio_lengths=[3, 11], max_audio_frames=10, backend=backend)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lengths=[1, -2], max_tokens=4), r"sample 1: lengths: is -2; expected a length >= 0"),
        (dict(lengths=[[1, 2]], max_tokens=4), r"lengths: expected a 1-D sequence of ints, got shape \(1, 2\)"),
        (dict(lengths=[1.5], max_tokens=4), r"lengths: expected ints, got dtype float64"),
        (dict(lengths=[1], max_tokens=0), r"max_tokens: expected an int in \[1, 4194304\], got 0"),
        (dict(lengths=[1], max_tokens=2**40), r"max_tokens: expected an int in"),
        (dict(lengths=[1], max_tokens=4, audio_lengths=[1]), r"audio_lengths: given without max_audio_frames"),
        (dict(lengths=[1], max_tokens=4, max_audio_frames=3), r"max_audio_frames: given without audio_lengths"),
        (dict(lengths=[1], max_tokens=4, audio_lengths=[1, 2], max_audio_frames=3), r"audio_lengths: 2 entries"),
        (dict(lengths=[1], max_tokens=4, oversized="truncate"), r"oversized: expected one of"),
    ],
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_arguments_name_what_is_wrong(kwargs, message, backend):
    with pytest.raises(ValueError, match=message):
        plan_packs(**kwargs, backend=backend)


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
def test_private_planner_checks_its_arguments():
    core = fastcollate.runtime.backend.core()
    with pytest.raises(ValueError, match=r"lengths: value 11 at position 0 is outside \[0, 10\]"):
        core.packing.plan([11], 10)
    with pytest.raises(ValueError, match=r"lengths: value -1 at position 1"):
        core.packing.plan([1, -1], 10)
    with pytest.raises(ValueError, match=r"audio_lengths: 1 entries for 2 lengths"):
        core.packing.plan([1, 1], 10, [1], 5)
    with pytest.raises(ValueError, match=r"max_tokens: expected an int in"):
        core.packing.plan([1], 0)


def test_large_pool_fills_rows():
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 1200, 20_000)
    packs = plan_packs(lengths, 4096)
    check_plan(packs, lengths.tolist(), 4096)
    assert lengths.sum() / (len(packs) * 4096) > 0.99  # best fit decreasing over a pool leaves almost no room
