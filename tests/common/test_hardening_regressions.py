"""Every malformed or extreme input that once crashed, hung, read misaligned memory or made the compiled path
disagree with the fallback (issue 9), kept as a regression test: each backend returns the same batch or
raises the same exception class with the same message, quickly.

Cases that used to crash the process run in a subprocess, so a regression fails the test instead of killing
the whole run."""

import copy
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
import torch
from conftest import COMPILED, backends
from higgs_samples import assert_batches_equal

from fastcollate import ChatCollator, ChatMLDatasetSample, HiggsAudioSampleCollator, presets
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

needs_compiled = pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
LLAMA_CHAT = [128000, 128006, 78191, 128007, 271, 5, 6, 128009]


def outcome(fn):
    """The result, or (exception class, message): what both backends must agree on."""
    try:
        return fn()
    except (ValueError, TypeError) as e:
        return type(e), str(e)


def same_everywhere(make):
    """make(backend) -> a callable; the outcome on every backend, checked equal, is returned."""
    results = [outcome(make(b)) for b in backends()]
    for other in results[1:]:
        if isinstance(results[0], tuple):
            assert other == results[0]
        elif isinstance(results[0], dict):
            assert results[0].keys() == other.keys()
            assert all(torch.equal(results[0][k], other[k]) for k in results[0] if isinstance(other[k], torch.Tensor))
        else:
            assert_batches_equal(other, results[0])
    return results[0]


def higgs(backend, **kwargs):
    return HiggsAudioSampleCollator(**{**higgs_collator_kwargs(), **kwargs}, backend=backend)


def tts(n=4):
    return synthetic_tts_batch(n, seed=0, audio_seconds=(0, 1))


def in_subprocess(code: str, timeout=60):
    """Runs code in a fresh interpreter, outside the checkout (whose source tree would shadow the installed
    package): (returncode, stdout, stderr)."""
    with tempfile.TemporaryDirectory() as where:
        p = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, cwd=where
        )
    return p.returncode, p.stdout, p.stderr


# ------------------------------------------------------------------------------------------ size arithmetic


@pytest.mark.parametrize("round_to", [2**62, 2**63 - 1])
def test_round_to_past_addressable_memory(round_to):
    got = same_everywhere(lambda b: lambda: higgs(b, round_to=round_to)(tts()))
    assert got[0] is ValueError and got[1].startswith("round_to: padding 4 rows of up to ")
    assert got[1].endswith("int64 values, more than a process can address")


@pytest.mark.parametrize("multiple", [2**62, 2**63 - 1])
def test_pad_to_multiple_of_past_addressable_memory(multiple):
    rows = [s.input_ids for s in synthetic_text_batch(2, 100, seed=0)]
    got = same_everywhere(
        lambda b: lambda: ChatCollator(presets.llama3(), 0, pad_to_multiple_of=multiple, backend=b)(rows)
    )
    assert got == (
        ValueError,
        f"pad_to_multiple_of: padding 2 rows of up to 100 tokens to a multiple of {multiple} "
        f"needs 2 x {multiple} int64 values, more than a process can address",
    )


def test_options_past_int64_are_rejected_at_construction():
    for backend in backends():
        with pytest.raises(
            ValueError, match=r"^round_to: expected an int >= 1 that fits in int64, got 9223372036854775808$"
        ):
            higgs(backend, round_to=2**63)
        with pytest.raises(ValueError, match=r"^pad_token_id: expected an int64, got 9223372036854775808$"):
            higgs(backend, pad_token_id=2**63)
        with pytest.raises(ValueError, match=r"^pad_token_id: expected an int64, got 9223372036854775808$"):
            ChatCollator(presets.llama3(), 2**63, backend=backend)
        with pytest.raises(ValueError, match=r"^pad_to_multiple_of: expected an int >= 1 that fits in int64"):
            ChatCollator(presets.llama3(), 0, pad_to_multiple_of=2**63, backend=backend)


def test_spec_ids_past_int64_are_rejected():
    with pytest.raises(
        ValueError, match=r"^end_of_turn: token ids must be < 2\*\*63 \(int64\), got \(9223372036854775808,\)$"
    ):
        presets.llama3(end_of_turn=(2**63,))


# ------------------------------------------------------------------------------------------ views that repeat memory


