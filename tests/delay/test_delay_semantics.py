"""What the delay-pattern ops mean, checked against definitions written out here and against upstream:
boson-multimodal's build_delay_pattern_mask / revert_delay_pattern (default arguments), transformers'
HiggsAudioV2Processor.build_delay_pattern ((B, T, K) layout, stream BOS head, EOS tail), "preserve" as a plain
shift, streaming revert, the ragged form == the Higgs collator's audio streams, and size arithmetic past 2**31
elements on meta tensors (nothing allocated)."""

import pytest
import torch
from conftest import COMPILED, backends
from higgs_samples import AUDIO_IN, AUDIO_OUT, BOS, EOS, random_batch

import fastcollate
from fastcollate.delay import delay_pattern_reference as twin
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_tts_batch

IMPLEMENTATIONS = {"public": fastcollate.apply_delay_pattern, "twin": twin.apply_delay_pattern}
REVERTS = {"public": fastcollate.revert_delay_pattern, "twin": twin.revert_delay_pattern}


@pytest.fixture(scope="module")
def upstream_utils():
    try:
        from boson_multimodal.model.higgs_audio import utils
    except ImportError as exc:
        pytest.skip(f"boson-multimodal not installed: {exc}")
    return utils


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 4, 5), (3, 8, 3), (1, 12, 1), (2, 8, 0), (1, 32, 7), (4, 1, 9)])
def test_default_arguments_equal_upstream_build_delay_pattern_mask(upstream_utils, impl, shape):
    codes = torch.randint(0, 1024, shape, generator=torch.Generator().manual_seed(sum(shape)))
    want = upstream_utils.build_delay_pattern_mask(codes, bos_token_id=1024, pad_token_id=1025)
    got = IMPLEMENTATIONS[impl](codes, 1024, 1025)
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    assert got[0].dtype == got[1].dtype == torch.int64


@pytest.mark.parametrize("impl", REVERTS)
@pytest.mark.parametrize("k,width", [(1, 1), (4, 8), (8, 7), (8, 30), (12, 11)])
def test_default_revert_equals_upstream(upstream_utils, impl, k, width):
    delayed = torch.randint(0, 1026, (k, width), generator=torch.Generator().manual_seed(k * width))
    assert torch.equal(REVERTS[impl](delayed), upstream_utils.revert_delay_pattern(delayed))


def transformers_build_delay_pattern(codes_bkt, bos, eos):
    """HiggsAudioV2Processor's definition, written out: the clip wrapped in a stream BOS and EOS, codebook k
    shifted right by k (BOS before it, EOS after it), returned as (B, T', K)."""
    b, k, t = codes_bkt.shape
    wrapped = [[[bos] + codes_bkt[i, j].tolist() + [eos] for j in range(k)] for i in range(b)]
    width = t + 2 + k - 1
    out = [
        [[bos if c < j else wrapped[i][j][c - j] if c - j < t + 2 else eos for j in range(k)] for c in range(width)]
        for i in range(b)
    ]
    return torch.tensor(out, dtype=torch.int64).reshape(b, width, k)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape", [(1, 5, 8), (2, 1, 4), (3, 0, 2)])  # (B, T, K)
def test_btk_layout_is_transformers_build_delay_pattern(impl, shape):
    b, t, k = shape
    codes_btk = torch.randint(0, 1024, shape, generator=torch.Generator().manual_seed(t))
    wrapped = torch.cat([torch.full((b, 1, k), 1024), codes_btk, torch.full((b, 1, k), 1025)], dim=1)
    got, _ = IMPLEMENTATIONS[impl](wrapped, 1024, 1025, layout="BTK")
    assert torch.equal(got, transformers_build_delay_pattern(codes_btk.transpose(1, 2), 1024, 1025))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("delays", [[0, 1, 2, 3], [3, 0, 0, 2], [9, 1, 1, 0], [0, 0, 0, 0]])
