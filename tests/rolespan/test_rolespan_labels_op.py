"""role_span_labels on an already padded batch == the labels ChatCollator gives for the same rows (both
paddings, start_index, every preset); compiled == twin bit for bit on hypothesis-drawn specs and batches
(int32/int64 ids, bool/int masks, strided views); out=, no mask, empty shapes."""

import random

import pytest
import torch
from conftest import backends
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_inputs import VIEWS, as_view
from test_rolespan_equivalence import ALPHABET, completion_specs, conversation, role_specs

import fastcollate
from fastcollate import ChatCollator, presets
from fastcollate.rolespan import rolespan_labels_reference as twin

LLAMA3 = presets.llama3()
CHATML = presets.chatml()
# (spec whose labels are compared, spec whose template the chats are written in)
PRESETS = {
    "llama3": (LLAMA3, LLAMA3),
    "llama3-from_start_index": (presets.llama3(turns="from_start_index"), LLAMA3),
    "llama3-last": (presets.llama3(turns="last"), LLAMA3),
    "chatml": (CHATML, CHATML),
    "chatml-from_start_index": (presets.chatml(turns="from_start_index"), CHATML),
    "completion": (presets.completion_only((128006, 78191, 128007, 271)), LLAMA3),
    "completion-instruction": (
        presets.completion_only((128006, 78191, 128007, 271), (128006, 882, 128007, 271)),
        LLAMA3,
    ),
}
PAD = 128001


def chat(template, rng: random.Random):
    """A chat in the template's layout: random roles and content, sometimes cut short."""
    ids = [rng.randrange(200, 10000)]
    roles = [ids for _, ids in template.roles]
    for _ in range(rng.randint(0, 6)):
        content = [rng.randrange(200, 10000) for _ in range(rng.randint(0, 9))]
        ids += list(template.turn_start) + list(rng.choice(roles)) + list(template.header_end) + content
        ids += [template.end_of_turn[rng.randrange(len(template.end_of_turn))]]
    return ids[: rng.randint(0, len(ids))] if rng.random() < 0.3 else ids


def reads_start_index(spec) -> bool:
    """Only a spec that counts turns from start_index is given one (any other spec rejects it)."""
    return spec.mode == "roles" and spec.turns == "from_start_index"


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("pad_left", [False, True])
@pytest.mark.parametrize("preset", PRESETS)
def test_equals_chat_collator_labels(preset, pad_left, backend):
    spec, template = PRESETS[preset]
    rng = random.Random(f"{preset}{pad_left}")
    for _ in range(10):
        rows = [chat(template, rng) for _ in range(rng.randint(1, 6))]
        starts = [rng.choice([None, 0, 1, 2, 3, 5]) for _ in rows] if reads_start_index(spec) else None
        features = [
            {"input_ids": r} if starts is None else {"input_ids": r, "start_index": s}
            for r, s in zip(rows, starts or rows)
        ]
        batch = ChatCollator(
            spec, PAD, pad_left=pad_left, on_empty="keep", backend=backend, pad_to_multiple_of=rng.choice([1, 8])
        )(features)
        for ids_dtype, mask_dtype in [(torch.int64, torch.int64), (torch.int32, torch.bool)]:
            got = fastcollate.role_span_labels(
                batch["input_ids"].to(ids_dtype),
                spec,
                attention_mask=batch["attention_mask"].to(mask_dtype),
                start_index=starts,
            )
            assert got.dtype == torch.int64 and torch.equal(got, batch["labels"]), (rows, starts)


@pytest.mark.parametrize("preset", PRESETS)
def test_unpadded_batch_needs_no_mask(preset):
    spec, template = PRESETS[preset]
    rng = random.Random(preset)
    rows = [chat(template, rng) for _ in range(4)]
    width = max(len(r) for r in rows)
    rows = [r + [7] * (width - len(r)) for r in rows]  # same length: every position is a token
    batch = ChatCollator(spec, PAD, on_empty="keep")([{"input_ids": r} for r in rows])
    assert torch.equal(fastcollate.role_span_labels(batch["input_ids"], spec), batch["labels"])