def test_expanded_input_ids_do_not_hang():
    """2**40 copies of one id: once a native loop over 2**40 elements with the GIL released."""
    ids = torch.tensor([5]).expand(2**40)
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b, on_empty="keep")([ids]))
    assert got == (
        ValueError,
        "sample 0: input_ids: expected a view whose elements stay within its storage: "
        "1099511627776 elements over 1 stored (an expanded tensor?); pass a contiguous copy",
    )


def test_expanded_codes_are_rejected():
    batch = tts()
    width = batch[1].audio_ids_concat.shape[1]
    batch[1].audio_ids_concat = torch.zeros(1, width, dtype=torch.long).expand(2**40, width)
    got = same_everywhere(lambda b: lambda: higgs(b)(batch))
    assert got[0] is ValueError and got[1].startswith(
        "sample 1: audio_ids_concat: expected a view whose elements stay within its storage: "
    )


def test_small_expanded_views_within_their_storage_are_read():
    """Repeating memory is fine while the view has no more elements than its storage."""
    base = torch.tensor(LLAMA_CHAT + [9] * 20)
    ids = base[:8].as_strided((8,), (1,))  # plain
    repeated = base.as_strided((12,), (1,))[:8]
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b)([ids, repeated]))
    assert got["input_ids"].shape == (2, 8)


def test_broadcast_numpy_rows_are_rejected():
    row = np.broadcast_to(np.int64(7), (2**20,))
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b, on_empty="keep")([row]))
    assert got == (
        ValueError,
        "sample 0: input_ids: expected an array whose elements do not overlap: 1048576 "
        "elements over 1 distinct ones (np.broadcast_to?); pass a contiguous copy",
    )


# ------------------------------------------------------------------------------------------ unaligned memory


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_unaligned_tensors_read_the_same_values(dtype):
    raw = bytearray(8 * (len(LLAMA_CHAT) + 1))
    ids = torch.frombuffer(raw, dtype=dtype, offset=1, count=len(LLAMA_CHAT))
    ids.copy_(torch.tensor(LLAMA_CHAT, dtype=dtype))
    assert ids.data_ptr() % ids.element_size() != 0
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b)([ids]))
    assert got["input_ids"][0].tolist() == LLAMA_CHAT


def test_unaligned_numpy_and_higgs_fields():
    raw = np.zeros(8 * len(LLAMA_CHAT) + 1, dtype=np.uint8)
    ids = np.frombuffer(raw.data, dtype=np.int64, count=len(LLAMA_CHAT), offset=1).copy()
    view = np.frombuffer(raw.data, dtype=np.int64, count=len(LLAMA_CHAT), offset=1)
    view.setflags(write=False)
    raw[1:] = np.frombuffer(np.array(LLAMA_CHAT, dtype=np.int64).tobytes(), dtype=np.uint8)
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b)([view]))
    assert got["input_ids"][0].tolist() == LLAMA_CHAT and ids.shape == view.shape
    batch = tts(2)
    codes = batch[0].audio_ids_concat
    buf = bytearray(codes.numel() * 8 + 1)
    odd = torch.frombuffer(buf, dtype=torch.int64, offset=1, count=codes.numel()).view(codes.shape)
    odd.copy_(codes)
    want = higgs("python")(batch)
    batch[0].audio_ids_concat = odd
    assert_batches_equal(same_everywhere(lambda b: lambda: higgs(b)(batch)), want)


# ------------------------------------------------------------------------------------------ compiled != fallback


def test_zero_codebooks_with_the_delay_pattern_match_upstream(upstream):
    batch = tts(2)
    for s in batch:
        s.audio_ids_concat = s.audio_ids_concat[:0]
    want = upstream.HiggsAudioSampleCollator(**higgs_collator_kwargs())(copy.deepcopy(batch))
    got = same_everywhere(lambda b: lambda: higgs(b)(batch))
    assert_batches_equal(got, want)
    assert got.audio_out_ids.shape[0] == 0 and got.audio_out_ids.shape[1] > 0  # upstream's L + 2 + K - 1 columns


def test_an_id_equal_to_minus_100_is_not_counted_as_learned():
    ids = LLAMA_CHAT[:6] + [-100] + LLAMA_CHAT[6:]
    got = same_everywhere(
        lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b, return_num_learned=True)([ids])
    )
    assert got["num_learned"].tolist() == [3]  # 5, 6 and <|eot_id|>; the -100 is a masked label
    only = LLAMA_CHAT[:5] + [-100, 128009]
    dropped = same_everywhere(
        lambda b: (
            lambda: ChatCollator(presets.llama3(), 0, backend=b, on_empty="drop", return_num_learned=True)([only, ids])
        )
    )
    assert dropped["num_learned"].tolist() == [1, 3]


