"""Fuzzing every native entry point with malformed and extreme inputs (hypothesis, seeded).

Property, per example: the compiled path gives the fallback's result, or raises the same exception class with
the same message (a ValueError or TypeError naming the sample and field); never a crash, a hang, a
sanitizer report (.ci/sanitize.sh runs this file under ASan + UBSan) or a partly written output. The private
`_core` functions, which have no twin, must return or raise ValueError/TypeError for any argument.

Each example runs under a watchdog: a hang dumps every thread's stack and fails the run. The number of
examples per entry point is FASTCOLLATE_FUZZ_EXAMPLES (CI: the default below; the README states the
longest local run).
"""

import faulthandler
import os
import random
from typing import NamedTuple

import numpy as np
import pytest
import torch
from conftest import COMPILED
from higgs_samples import KW, assert_batches_equal, random_batch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastcollate
from fastcollate import ChatCollator, HiggsAudioSampleCollator, ops, presets

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled extension not built: nothing to compare")

EXAMPLES = int(os.environ.get("FASTCOLLATE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
WATCHDOG_SECONDS = 60
LLAMA = [128000, 128006, 78191, 128007, 271, 5, 6, 128009, 128006, 882, 128007, 271, 7, 128009]


class Rejected(NamedTuple):
    kind: type
    message: str


def outcome(fn):
    """fn()'s result, or Rejected(class, message) for a ValueError/TypeError; a hang fails the whole run.
    Outputs under the size limit (2**47 bytes) but past this machine's memory are a RuntimeError naming the
    option before any allocation, compared as they are; one that fits the machine but not its free memory
    fails in the allocator on every backend: Rejected(MemoryError), without the byte count (backends may
    allocate their outputs in one piece or several)."""
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    try:
        return fn()
    except (ValueError, TypeError) as e:
        return Rejected(type(e), str(e))
    except RuntimeError as e:
        if "more than this machine's memory" in str(e):
            return Rejected(RuntimeError, str(e))
        if "can't allocate memory" not in str(e):
            raise
        return Rejected(MemoryError, "torch could not allocate the outputs")
    finally:
        faulthandler.cancel_dump_traceback_later()


def assert_same(a, b):
    if isinstance(a, Rejected) or isinstance(b, Rejected):
        assert a == b
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], torch.Tensor):
                assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
            else:
                assert a[k] == b[k], k
    else:
        assert_batches_equal(a, b)


# ------------------------------------------------------------------------------------------ rows in any form

HUGE = [2**63, -(2**63) - 1, 2**64, 10**30]


@st.composite
def rows(draw):
    """A row in a valid or malformed form: every form users pass, and what a hostile dataset would."""
    base = draw(st.lists(st.sampled_from(LLAMA + [0, 1, -100, -1, 2**31, 2**62]), max_size=30))
    kind = draw(
        st.sampled_from(
            [
                "list",
                "tuple",
                "tensor",
                "numpy",
                "strided",
                "expanded",
                "neg",
                "unaligned",
                "bad_element",
                "huge",
                "bad_dtype",
                "bad_dim",
                "bad_type",
                "broadcast",
            ]
        )
    )
    if kind == "list":
        return base
    if kind == "tuple":
        return tuple(base)
    if kind == "bad_element":
        return base + [draw(st.sampled_from([1.5, True, None, "7", np.float32(2), [3]]))] + base
    if kind == "huge":
        return base + [draw(st.sampled_from(HUGE))]
    if kind == "bad_type":
        return draw(st.sampled_from(["abc", None, 3, {"a": 1}, b"\x01\x02", object()]))
    small = [v for v in base if -(2**31) <= v < 2**31]
    if kind == "numpy":
        dtype = draw(st.sampled_from([np.int64, np.int32, np.int16, np.uint32, np.uint64, ">i8", ">i4", "<u2"]))
        info = np.iinfo(np.dtype(dtype))
        return np.array([v for v in small if info.min <= v <= info.max], dtype=dtype)
    if kind == "bad_dtype":
        return draw(
            st.sampled_from(
                [
                    np.zeros(3),
                    np.zeros(3, dtype=bool),
                    torch.zeros(3),
                    torch.zeros(3, dtype=torch.bool),
                    torch.zeros(3, dtype=torch.int16),
                    np.array(["a"]),
                    np.zeros(2, dtype=object),
                ]
            )
        )
    if kind == "bad_dim":
        return draw(
            st.sampled_from(
                [torch.zeros(2, 2, dtype=torch.long), np.zeros((2, 2), dtype=np.int64), torch.tensor(5), np.int64(5)]
            )
        )
    t = torch.tensor(small, dtype=draw(st.sampled_from([torch.int64, torch.int32])))
    if kind == "tensor":
        return t
    if kind == "strided":
        wide = torch.zeros(2 * len(t) + 1, dtype=t.dtype)
        wide[1::2] = t
        return wide[1::2] if draw(st.booleans()) else wide[1::2].flip(0)
    if kind == "expanded":
        return torch.tensor([5], dtype=t.dtype).expand(draw(st.sampled_from([1, 3, 2**20, 2**40])))
    if kind == "broadcast":
        return np.broadcast_to(np.int64(5), (draw(st.sampled_from([1, 4, 2**30])),))
    if kind == "neg":
        return torch._neg_view(-t)
    raw = bytearray(t.element_size() * len(t) + 1)  # unaligned
    u = torch.frombuffer(raw, dtype=t.dtype, offset=1, count=len(t)) if len(t) else t
    u.copy_(t)
    return u