def test_preserve_shifts_each_codebook_right_with_bos_in_front(impl, delays):
    codes = torch.randint(0, 1024, (2, 4, 6), dtype=torch.int32)
    delayed, generation_mask = IMPLEMENTATIONS[impl](codes, 1024, 1025, delays=delays, mode="preserve")
    want = torch.full_like(codes, 1024)
    for k, d in enumerate(delays):
        want[:, k, d:] = codes[:, k, : max(0, 6 - d)]
    assert torch.equal(delayed, want)
    assert torch.equal(generation_mask, want)  # nothing follows the codes: no position to generate


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_extend_with_any_delays_by_definition(impl):
    codes = torch.arange(2 * 3 * 4, dtype=torch.int16).reshape(2, 3, 4)
    delays = [2, 0, 5]
    delayed, generation_mask = IMPLEMENTATIONS[impl](codes, -5, -6, delays=delays)
    assert delayed.shape == (2, 3, 9) and delayed.dtype == torch.int16
    for k, d in enumerate(delays):
        row = delayed[:, k]
        assert (
            (row[:, :d] == -5).all() and torch.equal(row[:, d : d + 4], codes[:, k]) and (row[:, d + 4 :] == -6).all()
        )
        assert (generation_mask[:, k, d + 4 :] == -1).all() and torch.equal(
            generation_mask[:, k, : d + 4], row[:, : d + 4]
        )


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_huge_delays_in_preserve_mode_fill_with_bos(impl):
    codes = torch.randint(0, 1024, (3, 5))
    delayed, _ = IMPLEMENTATIONS[impl](codes, 1024, 1025, delays=[0, 10**12, 2**62], mode="preserve")
    assert torch.equal(delayed[0], codes[0]) and (delayed[1:] == 1024).all()


@pytest.mark.parametrize("impl", REVERTS)
def test_streaming_revert_returns_only_complete_codes(impl):
    """A generation buffer growing one delayed column at a time: each call with start_index = codes taken
    so far returns exactly the codes completed since; together they are the clip."""
    codes = torch.randint(0, 1024, (2, 8, 10))
    delayed, _ = fastcollate.apply_delay_pattern(codes, 1024, 1025)
    taken = []
    for width in range(delayed.shape[-1] + 1):
        new = REVERTS[impl](delayed[..., :width], start_index=sum(t.shape[-1] for t in taken))
        assert new.shape[-1] == max(0, width - 7 - sum(t.shape[-1] for t in taken))
        taken.append(new)
    assert torch.equal(torch.cat(taken, dim=-1), codes)


def audio_segments(batch, token_id, kw):
    """The codes of every segment owned by `token_id` placeholders, packed, with offsets and no-train flags."""
    pieces, flags = [], []
    for s in batch:
        kinds = s.input_ids[(s.input_ids == AUDIO_IN) | (s.input_ids == AUDIO_OUT)].tolist()
        starts = s.audio_ids_start.tolist() + [s.audio_ids_concat.shape[1]]
        out_positions = (s.input_ids == AUDIO_OUT).nonzero().flatten().tolist()
        out_index = 0
        for j, kind in enumerate(kinds):
            if kind == AUDIO_OUT:
                flags.append(s.label_ids is not None and int(s.label_ids[out_positions[out_index]]) < 0)
                out_index += 1
            if kind == token_id:
                pieces.append(s.audio_ids_concat[:, starts[j] : starts[j + 1]].long())
    lengths = [p.shape[1] for p in pieces]
    offsets = torch.tensor([0] + lengths).cumsum(0)
    codes = torch.cat(pieces, dim=1)
    return codes, offsets, torch.tensor(flags if token_id == AUDIO_OUT else [False] * len(pieces))


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("source", ["tts", "random"])
def test_ragged_form_reproduces_the_higgs_collator(backend, source):
    batch = synthetic_tts_batch(6, seed=5, audio_seconds=(0, 2)) if source == "tts" else random_batch(11, size=6)
    if source == "random":
        for s in batch:  # a common codebook count, segments present
            s.audio_ids_concat = s.audio_ids_concat[:1]
    kw = higgs_collator_kwargs()
    collated = fastcollate.HiggsAudioSampleCollator(**kw, backend=backend)(batch)
    for token_id, ids, starts in [
        (AUDIO_OUT, collated.audio_out_ids, collated.audio_out_ids_start),
        (AUDIO_IN, collated.audio_in_ids, collated.audio_in_ids_start),
    ]:
        codes, offsets, no_train = audio_segments(batch, token_id, kw)
        got = fastcollate.apply_delay_pattern_ragged(
            codes, offsets, BOS, EOS, stream_bos_eos=True, return_labels=True, no_train=no_train
        )
        assert torch.equal(got.codes, ids) and torch.equal(got.offsets[:-1], starts)
        if token_id == AUDIO_OUT:
            assert torch.equal(got.labels, collated.label_audio_ids)
        back = fastcollate.revert_delay_pattern_ragged(got.codes, got.offsets, stream_bos_eos=True)
        assert torch.equal(back.codes, codes) and torch.equal(back.offsets, offsets)