def test_big_endian_rows():
    rows = [np.array(LLAMA_CHAT, dtype=">i8"), np.array(LLAMA_CHAT, dtype=">i4")]
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b)(rows))
    assert got["input_ids"].tolist() == [LLAMA_CHAT, LLAMA_CHAT]


def test_start_index_past_int64():
    got = same_everywhere(
        lambda b: (
            lambda: ChatCollator(presets.llama3(), 0, backend=b, on_empty="keep")(
                [{"input_ids": LLAMA_CHAT, "start_index": 2**63}, {"input_ids": LLAMA_CHAT, "start_index": -(2**70)}]
            )
        )
    )
    assert got["labels"][0].eq(-100).all() and got["labels"][1].ne(-100).sum() == 3


def test_negative_views_read_their_values():
    ids = torch._neg_view(-torch.tensor(LLAMA_CHAT))
    assert ids.is_neg()
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b)([ids]))
    assert got["input_ids"][0].tolist() == LLAMA_CHAT
    batch = tts(2)
    want = higgs("python")(batch)
    batch[1].audio_ids_concat = torch._neg_view(-batch[1].audio_ids_concat)
    batch[1].input_ids = torch._neg_view(-batch[1].input_ids)
    assert_batches_equal(same_everywhere(lambda b: lambda: higgs(b)(batch)), want)


# ------------------------------------------------------------------------------------------ errors that name the sample


@pytest.mark.parametrize(
    "bad, message",
    [
        (None, "sample 1: input_ids: missing: the sample (a NoneType) has no such attribute"),
        (7, "sample 1: input_ids: missing: the sample (a int) has no such attribute"),
    ],
)
def test_a_non_sample_is_named(bad, message):
    batch = tts(2)
    batch[1] = bad
    assert same_everywhere(lambda b: lambda: higgs(b)(batch)) == (ValueError, message)


def test_a_huge_reward_is_named():
    batch = tts(2)
    batch[1].reward = 10**400
    assert same_everywhere(lambda b: lambda: higgs(b)(batch)) == (
        ValueError,
        "sample 1: reward: is too large to convert to a float",
    )


def test_an_int_past_int64_in_a_row_is_named():
    got = same_everywhere(lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b)([LLAMA_CHAT, [1, 2**63]]))
    assert got == (ValueError, "sample 1: input_ids: value 9223372036854775808 at position 1 does not fit in int64")


def test_errors_come_in_sample_order():
    """A bad field of sample 0 is reported before a bad field of sample 2, on both backends."""
    batch = tts(3)
    batch[0].label_ids = batch[0].label_ids[:-1]
    batch[2].audio_ids_start = torch.tensor([5, 2])
    got = same_everywhere(lambda b: lambda: higgs(b)(batch))
    assert got[0] is ValueError and got[1].startswith("sample 0: label_ids: length")


# ------------------------------------------------------------------------------------------ private entry points


@needs_compiled
@pytest.mark.parametrize(
    "counts, message",
    [
        ("[-5, 1]", "chunk_counts: entry 0 is -5, expected >= 1"),
        ("[0, 1]", "chunk_counts: entry 0 is 0, expected >= 1"),
        ("[1, 1, 1]", "chunk_counts: 3 counts for 2 audio-in tokens"),
        # 3 x 2**40 tokens a row: within the address space, past the machine's memory (RuntimeError naming the
        # option, before the outputs are reserved or allocated)
        (
            "[2**40, 1]",
            "RuntimeError: round_to: padding 2 rows of up to 3298534883569 tokens to a multiple of 8 needs "
            "2 x 3298534883576 int64 values, more than this machine's memory",
        ),
    ],
)
def test_collate_higgs_does_not_trust_chunk_counts(counts, message):
    code = f"""
        import fastcollate
        from fastcollate.runtime.backend import core
        from fastcollate.higgs_boson.native import native_options
        from fastcollate.synthetic import higgs_collator_kwargs, synthetic_tts_batch
        batch = synthetic_tts_batch(2, seed=0, audio_seconds=(0, 1))
        c = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cpu")
        try:
            core().higgs_boson.collate(batch, c._native_options, {counts})
            print("no error")
        except (ValueError, RuntimeError) as e:
            print(f"{{type(e).__name__}}:", e)
    """
    rc, out, err = in_subprocess(code)
    assert rc == 0, err
    assert message in out, out


