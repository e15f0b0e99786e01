"""Compiled role-span collation == the Python reference, bit for bit, on seeded random specs and batches.

Ids come from a tiny alphabet so markers, roles and end-of-turn ids collide with content, sit at row edges,
overlap and get truncated; int32/int64 and strided (non-contiguous) inputs; every layout option.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fastcollate.rolespan.native import collate_text_flat_native, collate_text_native
from fastcollate.rolespan.reference import collate_text_reference
from fastcollate.rolespan.spec import TURNS, RoleSpanSpec, completion_only

ALPHABET = 10  # ids 0..9: everything collides with everything
SETTINGS = settings(derandomize=True, max_examples=400, deadline=None)

pattern = st.lists(st.integers(0, ALPHABET - 1), min_size=1, max_size=3).map(tuple)


@st.composite
def role_specs(draw):
    names = ["system", "user", "assistant", "tool"][: draw(st.integers(1, 4))]
    roles = {n: draw(st.lists(st.integers(0, ALPHABET - 1), min_size=0, max_size=2).map(tuple)) for n in names}
    learned = tuple(n for n in names if draw(st.booleans())) or (names[-1],)
    return RoleSpanSpec(
        turn_start=draw(pattern),
        header_end=draw(pattern),
        roles=roles,
        learned_roles=learned,
        end_of_turn=tuple(draw(st.lists(st.integers(0, ALPHABET - 1), max_size=2))),
        learn_end_of_turn=draw(st.booleans()),
        learn_header=draw(st.booleans()),
        turns=draw(st.sampled_from(TURNS)),
        always_masked=tuple(draw(st.lists(st.integers(0, ALPHABET - 1), max_size=2))),
    )


@st.composite
def completion_specs(draw):
    instruction = draw(st.one_of(st.none(), pattern))
    return completion_only(
        draw(pattern),
        instruction,
        turns=draw(st.sampled_from(TURNS)),
        always_masked=tuple(draw(st.lists(st.integers(0, ALPHABET - 1), max_size=1))),
    )


@st.composite
def conversation(draw, spec):
    """Mostly well-formed turns (so learned spans exist), then cut at a random point; or raw token soup."""
    if draw(st.booleans()):
        return draw(st.lists(st.integers(0, ALPHABET - 1), max_size=40))
    ids = draw(st.lists(st.integers(0, ALPHABET - 1), max_size=3))  # junk before the first turn
    for _ in range(draw(st.integers(0, 5))):
        content = draw(st.lists(st.integers(0, ALPHABET - 1), max_size=6))
        if spec.mode == "completion":
            ids += list(spec.instruction_template or ()) + draw(st.lists(st.integers(0, 9), max_size=3))
            ids += list(spec.response_template) + content
        else:
            role = draw(st.sampled_from([ids for _, ids in spec.roles] + [(ALPHABET - 1,)]))
            eot = list(spec.end_of_turn[:1]) if spec.end_of_turn and draw(st.booleans()) else []
            ids += list(spec.turn_start) + list(role) + list(spec.header_end) + content + eot
    cut = draw(st.integers(0, len(ids)))
    return ids[:cut] if draw(st.booleans()) else ids


@st.composite
def batches(draw):
    spec = draw(st.one_of(role_specs(), completion_specs()))
    rows = draw(st.lists(conversation(spec), min_size=1, max_size=5))
    starts = draw(
        st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-1, 4)), min_size=len(rows), max_size=len(rows)))
    )
    layout = dict(
        pad_token_id=draw(st.integers(0, ALPHABET - 1)),
        pad_left=draw(st.booleans()),
        pad_to_multiple_of=draw(st.sampled_from([1, 3, 8])),
        packed=draw(st.booleans()),
    )
    if layout["packed"]:
        layout["pad_to_multiple_of"] = 1
    return spec, rows, starts, layout, draw(st.sampled_from([torch.int32, torch.int64])), draw(st.booleans())


def assert_same(ref: dict, got: dict, context):
    assert ref.keys() == got.keys(), context
    for k, v in ref.items():
        if isinstance(v, torch.Tensor):
            assert v.dtype == got[k].dtype and torch.equal(v, got[k]), (k, context)
        else:
            assert v == got[k], (k, context)


def strided(row, dtype):
    """A non-contiguous view holding `row` (every other element of a buffer twice as long)."""
    buf = torch.full((2 * len(row) + 1,), -7, dtype=dtype)
    buf[1::2] = torch.tensor(row, dtype=dtype)
    return buf[1::2]


@SETTINGS
@given(batches())
def test_native_equals_reference(case):
    spec, rows, starts, layout, dtype, non_contiguous = case
    ref = collate_text_reference(rows, spec, start_indices=starts, **layout)
    inputs = [strided(r, dtype) if non_contiguous else torch.tensor(r, dtype=dtype) for r in rows]
    got = collate_text_native(inputs, spec, start_indices=starts, **layout)
    assert_same(ref, got, (spec, rows, starts, layout, dtype, non_contiguous))


@SETTINGS
@given(batches())
def test_flat_and_numpy_inputs_equal_reference(case):
    spec, rows, starts, layout, dtype, _ = case
    ref = collate_text_reference(rows, spec, start_indices=starts, **layout)
    np_dtype = np.int32 if dtype == torch.int32 else np.int64
    flat = np.array([v for r in rows for v in r], dtype=np_dtype)
    offsets = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    assert_same(ref, collate_text_flat_native(flat, offsets, spec, start_indices=starts, **layout), "flat")
    assert_same(
        ref,
        collate_text_native([np.array(r, dtype=np_dtype) for r in rows], spec, start_indices=starts, **layout),
        "numpy rows",
    )


@pytest.mark.parametrize("packed", [False, True])
def test_empty_rows_and_empty_batch(packed):
    spec = completion_only((1,))
    for rows in ([], [[]], [[], [2, 1, 3], []]):
        ref = collate_text_reference(rows, spec, 0, packed=packed)
        assert_same(
            ref, collate_text_native([torch.tensor(r, dtype=torch.int64) for r in rows], spec, 0, packed=packed), rows
        )


def test_fill_releases_the_gil_and_is_thread_safe():
    from concurrent.futures import ThreadPoolExecutor

    from fastcollate.presets import llama3

    from fastcollate.synthetic import synthetic_text_batch

    rows = [s.input_ids for s in synthetic_text_batch(8, 512, seed=3)]
    spec = llama3()
    ref = collate_text_native(rows, spec, 0)
    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(lambda _: collate_text_native(rows, spec, 0), range(16)):
            assert_same(ref, got, "threads")
