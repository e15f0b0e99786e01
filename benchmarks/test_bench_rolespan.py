"""Role-span mask + pad: Python reference, numpy-vectorized baseline and compiled kernel in one group.

Run: python -m pytest benchmarks --benchmark-enable. Every benchmark asserts its result; tokens/s is in
extra_info. The compiled kernel is single-threaded.
"""

import numpy as np
import pytest
import torch
from fastcollate.presets import llama3

from fastcollate.rolespan.native import collate_text_flat_native, collate_text_native
from fastcollate.rolespan.reference import IGNORE, collate_text_reference
from fastcollate.synthetic import LLAMA3_IDS as t
from fastcollate.synthetic import synthetic_text_batch

SHAPES = [(32, 2048), (8, 512)]
SPEC = llama3()
HEADER_LEN = 4  # <|start_header_id|> role <|end_header_id|> \n\n


def numpy_baseline(flat: np.ndarray, offsets: np.ndarray, pad: int):
    """Vectorized for well-formed Llama-3 chats only (every turn closed by one end-of-turn): a +1/-1 step at
    each learned span's bounds, cumsum -> mask, then one scatter into the padded batch."""
    starts = np.flatnonzero(flat == t.start_header)
    ends = np.flatnonzero((flat == t.eot) | (flat == t.eom))  # one per turn, in order
    learned = flat[starts + 1] == t.assistant
    step = np.zeros(len(flat) + 1, dtype=np.int64)
    np.add.at(step, starts[learned] + HEADER_LEN, 1)
    np.add.at(step, ends[learned] + 1, -1)
    mask = np.cumsum(step[:-1]) > 0
    labels = np.where(mask, flat, IGNORE)
    lengths = np.diff(offsets)
    B, W = len(lengths), int(lengths.max())
    rows = np.repeat(np.arange(B), lengths)
    cols = np.arange(len(flat)) - np.repeat(offsets[:-1], lengths)
    out_ids = np.full((B, W), pad, dtype=np.int64)
    out_labels = np.full((B, W), IGNORE, dtype=np.int64)
    attention = np.zeros((B, W), dtype=np.int64)
    out_ids[rows, cols], out_labels[rows, cols], attention[rows, cols] = flat, labels, 1
    return {
        "input_ids": torch.from_numpy(out_ids),
        "labels": torch.from_numpy(out_labels),
        "attention_mask": torch.from_numpy(attention),
    }


@pytest.fixture(scope="module", params=SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def case(request):
    B, L = request.param
    rows = [s.input_ids for s in synthetic_text_batch(B, L, seed=0, exchanges=3)]
    flat = torch.cat(rows)
    offsets = torch.tensor([0] + [len(r) for r in rows]).cumsum(0)
    expected = collate_text_native(rows, SPEC, t.pad)
    return dict(
        rows=rows, flat=flat, offsets=offsets, tokens=int(flat.numel()), expected=expected, group=f"rolespan-{B}x{L}"
    )


def check(out, expected, keys=("input_ids", "labels", "attention_mask")):
    for k in keys:
        assert torch.equal(out[k], expected[k]), k


def test_reference(record, case):
    out = record(
        case["group"],
        "reference",
        lambda: collate_text_reference(case["rows"], SPEC, t.pad),
        setup=lambda: ((), {}),
        rounds=3,
        items=case["tokens"],
    )
    check(out, case["expected"], keys=("input_ids", "labels", "attention_mask", "num_learned"))


def test_numpy_baseline(record, case):
    flat, offsets = case["flat"].numpy(), case["offsets"].numpy()
    check(
        record(case["group"], "numpy", lambda: numpy_baseline(flat, offsets, t.pad), items=case["tokens"]),
        case["expected"],
    )


def test_native_rows(record, case):
    out = record(
        case["group"], "native_rows", lambda: collate_text_native(case["rows"], SPEC, t.pad), items=case["tokens"]
    )
    check(out, case["expected"])


def test_native_flat(record, case):
    """The fused mask + pad from one flat int64 buffer: the kernel the throughput target is about."""
    out = record(
        case["group"],
        "native",
        lambda: collate_text_flat_native(case["flat"], case["offsets"], SPEC, t.pad),
        items=case["tokens"],
    )
    check(out, case["expected"], keys=("input_ids", "labels", "attention_mask", "num_learned"))