@needs_compiled
def test_collate_higgs_rejects_repeating_an_audio_token_at_the_row_edge():
    code = """
        import torch, fastcollate
        from fastcollate.runtime.backend import core
        from fastcollate.synthetic import higgs_collator_kwargs, synthetic_tts_batch
        batch = synthetic_tts_batch(1, seed=0, audio_seconds=(0, 1))
        s = batch[0]
        s.input_ids = torch.tensor([128015] + [5] * 3)
        s.label_ids = None
        s.audio_ids_start = torch.tensor([0])
        c = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(return_audio_in_tokens=False), backend="cpu")
        try:
            core().higgs_boson.collate(batch, c._native_options, [3])
            print("no error")
        except ValueError as e:
            print("ValueError:", e)
    """
    rc, out, err = in_subprocess(code)
    assert rc == 0, err
    assert "sample 0: input_ids: audio-in token at position 0 cannot be repeated" in out, out


def test_a_bytes_row_is_read_as_its_buffer():
    """Found by the fuzzer: bytes are a buffer of uint8; the fallback once parsed them as a string."""
    got = same_everywhere(
        lambda b: lambda: ChatCollator(presets.llama3(), 0, backend=b, on_empty="keep")([b"\x01\x02"])
    )
    assert got["input_ids"].tolist() == [[1, 2]]


# ------------------------------------------------------------------------------------------ found by the long fuzz runs


def each_ops_backend(fn):
    """fn()'s outcome with the compiled ops and with their pure-Python twins, checked equal."""
    from fastcollate.runtime import backend

    results = []
    for compiled in [True, False] if backend.COMPILED else [False]:
        saved, backend.COMPILED = backend.COMPILED, compiled
        try:
            results.append(outcome(fn))
        finally:
            backend.COMPILED = saved
    for other in results[1:]:
        if isinstance(results[0], tuple) and isinstance(results[0][0], type):
            assert other == results[0]
        else:
            assert all(same_tensor(a, b) for a, b in zip(as_list(results[0]), as_list(other), strict=True))
    return results[0]


def same_tensor(a, b):
    return a is None and b is None or torch.equal(a, b)


def negative_view(t):
    return torch._neg_view(-t)


def unaligned_copy(t):
    raw = bytearray(t.element_size() * t.numel() + 1)
    u = torch.frombuffer(raw, dtype=t.dtype, offset=1, count=t.numel()).view(t.shape)
    u.copy_(t)
    return u


