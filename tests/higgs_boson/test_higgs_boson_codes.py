"""HiggsAudioSampleCollator refuses codes from which upstream builds a wrong batch, with the same ValueError on
every backend: a code outside [0, codebook_size) in a segment the batch holds (upstream copies it: the model then
reads 1024 as a stream BOS or indexes past its codebook), and fewer codebooks than audio_num_codebooks (upstream
returns fewer). Valid codes give upstream's batch bit for bit (test_higgs_boson_vs_upstream.py)."""

import re

import pytest
import torch
from conftest import backends
from higgs_samples import KW

import fastcollate
from fastcollate.synthetic import synthetic_tts_batch


def collate(batch, backend, **flags):
    flags = {"whisper_processor": None, **KW, "encode_whisper_embed": False, "use_delay_pattern": True, **flags}
    return fastcollate.HiggsAudioSampleCollator(**flags, backend=backend, on_empty="keep")(batch)


def tts():
    """Two samples, each a reference voice (segment 0, audio-in) then the target speech (segment 1, audio-out)."""
    return synthetic_tts_batch(2, seed=3, audio_seconds=(1, 1))


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("code, stream", [(1024, "BOS"), (1025, "EOS"), (-5, None), (4096, None)])
@pytest.mark.parametrize("segment", [0, 1])
def test_a_code_outside_the_codebook_is_named(backend, code, stream, segment):
    batch = tts()
    s = batch[1]
    frame = int(s.audio_ids_start[segment]) + 2
    s.audio_ids_concat[3, frame] = code
    s.audio_ids_concat[0, frame + 1] = code  # a later frame: not the first bad one
    want = (
        f"sample 1: audio_ids_concat: holds the code {code} at frame {frame}, codebook 3 (audio segment "
        f"{segment}); codes lie in [0, 1024) (codebook_size=1024)."
    )
    if stream:
        want += f" {code} is the stream {stream}, which the collator adds itself: give the codec's codes only."
    with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
        collate(batch, backend)


@pytest.mark.parametrize("backend", backends())
def test_codes_the_batch_does_not_hold_are_not_read(backend):
    """An audio-in segment without return_audio_in_tokens, and codebooks past audio_num_codebooks, are dropped
    (as upstream drops them): what they hold cannot make the batch wrong."""
    batch = tts()
    clean = collate(tts(), backend, return_audio_in_tokens=False, audio_num_codebooks=4)
    batch[0].audio_ids_concat[0, 1] = 1024  # segment 0 (audio-in)
    batch[1].audio_ids_concat[6, -1] = -5  # codebook 6 of the audio-out segment
    got = collate(batch, backend, return_audio_in_tokens=False, audio_num_codebooks=4)
    assert torch.equal(got.audio_out_ids, clean.audio_out_ids) and torch.equal(got.input_ids, clean.input_ids)


@pytest.mark.parametrize("backend", backends())
def test_the_codebook_size_option(backend):
    batch = tts()
    batch[0].audio_ids_concat[2, 0] = 1500
    assert collate(batch, backend, codebook_size=2048).audio_out_ids.shape[0] == 8
    with pytest.raises(ValueError, match=re.escape("holds the code 1500 at frame 0, codebook 2 (audio segment 0)")):
        collate(batch, backend)


@pytest.mark.parametrize("backend", backends())
def test_without_the_transform_the_stream_ids_may_be_given(backend):
    """disable_audio_codes_transform=True passes the codes through as given, so they may hold the stream ids."""
    batch = tts()
    for s in batch:
        s.audio_label_ids_concat = s.audio_ids_concat.clone()
        s.audio_ids_concat[:, int(s.audio_ids_start[1])] = 1024
    collate(batch, backend, disable_audio_codes_transform=True)
    batch[1].audio_ids_concat[0, 0] = 1026
    want = (
        "sample 1: audio_ids_concat: holds the code 1026 at frame 0, codebook 0 (audio segment 0); codes lie in "
        "[0, 1024) (codebook_size=1024) or are the stream BOS (1024) or EOS (1025), as "
        "disable_audio_codes_transform=True passes them through."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
        collate(batch, backend, disable_audio_codes_transform=True)


@pytest.mark.parametrize("backend", backends())
def test_fewer_codebooks_than_audio_num_codebooks(backend):
    batch = tts()
    batch[1].audio_ids_concat = batch[1].audio_ids_concat[:4]
    want = (
        "sample 1: audio_ids_concat: has shape (4, {n}), 4 codebooks, fewer than audio_num_codebooks=8; "
        "audio_ids_concat is (K, L): K codebooks by L frames. If the codec has 4 codebooks, pass "
        "audio_num_codebooks=4."
    ).format(n=batch[1].audio_ids_concat.shape[1])
    with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
        collate(batch, backend, audio_num_codebooks=8)


@pytest.mark.parametrize("backend", backends())
def test_transposed_codes_are_named(backend):
    """(L, K) codes with L < K: upstream would return L codebooks; the transpose is suggested."""
    batch = tts()
    s = batch[0]
    s.audio_ids_concat = torch.randint(0, 1024, (5, 8))
    s.audio_ids_start = torch.tensor([0, 3])
    want = (
        "sample 0: audio_ids_concat: has shape (5, 8), 5 codebooks, fewer than audio_num_codebooks=8; "
        "audio_ids_concat is (K, L): K codebooks by L frames. It looks like (L, K): pass it transposed (codes.T)."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
        collate(batch, backend, audio_num_codebooks=8)
