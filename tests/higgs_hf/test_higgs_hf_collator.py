"""HiggsAudioV2Collator: inputs never modified, every input form gives the same batch, the on_empty policy,
pickling (DataLoader workers), from_processor-style options."""

import pickle
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import backends
from higgs_hf_features import AUDIO, PAD, assert_batches_equal, assert_same_value, random_features, snapshot

import fastcollate


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("label_mode", ["processor", "correct"])
@pytest.mark.parametrize("seed", range(6))
def test_inputs_unchanged_and_a_second_call_gives_the_same_batch(backend, label_mode, seed):
    features = random_features(seed, correct=label_mode == "correct")
    before = snapshot(features)
    collator = fastcollate.HiggsAudioV2Collator(
        PAD, label_mode=label_mode, num_codebooks=None, backend=backend, on_empty="keep"
    )  # K varies with the seed
    first = collator(features)
    for f, b in zip(features, before):
        got = f if isinstance(f, dict) else vars(f)
        assert list(got) == list(b)
        for key in b:
            assert_same_value(got[key], b[key])
    assert_batches_equal(collator(features), first)


@pytest.mark.parametrize("backend", backends())
def test_every_input_form_gives_the_same_batch(backend):
    ids = [128000, 128006, 78191, 128007, 271, 128013, AUDIO, 128012, 128009]
    clip = torch.arange(12).reshape(3, 4)
    forms = [
        {"input_ids": ids, "audio_codes": [clip.tolist()]},
        {"input_ids": torch.tensor(ids, dtype=torch.int32), "audio_codes": [clip.to(torch.int32)]},
        {"input_ids": np.array(ids, dtype=">i8"), "audio_codes": (clip.numpy().astype(np.uint16),)},
        SimpleNamespace(input_ids=torch.tensor(ids)[::1], audio_codes=[clip.t().contiguous().t()]),
    ]
    collator = fastcollate.HiggsAudioV2Collator(PAD, label_mode="correct", num_codebooks=3, backend=backend)
    want = collator([forms[0]])
    for form in forms[1:]:
        assert_batches_equal(collator([form]), want)


NOTHING = {"input_ids": [128000, 128006, 882, 128007, 271, 5, 128009]}  # a user turn only
SOMETHING = {
    "input_ids": [128000, 128006, 78191, 128007, 271, 128013, AUDIO, 128012, 128009],
    "audio_codes": [torch.zeros((2, 3), dtype=torch.long)],
}


@pytest.mark.parametrize("backend", backends())
def test_on_empty(backend):
    def make(on_empty):
        return fastcollate.HiggsAudioV2Collator(
            PAD, label_mode="correct", num_codebooks=2, on_empty=on_empty, backend=backend
        )

    why = "sample 1: no assistant turn found and it has no clip"
    with pytest.warns(fastcollate.EmptySampleWarning, match=re.escape(f"1 sample(s) with no learned token: {why}")):
        warned = make("warn")([SOMETHING, NOTHING])
    assert_batches_equal(make("keep")([SOMETHING, NOTHING]), warned)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "sample 1: labels: no learned token: no assistant turn found and it "
            "has no clip (on_empty='error'; 1 such sample(s) in this batch)"
        ),
    ):
        make("error")([SOMETHING, NOTHING])
    assert_batches_equal(make("drop")([SOMETHING, NOTHING]), make("keep")([SOMETHING]))
    voice_only = {**SOMETHING, "audio_no_train": [True], "start_index": 1}
    with pytest.raises(
        ValueError,
        match=re.escape(
            "sample 0: labels: no learned token: all learned turns are before "
            "start_index and its 1 clip(s) are no-train"
        ),
    ):
        make("error")([voice_only])


@pytest.mark.parametrize("backend", backends())
def test_processor_mode_flags_a_sample_of_padding_only(backend):
    collator = fastcollate.HiggsAudioV2Collator(PAD, label_mode="processor", on_empty="error", backend=backend)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "sample 0: labels: no learned token: every token is the audio token, the pad token or <|audio_out_bos|>"
        ),
    ):
        collator([{"input_ids": [PAD, 128013]}])


@pytest.mark.parametrize("backend", backends())
def test_pickles(backend):
    collator = fastcollate.HiggsAudioV2Collator(
        PAD, label_mode="correct", num_codebooks=2, backend=backend, padding_side="right"
    )
    again = pickle.loads(pickle.dumps(collator))
    assert_batches_equal(again([SOMETHING]), collator([SOMETHING]))


def test_from_processor_reads_the_ids():
    tokenizer = SimpleNamespace(pad_token_id=7, convert_tokens_to_ids=None)
    proc = SimpleNamespace(
        tokenizer=tokenizer,
        audio_token_id=11,
        audio_bos_token_id=12,
        audio_delay_token_id=13,
        audio_stream_bos_id=2048,
        audio_stream_eos_id=2049,
    )
    config = fastcollate.HiggsAudioV2Collator.from_processor(proc, label_mode="processor", backend="python").config
    assert (
        config.pad_token_id,
        config.audio_token_id,
        config.audio_bos_token_id,
        config.audio_delay_token_id,
        config.audio_stream_bos_id,
        config.audio_stream_eos_id,
    ) == (7, 11, 12, 13, 2048, 2049)
    spec = fastcollate.presets.llama3()
    config = fastcollate.HiggsAudioV2Collator.from_processor(proc, label_spec=spec).config  # "correct": the default
    assert config.label_mode == "correct" and config.audio_bos_token_id is None and config.label_spec is spec
    assert (config.num_codebooks, config.codebook_size) == (8, 1024)  # no codec: the released model's


def test_from_processor_reads_the_codec():
    """K and the codebook size come from the processor's codec (K as the processor itself reads it), so a clip
    of another K, or a code past the codebook, is refused as under the constructor's own values."""
    codec = SimpleNamespace(config=SimpleNamespace(num_quantizers=4, codebook_size=512))
    proc = SimpleNamespace(
        tokenizer=SimpleNamespace(pad_token_id=PAD),
        audio_tokenizer=codec,
        audio_token_id=AUDIO,
        audio_bos_token_id=128013,
        audio_delay_token_id=128014,
        audio_stream_bos_id=1024,
        audio_stream_eos_id=1025,
    )
    collator = fastcollate.HiggsAudioV2Collator.from_processor(proc, label_mode="processor", backend="python")
    assert (collator.config.num_codebooks, collator.config.codebook_size) == (4, 512)
    ids = [128000, 128013, AUDIO, 128012]
    assert collator([{"input_ids": ids, "audio_codes": [torch.full((4, 3), 511)]}])["audio_input_ids"].shape[2] == 4
    with pytest.raises(ValueError, match=re.escape("holds the code 512 at frame 0, codebook 0; codes lie in [0, 512)")):
        collator([{"input_ids": ids, "audio_codes": [torch.full((4, 3), 512)]}])
    with pytest.raises(ValueError, match=re.escape("has shape (8, 3), 8 codebooks, expected num_codebooks=4")):
        collator([{"input_ids": ids, "audio_codes": [torch.zeros((8, 3), dtype=torch.long)]}])