@st.composite
def features(draw):
    row = draw(rows())
    form = draw(st.sampled_from(["bare", "dict", "dict+start", "dict+extra", "dict-missing"]))
    if form == "bare":
        return row
    feature = {"input_ids": row}
    if form == "dict+start":
        feature["start_index"] = draw(st.sampled_from([None, 0, 2, 5, -3, 2**63, 2**70, "1", 1.0, True]))
    elif form == "dict+extra":
        feature[draw(st.sampled_from(["labels", "attention_mask", "x", 3]))] = [1]
    elif form == "dict-missing":
        feature = {"ids": row}
    return feature


@FUZZ
@given(
    batch=st.lists(features(), min_size=0, max_size=5),
    packed=st.booleans(),
    pad_left=st.booleans(),
    multiple=st.sampled_from([None, 1, 8, 2**62, 2**63 - 1]),
    spec=st.sampled_from(
        [
            presets.llama3(),
            presets.llama3(turns="last"),
            presets.chatml(),
            presets.completion_only([128006, 78191, 128007, 271], [128006, 882, 128007, 271]),
        ]
    ),
    on_empty=st.sampled_from(["keep", "drop", "error"]),
)
def test_fuzz_chat_collator(batch, packed, pad_left, multiple, spec, on_empty):
    if packed:
        multiple = None
    results = [
        outcome(
            lambda b=b: ChatCollator(
                spec,
                128001,
                pad_left=pad_left,
                pad_to_multiple_of=multiple,
                packed=packed,
                on_empty=on_empty,
                backend=b,
                return_num_learned=True,
            )(batch)
        )
        for b in ("python", "cpu")
    ]
    assert_same(*results)


# ------------------------------------------------------------------------------------------ Higgs batches

MUTATIONS = [
    "none",
    "starts_decreasing",
    "starts_negative",
    "starts_past_end",
    "starts_extra",
    "starts_missing",
    "no_placeholder",
    "extra_placeholder",
    "codes_1d",
    "codes_float",
    "codes_expanded",
    "codes_neg",
    "codes_transposed",
    "codes_zero_rows",
    "codes_lists",
    "codes_ragged_lists",
    "ids_lists_huge",
    "labels_short",
    "labels_none_mixed",
    "reward_bad",
    "reward_huge",
    "start_index",
    "mapping",
    "mapping_missing",
    "mapping_extra",
    "not_a_sample",
    "ids_unaligned",
    "labels_numpy_be",
    "audio_labels_shape",
]


# Mutations that build a new tensor or list from the codes.
MATERIALISING = {"codes_float", "codes_neg", "codes_transposed", "codes_lists", "codes_ragged_lists"}