def test_sizes_past_2_31_elements_on_meta_tensors():
    """Shapes only: no byte of these outputs is allocated."""
    codes = torch.empty((2**16, 8, 2**16), dtype=torch.int64, device="meta")  # 2**35 elements
    delayed, generation_mask = fastcollate.apply_delay_pattern(codes, 1024, 1025)
    assert delayed.shape == generation_mask.shape == (2**16, 8, 2**16 + 7) and delayed.device.type == "meta"
    assert fastcollate.apply_delay_pattern(codes, 1, 2, delays=[2**31] * 8)[0].shape == (2**16, 8, 2**16 + 2**31)
    btk = torch.empty((3, 2**33, 12), dtype=torch.int16, device="meta")
    assert fastcollate.apply_delay_pattern(btk, 1, 2, layout="BTK", mode="preserve")[0].shape == (3, 2**33, 12)
    assert fastcollate.revert_delay_pattern(delayed, start_index=5).shape == (2**16, 8, 2**16 - 5)
    packed = torch.empty((8, 2**33), dtype=torch.int32, device="meta")
    offsets = torch.empty(2**20 + 1, dtype=torch.int64, device="meta")
    ragged = fastcollate.apply_delay_pattern_ragged(packed, offsets, 1, 2, stream_bos_eos=True, return_labels=True)
    assert ragged.codes.shape == ragged.labels.shape == (8, 2**33 + 2**20 * 9)
    assert ragged.offsets.shape == (2**20 + 1,) and ragged.labels.dtype == torch.int64
    back = fastcollate.revert_delay_pattern_ragged(ragged.codes, ragged.offsets, stream_bos_eos=True)
    assert back.codes.shape == (8, 2**33)


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
def test_native_size_arithmetic_past_2_31_and_overflow():
    from fastcollate import _core

    assert _core.delay.apply_sizes(2**16, 8, 2**16, list(range(8)), True) == (2**16 + 7, 2**19 * (2**16 + 7))
    assert _core.delay.apply_sizes(2**20, 2**10, 2**20, [2**31] * 2**10, False) == (2**20, 2**50)
    with pytest.raises(ValueError, match=r"^codes: the output size overflows int64$"):
        _core.delay.apply_sizes(2**32, 2**16, 2**16, [0] * 2**16, True)
    with pytest.raises(ValueError, match=r"^delays: the output width overflows int64$"):
        _core.delay.apply_sizes(1, 2, 5, [0, 2**63 - 3], True)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_size_overflow_is_a_value_error(impl):
    """Checked before anything is allocated (the twin too), so meta tensors stand in for huge inputs."""
    codes = torch.empty((2**10, 2**16, 2**10), dtype=torch.int16, device="meta")
    with pytest.raises(ValueError, match=r"^codes: the output size overflows int64$"):
        IMPLEMENTATIONS[impl](codes, 1, 2, delays=[2**40] * 2**16)
    with pytest.raises(ValueError, match=r"^delays: the output width overflows int64$"):
        IMPLEMENTATIONS[impl](torch.zeros((1, 2, 5), dtype=torch.int16), 1, 2, delays=[0, 2**63 - 3])
