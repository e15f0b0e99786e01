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
    collator = fastcollate.HiggsAudioV2Collator(PAD, label_mode=label_mode, backend=backend, on_empty="keep")
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
    collator = fastcollate.HiggsAudioV2Collator(PAD, label_mode="correct", backend=backend)
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
        return fastcollate.HiggsAudioV2Collator(PAD, label_mode="correct", on_empty=on_empty, backend=backend)

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
    collator = fastcollate.HiggsAudioV2Collator(PAD, on_empty="error", backend=backend)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "sample 0: labels: no learned token: every token is the audio token, the pad token or <|audio_out_bos|>"
        ),
    ):
        collator([{"input_ids": [PAD, 128013]}])


@pytest.mark.parametrize("backend", backends())
def test_pickles(backend):
    collator = fastcollate.HiggsAudioV2Collator(PAD, label_mode="correct", backend=backend, padding_side="right")
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
    config = fastcollate.HiggsAudioV2Collator.from_processor(proc, backend="python").config
    assert (
        config.pad_token_id,
        config.audio_token_id,
        config.audio_bos_token_id,
        config.audio_delay_token_id,
        config.audio_stream_bos_id,
        config.audio_stream_eos_id,
    ) == (7, 11, 12, 13, 2048, 2049)
    spec = fastcollate.presets.llama3()
    config = fastcollate.HiggsAudioV2Collator.from_processor(proc, label_mode="correct", label_spec=spec).config
    assert config.audio_bos_token_id is None and config.label_spec is spec