def mutate(batch, name, rng):
    i = rng.randrange(len(batch))
    s = batch[i]
    if not isinstance(getattr(s, "audio_ids_concat", None), torch.Tensor):
        return batch  # an earlier mutation already made it a Mapping or a non-sample
    codes = s.audio_ids_concat
    if name in MATERIALISING and codes.numel() > 2**16:
        return batch  # an expanded 2**30-row view: the harness would build it (24 GB), not the collator
    if name == "starts_decreasing" and len(s.audio_ids_start) > 1:
        s.audio_ids_start = s.audio_ids_start.flip(0)
    elif name == "starts_negative":
        s.audio_ids_start = torch.full_like(s.audio_ids_start, -1)
    elif name == "starts_past_end":
        s.audio_ids_start = s.audio_ids_start + codes.shape[1] + 1
    elif name == "starts_extra":
        s.audio_ids_start = torch.cat([s.audio_ids_start, torch.tensor([0])])
    elif name == "starts_missing":
        s.audio_ids_start = s.audio_ids_start[:-1]
    elif name == "no_placeholder":
        s.input_ids = s.input_ids[(s.input_ids != KW["audio_in_token_id"]) & (s.input_ids != KW["audio_out_token_id"])]
    elif name == "extra_placeholder":
        s.input_ids = torch.cat([s.input_ids, torch.tensor([KW["audio_out_token_id"]], dtype=s.input_ids.dtype)])
    elif name == "codes_1d":
        s.audio_ids_concat = codes.reshape(-1)
    elif name == "codes_float":
        s.audio_ids_concat = codes.float()
    elif name == "codes_expanded" and codes.shape[1]:
        s.audio_ids_concat = codes[:1].expand(rng.choice([2, 2**30]), codes.shape[1])
    elif name == "codes_neg":
        s.audio_ids_concat = torch._neg_view(-codes)
    elif name == "codes_transposed":
        s.audio_ids_concat = codes.t().contiguous().t()
    elif name == "codes_zero_rows":
        for t in batch:
            t.audio_ids_concat = t.audio_ids_concat[:0]
    elif name == "codes_lists":
        s.audio_ids_concat = codes.tolist()
    elif name == "codes_ragged_lists" and codes.shape[0] > 1 and codes.shape[1]:
        s.audio_ids_concat = [r[:-1] if k else r for k, r in enumerate(codes.tolist())]
    elif name == "ids_lists_huge":
        s.input_ids = s.input_ids.tolist() + [rng.choice(HUGE)]
    elif name == "labels_short" and s.label_ids is not None:
        s.label_ids = s.label_ids[:-1]
    elif name == "labels_none_mixed":
        s.label_ids = None
    elif name == "reward_bad":
        s.reward = rng.choice(["x", torch.zeros(2), 1j])
    elif name == "reward_huge":
        s.reward = 10**400
    elif name == "start_index":
        s.start_index = rng.choice([1, 2**63, "a"])
    elif name == "not_a_sample":
        batch[i] = rng.choice([None, 5, "sample"])
    elif name == "ids_unaligned":
        t = s.input_ids.long()
        raw = bytearray(8 * len(t) + 1)
        u = torch.frombuffer(raw, dtype=torch.int64, offset=1, count=len(t)) if len(t) else t
        u.copy_(t)
        s.input_ids = u
    elif name == "labels_numpy_be" and s.label_ids is not None:
        s.label_ids = s.label_ids.numpy().astype(">i8")
    elif name == "audio_labels_shape":
        s.audio_label_ids_concat = codes[:, :-1] if codes.shape[1] else codes[:1]
    elif name.startswith("mapping"):
        d = {k: v for k, v in vars(s).items()}
        if name == "mapping_missing":
            d.pop(rng.choice(["input_ids", "audio_ids_concat", "audio_ids_start", "label_ids"]))
        elif name == "mapping_extra":
            d["speaker"] = "x"
        batch[i] = d
    return batch


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    mutations=st.lists(st.sampled_from(MUTATIONS), max_size=3),
    delay=st.booleans(),
    transform_off=st.booleans(),
    round_to=st.sampled_from([1, 8, 2**62]),
    label_spec=st.booleans(),
    codebooks=st.sampled_from([None, 1, 4]),
)
def test_fuzz_higgs_collator(seed, mutations, delay, transform_off, round_to, label_spec, codebooks):
    kwargs = dict(
        whisper_processor=None,
        **KW,
        encode_whisper_embed=False,
        use_delay_pattern=delay,
        disable_audio_codes_transform=transform_off,
        round_to=round_to,
        audio_num_codebooks=codebooks,
        label_spec=presets.llama3() if label_spec else None,
        on_empty="keep",
    )

    def make():
        batch = random_batch(seed, with_labels=seed % 3 != 0, with_audio_labels=True)
        local = random.Random(seed)
        for name in mutations:
            try:
                batch = mutate(batch, name, local)
            except (AttributeError, TypeError, RuntimeError, IndexError):
                pass  # an earlier mutation left a field this one cannot take apart: keep the batch as it is
        return batch

    results = [outcome(lambda b=b: HiggsAudioSampleCollator(**kwargs, backend=b)(make())) for b in ("python", "cpu")]
    assert_same(*results)