def as_list(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


@pytest.mark.parametrize("view", [negative_view, unaligned_copy])
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 0, 5), (0, 3, 5)])
def test_ops_read_negative_and_unaligned_views_as_their_values(view, shape):
    """The compiled ops rejected them (the twins read them), on apply, revert and the ragged ops alike."""
    from fastcollate import ops

    codes = torch.randint(0, 1024, shape)
    if view is unaligned_copy and codes.numel() == 0:
        pytest.skip("torch.frombuffer needs at least one element")
    plain = ops.apply_delay_pattern(codes, 1024, 1025)
    got = each_ops_backend(lambda: ops.apply_delay_pattern(view(codes), 1024, 1025))
    assert all(torch.equal(a, b) for a, b in zip(got, plain))
    got = each_ops_backend(lambda: ops.revert_delay_pattern(view(plain[0])))
    assert torch.equal(got, codes)
    flat = codes.reshape(-1, shape[-1]) if shape[1] else codes[0]  # (K, N)
    offsets = torch.tensor([0, flat.shape[1] // 2, flat.shape[1]])
    want = ops.apply_delay_pattern_ragged(flat, offsets, 1024, 1025, stream_bos_eos=True)
    got = each_ops_backend(
        lambda: ops.apply_delay_pattern_ragged(view(flat), view(offsets), 1024, 1025, stream_bos_eos=True)
    )
    assert all(same_tensor(a, b) for a, b in zip(as_list(got), as_list(want), strict=True))


@pytest.mark.parametrize("view", [negative_view, unaligned_copy])
def test_ops_write_through_negative_and_unaligned_out_tensors(view):
    from fastcollate import ops

    codes = torch.randint(0, 1024, (2, 3, 5))
    plain = ops.apply_delay_pattern(codes, 1024, 1025)

    def run():
        out = (view(torch.zeros_like(plain[0])), view(torch.zeros_like(plain[1])))
        ops.apply_delay_pattern(codes, 1024, 1025, out=out)
        return out

    got = each_ops_backend(run)
    assert all(torch.equal(a, b) for a, b in zip(got, plain))


@pytest.mark.parametrize("view", [negative_view, unaligned_copy])
def test_role_span_labels_reads_negative_and_unaligned_views(view):
    from fastcollate import ops

    ids = torch.tensor([LLAMA_CHAT + [128001, 128001], LLAMA_CHAT[:6] + [128001] * 4])
    mask = (torch.arange(10) < torch.tensor([[8], [6]])).long()
    want = ops.role_span_labels(ids, presets.llama3(), attention_mask=mask)
    got = each_ops_backend(lambda: ops.role_span_labels(view(ids), presets.llama3(), attention_mask=view(mask)))
    assert torch.equal(got, want)
    out_view = lambda: view(torch.zeros_like(want))  # noqa: E731
    got = each_ops_backend(
        lambda: (lambda o: (ops.role_span_labels(ids, presets.llama3(), attention_mask=mask, out=o), o)[1])(out_view())
    )
    assert torch.equal(got, want)


def test_revert_start_index_past_int64_is_named():
    """The compiled op raised pybind11's TypeError, the twin torch.library's RuntimeError."""
    from fastcollate import ops

    got = each_ops_backend(lambda: ops.revert_delay_pattern(torch.zeros(1, 2, 5, dtype=torch.long), start_index=2**63))
    assert got == (ValueError, f"start_index: {2**63} does not fit int64")


def test_an_out_tensor_overlapping_negative_codes_is_still_named():
    """Negative codes are read from a copy, but out= is checked against the caller's codes."""
    from fastcollate import ops

    memory = torch.zeros(40, dtype=torch.long)
    codes = torch._neg_view(memory[:10].view(1, 2, 5))
    out = (memory[5:17].view(1, 2, 6), torch.zeros(1, 2, 6, dtype=torch.long))
    got = each_ops_backend(lambda: ops.apply_delay_pattern(codes, 1024, 1025, out=out))
    assert got == (ValueError, "out[0]: overlaps codes in memory")


# ------------------------------------------------------------------------------------------ backends agree (issue 21)

META_INT = torch.tensor(1, device="meta")  # an int whose __index__ raises RuntimeError, not TypeError
META_FAILURE = "its __index__ raised RuntimeError: Tensor.item() cannot be called on meta tensors"


def outcome_with(fn, errors):
    """outcome(), with more exception classes compared (class and message) instead of raised."""
    try:
        return fn()
    except errors as e:
        return type(e), str(e)


def v2(backend, **options):
    from higgs_hf_features import PAD

    from fastcollate import HiggsAudioV2Collator

    # v2_features' clips have 2 codebooks; these regressions were found under the processor's labels, where
    # start_index is not read.
    return HiggsAudioV2Collator(PAD, backend=backend, **{"num_codebooks": 2, "label_mode": "processor", **options})


def v2_features(**fields):
    from higgs_hf_features import AUDIO

    return [{"input_ids": [128000, 5, AUDIO, 6], "audio_codes": [torch.zeros((2, 3), dtype=torch.long)], **fields}]


def with_start_index(batch, value):
    for s in batch:
        s.start_index = value
    return batch


@pytest.mark.parametrize("value", [torch.tensor(1.0), META_INT])
def test_a_start_index_that_is_no_int_is_named_where_it_is_not_read(value):
    """The compiled path raised the __index__'s bare exception (TypeError for a float tensor) where the collator
    does not read start_index, the twin a ValueError naming the sample."""
    failure = "" if value.is_floating_point() else f" ({META_FAILURE})"
    want = (ValueError, f"sample 0: start_index: expected an int or None, got Tensor{failure}")
    errors = (ValueError, TypeError, RuntimeError)
    assert (
        same_everywhere(lambda b: lambda: outcome_with(lambda: v2(b)(v2_features(start_index=value)), errors)) == want
    )
    assert (
        same_everywhere(lambda b: lambda: outcome_with(lambda: higgs(b)(with_start_index(tts(2), value)), errors))
        == want
    )
    rows = [{"input_ids": LLAMA_CHAT, "start_index": value}]
    spec = presets.llama3(turns="all")  # reads no start_index
    assert (
        same_everywhere(lambda b: lambda: outcome_with(lambda: ChatCollator(spec, 0, backend=b)(rows), errors)) == want
    )


def test_a_start_index_whose_index_fails_otherwise_is_named_in_order():
    """A 0-d meta tensor's __index__ raises RuntimeError: the compiled path let it out while reading the batch
    (before errors of earlier fields), the twin where it checked the field; now a ValueError in the twin's order."""
    errors = (ValueError, TypeError, RuntimeError)
    want = (ValueError, f"sample 0: start_index: expected an int or None, got Tensor ({META_FAILURE})")
    read = dict(label_mode="correct")  # reads start_index
    assert (
        same_everywhere(
            lambda b: lambda: outcome_with(lambda: v2(b, **read)(v2_features(start_index=META_INT)), errors)
        )
        == want
    )
    rows = [{"input_ids": LLAMA_CHAT, "start_index": META_INT}]
    assert (
        same_everywhere(
            lambda b: lambda: outcome_with(lambda: ChatCollator(presets.llama3(), 0, backend=b)(rows), errors)
        )
        == want
    )
    # An earlier field's error comes first; a later sample's error after it.
    batch = lambda: v2_features(start_index=META_INT) + v2_features(input_ids="x")  # noqa: E731
    assert same_everywhere(lambda b: lambda: outcome_with(lambda: v2(b, **read)(batch()), errors)) == want
    first = lambda: [{**v2_features()[0], "input_ids": [1.5], "start_index": META_INT}]  # noqa: E731
    assert same_everywhere(lambda b: lambda: outcome_with(lambda: v2(b, **read)(first()), errors)) == (
        ValueError,
        "sample 0: input_ids: expected a list of ints, got float at position 0",
    )


def test_a_list_item_whose_index_fails_otherwise_is_named():
    """The same in a list of ids (1-D) and of codes (2-D): a ValueError naming the sample, field and position."""
    from higgs_hf_features import AUDIO

    errors = (ValueError, TypeError, RuntimeError)
    rows = [LLAMA_CHAT[:3] + [META_INT] + LLAMA_CHAT[4:]]
    assert same_everywhere(
        lambda b: lambda: outcome_with(lambda: ChatCollator(presets.llama3(), 0, backend=b)(rows), errors)
    ) == (ValueError, f"sample 0: input_ids: expected a list of ints, got Tensor at position 3 ({META_FAILURE})")
    codes = [[0, 0, 0], [0, META_INT, 0]]
    feats = lambda: [{"input_ids": [128000, 5, AUDIO, 6], "audio_codes": [codes]}]  # noqa: E731
    got = same_everywhere(lambda b: lambda: outcome_with(lambda: v2(b)(feats()), errors))
    assert got[0] is ValueError and got[1].endswith(f"got Tensor at position (1, 1) ({META_FAILURE})")
    assert got[1].startswith("sample 0: audio_codes")


def test_an_index_that_raises_no_exception_class_still_propagates():
    """KeyboardInterrupt-like exceptions (BaseException only) are never turned into a ValueError."""

    class Stop(BaseException):
        pass

    class Interrupting:
        def __index__(self):
            raise Stop

    for b in backends():
        with pytest.raises(Stop):
            ChatCollator(presets.llama3(), 0, backend=b)([{"input_ids": LLAMA_CHAT, "start_index": Interrupting()}])
        with pytest.raises(Stop):
            ChatCollator(presets.llama3(), 0, backend=b)([LLAMA_CHAT + [Interrupting()]])
        with pytest.raises(Stop):
            v2(b, label_mode="correct")(v2_features(start_index=Interrupting()))


def padding_past_memory(what, rows, longest, multiple):
    from fastcollate.common.sizes import MACHINE_MEMORY

    return (
        RuntimeError,
        f"{what}: padding {rows} rows of up to {longest} tokens to a multiple of {multiple} needs {rows} x "
        f"{multiple} int64 values, more than this machine's memory ({MACHINE_MEMORY} bytes)",
    )


@pytest.mark.skipif(not __import__("fastcollate.common.sizes").common.sizes.MACHINE_MEMORY, reason="memory unknown")
def test_padding_past_the_machines_memory_is_named_before_allocating():
    """pad_to_multiple_of / round_to = 2**40 (8 TiB a row, within the address space): the compiled path raised
    MemoryError: std::bad_alloc naming nothing, the twins torch's RuntimeError or a MemoryError."""
    errors = (ValueError, TypeError, RuntimeError, MemoryError)
    rows = [LLAMA_CHAT, LLAMA_CHAT[:5]]
    got = same_everywhere(
        lambda b: (
            lambda: outcome_with(
                lambda: ChatCollator(presets.llama3(), 0, pad_to_multiple_of=2**40, backend=b)(rows), errors
            )
        )
    )
    assert got == padding_past_memory("pad_to_multiple_of", 2, 8, 2**40)
    got = same_everywhere(
        lambda b: lambda: outcome_with(lambda: v2(b, pad_to_multiple_of=2**40)(v2_features()), errors)
    )
    assert got[0] is RuntimeError and got[1].startswith("pad_to_multiple_of: padding 1 rows of up to ")
    assert got[1].endswith(padding_past_memory("", 1, 0, 2**40)[1].split("int64 values")[1])
    got = same_everywhere(lambda b: lambda: outcome_with(lambda: higgs(b, round_to=2**40)(tts()), errors))
    assert got[0] is RuntimeError and got[1].startswith("round_to: padding 4 rows of up to ")
    assert "more than this machine's memory" in got[1]


def test_a_stream_error_comes_before_padding_past_the_machines_memory():
    """The memory check runs after the batch's other checks: a bad audio stream is named first."""
    errors = (ValueError, TypeError, RuntimeError, MemoryError)

    def batch():
        b = tts(2)
        b[1].audio_ids_concat = b[1].audio_ids_concat[:-1]
        return b

    got = same_everywhere(lambda b: lambda: outcome_with(lambda: higgs(b, round_to=2**40)(batch()), errors))
    assert got == (
        ValueError,
        "sample 1: audio_ids_concat: 7 codebooks in an audio-in segment, but earlier ones in the batch have 8",
    )


@pytest.mark.parametrize(
    "offsets, message",
    [
        ([0, 7], "offsets: last entry = 7, expected 6 (the number of columns)"),
        ([1, 6], "offsets: entry 0 = 1, expected 0"),
        ([0, 4, 2, 6], "offsets: decreases at entry 2 (4 > 2)"),
    ],
)
def test_ragged_offsets_are_checked_before_sizing_the_output(offsets, message):
    """Bad offsets with delays=[2**40]: the compiled op allocated the output (tens of TB) before reading the
    offsets; every backend now names the offsets first."""
    from fastcollate import ops

    codes = torch.zeros((4, 6), dtype=torch.long)
    errors = (ValueError, TypeError, RuntimeError, MemoryError)
    got = each_ops_backend(
        lambda: outcome_with(
            lambda: ops.apply_delay_pattern_ragged(codes, offsets, 1, 2, delays=[2**40] * 4, return_labels=True),
            errors,
        )
    )
    assert got == (ValueError, message)


@pytest.mark.skipif(not __import__("fastcollate.common.sizes").common.sizes.MACHINE_MEMORY, reason="memory unknown")
def test_delay_outputs_past_the_machines_memory_name_delays():
    """An output within the address space but past the machine's memory: torch's allocator error (naming
    nothing, a byte count that differed between backends) before; now refused before allocating."""
    from fastcollate import ops
    from fastcollate.common.sizes import MACHINE_MEMORY

    codes = torch.zeros((4, 6), dtype=torch.long)
    errors = (ValueError, TypeError, RuntimeError, MemoryError)
    total = 6 + 2 * (2**40 + 2)
    got = each_ops_backend(
        lambda: outcome_with(
            lambda: ops.apply_delay_pattern_ragged(
                codes, [0, 3, 6], 1, 2, delays=[2**40] * 4, stream_bos_eos=True, return_labels=True
            ),
            errors,
        )
    )
    assert got == (
        RuntimeError,
        f"delays: the output needs {4 * total * 8} bytes, more than this machine's memory ({MACHINE_MEMORY} bytes)",
    )
    got = each_ops_backend(
        lambda: outcome_with(lambda: ops.apply_delay_pattern(codes, 1, 2, delays=[0, 1, 2, 2**40]), errors)
    )
    assert got == (
        RuntimeError,
        f"delays: the output needs {2 * 4 * (6 + 2**40) * 8} bytes, more than this machine's memory "
        f"({MACHINE_MEMORY} bytes)",
    )


def test_role_span_labels_takes_none_start_indices_under_a_spec_that_reads_none():
    """start_index=[None] means "not given" (as a feature without one): the compiled op returned the labels,
    the twin raised "start_index: is given" on the zeros the first check had made of it."""
    from fastcollate import ops

    ids = torch.tensor([LLAMA_CHAT])
    spec = presets.llama3(turns="all")
    want = ops.role_span_labels(ids, spec)
    assert torch.equal(each_ops_backend(lambda: ops.role_span_labels(ids, spec, start_index=[None])), want)
    assert torch.equal(each_ops_backend(lambda: ops.role_span_labels(ids, spec, start_index=(None,))), want)
    got = each_ops_backend(lambda: ops.role_span_labels(ids, spec, start_index=[None], out=torch.zeros_like(want)))
    assert torch.equal(got, want)
    # Still one entry per row, and a given entry is still an error.
    assert each_ops_backend(lambda: ops.role_span_labels(ids, spec, start_index=[None, None])) == (
        ValueError,
        "start_index: expected 1 entries (one per row), got 2",
    )
    got = each_ops_backend(lambda: ops.role_span_labels(ids, spec, start_index=[0]))
    assert got[0] is ValueError and got[1].startswith("start_index: is given, but the spec selects turns='all'")


@pytest.mark.parametrize("packed", [False, True])
def test_v2_audio_past_the_machine_memory_is_refused_before_any_clip_is_delayed(packed):
    """An empty clip of 2**20 codebooks is 2**20 + 1 frames of 2**20 codes: 8 TiB of audio_input_ids. The twin
    met it in the delay op ("delays: the output needs ..."), the compiled path in its allocator ("batch: can't
    allocate memory"): now both check the batch's audio before delaying anything, with one message."""
    from fastcollate.common.sizes import MACHINE_MEMORY

    if not MACHINE_MEMORY:
        pytest.skip("the machine's memory is unknown here: nothing is checked against it")
    features = [{"input_ids": [1, 2, 128016, 3], "audio_codes": [torch.zeros((2**20, 0), dtype=torch.long)]}]
    got = {
        b: outcome_with(
            lambda b=b: v2(b, packed=packed, num_codebooks=2**20)(features), (ValueError, RuntimeError, MemoryError)
        )
        for b in backends()
    }
    frames = 2**20 + 1
    want = (
        RuntimeError,
        f"audio_codes: the batch's audio_input_ids needs {frames * 2**20 * 8} bytes, more than this machine's "
        f"memory ({MACHINE_MEMORY} bytes)",
    )
    assert set(got.values()) == {want}


def test_boson_audio_stream_past_the_machine_memory_is_refused_before_allocating():
    """An audio-out segment of 2**20 codebooks and no frames is 2**20 + 1 columns wide with the delay pattern
    (8 TiB of audio_out_ids): the twin failed in torch's allocator, the compiled path in its own, with different
    messages (found by the hostile fuzzer, from a resize that gave an expanded clip real storage). Now both refuse
    the stream before allocating, with one message."""
    from fastcollate.common.sizes import MACHINE_MEMORY
    from fastcollate.synthetic import LLAMA3_IDS as T

    if not MACHINE_MEMORY:
        pytest.skip("the machine's memory is unknown here: nothing is checked against it")
    sample = ChatMLDatasetSample(
        input_ids=torch.tensor([1, T.audio_out, 2]),
        label_ids=torch.tensor([1, T.audio_out, 2]),
        audio_ids_concat=torch.zeros((2**20, 0), dtype=torch.long),
        audio_ids_start=torch.tensor([0]),
        audio_waveforms_concat=None,
        audio_waveforms_start=None,
        audio_sample_rate=None,
        audio_speaker_indices=None,
    )
    got = {b: outcome_with(lambda b=b: higgs(b)([sample]), (ValueError, RuntimeError, MemoryError)) for b in backends()}
    want = (
        RuntimeError,
        f"audio_ids_concat: the batch's audio-out stream needs {2**20 * (2**20 + 1) * 8} bytes, more than this "
        f"machine's memory ({MACHINE_MEMORY} bytes)",
    )
    assert set(got.values()) == {want}