@st.composite
def padded_batches(draw):
    spec = draw(st.one_of(role_specs(), completion_specs()))
    rows = draw(st.lists(conversation(spec), max_size=5))
    width = max([len(r) for r in rows], default=0) + draw(st.integers(0, 3))
    pad_left = draw(st.booleans())
    pad = draw(st.integers(0, ALPHABET - 1))
    ids = torch.full((len(rows), width), pad, dtype=torch.int64)
    mask = torch.zeros((len(rows), width), dtype=torch.int64)
    for i, r in enumerate(rows):
        cols = slice(width - len(r), width) if pad_left else slice(0, len(r))
        ids[i, cols], mask[i, cols] = torch.tensor(r, dtype=torch.int64), 1
    ids = as_view(ids.to(draw(st.sampled_from([torch.int32, torch.int64]))), draw(st.sampled_from(VIEWS)))
    mask = as_view(
        mask.to(draw(st.sampled_from([torch.bool, torch.int32, torch.int64]))),
        draw(st.sampled_from(["contiguous", "strided"])),
    )
    starts = None
    if reads_start_index(spec) and draw(st.booleans()):  # any other spec rejects a start_index
        starts = draw(st.lists(st.one_of(st.none(), st.integers(-1, 4)), min_size=len(rows), max_size=len(rows)))
        if draw(st.booleans()):
            starts = torch.tensor([0 if s is None else s for s in starts], dtype=torch.int64)
    return spec, ids, mask, starts


@settings(derandomize=True, max_examples=400, deadline=None)
@given(padded_batches())
def test_compiled_equals_twin(case):
    spec, ids, mask, starts = case
    want = twin.role_span_labels(ids, spec, attention_mask=mask, start_index=starts)
    got = fastcollate.role_span_labels(ids, spec, attention_mask=mask, start_index=starts)
    assert torch.equal(got, want), case
    out = torch.full(ids.shape, 5, dtype=torch.int64)
    assert fastcollate.role_span_labels(ids, spec, attention_mask=mask, start_index=starts, out=out) is out
    assert torch.equal(out, want)


def test_out_with_row_stride_and_empty_shapes():
    spec = LLAMA3
    ids = torch.tensor([[128000, 128006, 78191, 128007, 271, 5, 6, 128009]])
    big = torch.full((1, 12), 3, dtype=torch.int64)
    fastcollate.role_span_labels(ids, spec, out=big[:, 2:10])
    assert big[0, 2:10].tolist() == [-100] * 5 + [5, 6, 128009] and (big[:, :2] == 3).all() and (big[:, 10:] == 3).all()
    for shape in [(0, 5), (3, 0), (0, 0)]:
        empty = torch.zeros(shape, dtype=torch.int32)
        assert fastcollate.role_span_labels(empty, spec, attention_mask=empty.bool()).shape == shape
    all_padding = torch.zeros((2, 4), dtype=torch.int64)
    assert (fastcollate.role_span_labels(all_padding, spec, attention_mask=all_padding) == -100).all()


def test_start_index_under_a_spec_that_does_not_read_it_raises():
    """As in every collator: a start_index is never silently ignored."""
    ids = torch.tensor([[128000, 128006, 78191, 128007, 271, 5, 128009]])
    with pytest.raises(
        ValueError,
        match=r"^start_index: is given, but the spec selects turns='all', which does not "
        r"read start_index",
    ):
        fastcollate.ops.role_span_labels(ids, presets.llama3(turns="all"), start_index=[2])
    with pytest.raises(ValueError, match=r"^start_index: is given, but completion-only templates cannot count"):
        fastcollate.ops.role_span_labels(ids, presets.completion_only([5]), start_index=torch.tensor([0]))
    assert fastcollate.ops.role_span_labels(ids, presets.llama3(turns="all"), start_index=[None]).shape == (1, 7)