# ------------------------------------------------------------------------------------------ ops (public)


@st.composite
def op_codes(draw):
    kind = draw(
        st.sampled_from(
            ["ok", "ok", "ok", "float", "bool", "1d", "4d", "list", "neg", "unaligned", "expanded", "empty"]
        )
    )
    shape = (draw(st.integers(0, 3)), draw(st.integers(0, 5)), draw(st.integers(0, 9)))
    t = torch.randint(-5, 1030, shape, generator=torch.Generator().manual_seed(draw(st.integers(0, 99))))
    t = t.to(draw(st.sampled_from([torch.int16, torch.int32, torch.int64])))
    if kind == "float":
        return t.float()
    if kind == "bool":
        return t > 0
    if kind == "1d":
        return t.reshape(-1)
    if kind == "4d":
        return t[None]
    if kind == "list":
        return t.tolist()
    if kind == "neg":
        return torch._neg_view(-t)
    if kind == "unaligned" and t.numel():
        raw = bytearray(t.element_size() * t.numel() + 1)
        u = torch.frombuffer(raw, dtype=t.dtype, offset=1, count=t.numel()).view(t.shape)
        u.copy_(t)
        return u
    if kind == "expanded" and t.numel():
        return t[:, :1].expand(t.shape[0], 3, t.shape[2])
    if kind == "empty":
        return t[:, :, :0]
    return t


@FUZZ
@given(
    codes=op_codes(),
    bos=st.sampled_from([1024, -1, 2**40, 2**63, 1.5, "1"]),
    delays=st.one_of(st.none(), st.lists(st.sampled_from([0, 1, 3, 40, -1, 2**40, 2**63]), max_size=6)),
    layout=st.sampled_from(["BKT", "BTK", "KT"]),
    mode=st.sampled_from(["extend", "preserve", "x"]),
    start=st.sampled_from([0, 1, 5, -1, 2**63]),
)
def test_fuzz_delay_ops(codes, bos, delays, layout, mode, start):
    compiled = outcome(lambda: ops.apply_delay_pattern(codes, bos, 1025, delays=delays, layout=layout, mode=mode))
    checked = outcome(lambda: twin_apply(codes, bos, delays, layout, mode))
    if isinstance(compiled, Rejected) or isinstance(checked, Rejected):  # by the shared checks, on every path
        assert checked == compiled
        return
    assert_same(dict(enumerate(compiled)), dict(enumerate(checked)))
    reverted = outcome(lambda: ops.revert_delay_pattern(compiled[0], delays=delays, layout=layout, start_index=start))
    want = outcome(lambda: twin_revert(compiled[0], delays, layout, start))
    if isinstance(reverted, Rejected) or isinstance(want, Rejected):
        assert reverted == want
    else:
        assert torch.equal(reverted, want)


def twin_apply(codes, bos, delays, layout, mode):
    """The twin behind the same boundary checks as the public op."""
    from fastcollate.delay.delay_pattern import apply_delay_pattern
    from fastcollate.runtime import backend

    saved, backend.COMPILED = backend.COMPILED, False
    try:
        return apply_delay_pattern(codes, bos, 1025, delays=delays, layout=layout, mode=mode)
    finally:
        backend.COMPILED = saved


def twin_revert(delayed, delays, layout, start):
    from fastcollate.delay.delay_pattern import revert_delay_pattern
    from fastcollate.runtime import backend

    saved, backend.COMPILED = backend.COMPILED, False
    try:
        return revert_delay_pattern(delayed, delays=delays, layout=layout, start_index=start)
    finally:
        backend.COMPILED = saved


# ------------------------------------------------------------------------------------------ _core, directly


def tensor_like(draw):
    shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=4))
    dtype = draw(st.sampled_from([torch.int64, torch.int32, torch.int16, torch.bool, torch.float32]))
    t = torch.zeros(shape, dtype=dtype)
    unaligned = torch.frombuffer(bytearray(8 * 4 + 1), dtype=torch.int64, offset=1, count=4)
    return draw(
        st.sampled_from(
            [
                t,
                None,
                [1, 2],
                "x",
                torch.zeros(3, dtype=torch.int64)[::2],
                torch.zeros(2, 3, dtype=torch.int64).t(),
                unaligned,
                torch._neg_view(torch.zeros(2, 3, dtype=torch.int64)),
                torch.zeros(1, dtype=torch.int64).expand(2, 3),
            ]
        )
    )


def tensor_core_calls(core, draw, t, ints, delays, spec) -> dict:
    """The `_core` functions whose arguments are tensors, ints and flags, each as a call that draws them (t() gives
    a tensor): test_fuzz_hostile.py passes its hostile tensors to the same calls."""
    return {
        "delay_apply": lambda: core.delay.apply(
            t(), draw(ints), draw(ints), delays, draw(st.booleans()), draw(st.booleans()), t(), t(), draw(st.booleans())
        ),
        "delay_revert": lambda: core.delay.revert(
            t(), delays, draw(st.booleans()), draw(ints), t(), draw(st.booleans())
        ),
        "delay_apply_ragged": lambda: core.delay.apply_ragged(
            t(),
            t(),
            draw(ints),
            draw(ints),
            delays,
            draw(st.booleans()),
            draw(st.booleans()),
            t(),
            t(),
            t(),
            t(),
            draw(st.booleans()),
        ),
        "delay_revert_ragged": lambda: core.delay.revert_ragged(
            t(), t(), delays, draw(st.booleans()), draw(st.booleans()), t(), t(), draw(st.booleans())
        ),
        "role_span_labels": lambda: core.rolespan.labels(t(), t(), t(), spec, t()),
        "collate_rolespan_flat": lambda: core.rolespan.collate_flat(
            t(), t(), spec, 0, draw(st.booleans()), draw(st.sampled_from([1, 8])), draw(st.booleans()), None
        ),
        "collate_rolespan_chunks": lambda: core.rolespan.collate_chunks(
            [(t(), t())], spec, 0, False, 1, draw(st.booleans()), None
        ),
    }


@FUZZ
@given(data=st.data())
def test_fuzz_core_entry_points_never_crash(data):
    """The private functions trust nothing: any arguments return or raise ValueError/TypeError."""
    from fastcollate import _core

    draw = data.draw
    ints = st.sampled_from([0, 1, -1, 3, 2**31, 2**63 - 1, -(2**63)])
    name = draw(
        st.sampled_from(
            [
                "delay_apply",
                "delay_revert",
                "delay_apply_ragged",
                "delay_revert_ragged",
                "delay_apply_sizes",
                "role_span_labels",
                "collate_rolespan_flat",
                "collate_rolespan_chunks",
                "collate_higgs",
            ]
        )
    )
    t = lambda: tensor_like(draw)  # noqa: E731
    delays = draw(st.lists(ints, max_size=4))
    spec = fastcollate.rolespan.native.native_spec(presets.llama3())
    calls = {
        **tensor_core_calls(_core, draw, t, ints, delays, spec),
        "delay_apply_sizes": lambda: _core.delay.apply_sizes(
            draw(ints), draw(ints), draw(ints), delays, draw(st.booleans())
        ),
        "collate_higgs": lambda: _core.higgs_boson.collate(
            random_batch(draw(st.integers(0, 99))),
            HiggsAudioSampleCollator(
                whisper_processor=None, **KW, encode_whisper_embed=False, backend="cpu"
            )._native_options,
            draw(st.one_of(st.none(), st.lists(ints, max_size=6))),
        ),
    }
    outcome(calls[name])  # returns (outputs written, or a tuple) or is Rejected; a crash ends the run


# ------------------------------------------------------------------------------------------ HiggsAudioV2Collator

V2_MUTATIONS = [
    "none",
    "clip_missing",
    "clip_extra",
    "codebooks_differ",
    "clip_1d",
    "clip_float",
    "clip_expanded",
    "clip_neg",
    "clip_ragged_list",
    "ids_huge",
    "ids_float",
    "delay_token_in_ids",
    "not_a_feature",
    "extra_key",
    "start_index_bad",
    "no_train_wrong_length",
    "codes_not_a_list",
    "empty_clip",
]


def mutate_v2(features, name, rng):
    from fastcollate.higgs_hf.config import HIGGS_HF_IDS

    i = rng.randrange(len(features))
    f = features[i]
    if not isinstance(f, dict):
        return features
    clips = list(f.get("audio_codes") or [])
    if name in ("clip_float", "clip_neg") and clips and isinstance(clips[0], torch.Tensor) and clips[0].numel() > 2**16:
        return features  # the expanded 2**40-element clip: the harness would build it, not the collator
    if name == "clip_missing" and clips:
        f["audio_codes"] = clips[:-1]
    elif name == "clip_extra":
        f["audio_codes"] = clips + [torch.zeros(3, 2, dtype=torch.long)]
    elif name == "codebooks_differ" and clips:
        f["audio_codes"] = [torch.zeros(13, 2, dtype=torch.long)] + clips[1:]
    elif name == "clip_1d" and clips:
        f["audio_codes"] = [torch.zeros(5, dtype=torch.long)] + clips[1:]
    elif name == "clip_float" and clips:
        f["audio_codes"] = [torch.as_tensor(clips[0]).float()] + clips[1:]
    elif name == "clip_expanded" and clips:
        f["audio_codes"] = [torch.zeros(1, 1, dtype=torch.long).expand(2**20, 2**20)] + clips[1:]
    elif name == "clip_neg" and clips:
        f["audio_codes"] = [torch._neg_view(-torch.as_tensor(clips[0]))] + clips[1:]
    elif name == "clip_ragged_list" and clips:
        f["audio_codes"] = [[[1, 2], [3]]] + clips[1:]
    elif name == "ids_huge":
        f["input_ids"] = list(f["input_ids"]) + [2**64]
    elif name == "ids_float":
        f["input_ids"] = torch.as_tensor(f["input_ids"]).float()
    elif name == "delay_token_in_ids":
        f["input_ids"] = list(f["input_ids"]) + [HIGGS_HF_IDS["audio_delay_token_id"]]
    elif name == "not_a_feature":
        features[i] = rng.choice([None, 3, "x"])
    elif name == "extra_key":
        f["speaker"] = 1
    elif name == "start_index_bad":
        f["start_index"] = rng.choice(["a", 2**70, -5])
    elif name == "no_train_wrong_length":
        f["audio_no_train"] = [True] * (len(clips) + 1)
    elif name == "codes_not_a_list":
        f["audio_codes"] = torch.zeros(2, 3, dtype=torch.long)
    elif name == "empty_clip" and clips:
        f["audio_codes"] = [torch.as_tensor(clips[0])[:, :0]] + clips[1:]
    return features


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    mutations=st.lists(st.sampled_from(V2_MUTATIONS), max_size=3),
    correct=st.booleans(),
    left=st.booleans(),
    multiple=st.sampled_from([None, 8, 2**62]),
)
def test_fuzz_higgs_hf_collator(seed, mutations, correct, left, multiple):
    from higgs_hf_features import random_features

    from fastcollate import HiggsAudioV2Collator

    def make():
        features = random_features(seed, correct=correct, objects=False)
        local = random.Random(seed)
        for name in mutations:
            try:
                features = mutate_v2(features, name, local)
            except (AttributeError, TypeError, RuntimeError, IndexError):
                pass
        return features

    def collate(backend):
        return HiggsAudioV2Collator(
            128001,
            label_mode="correct" if correct else "processor",
            padding_side="left" if left else "right",
            pad_to_multiple_of=multiple,
            on_empty="keep",
            backend=backend,
        )(make())

    assert_same(outcome(lambda: collate("python")), outcome(lambda: collate("cpu")))
