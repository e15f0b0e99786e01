"""HiggsAudioSampleCollator takes Mapping samples (what a Hugging Face datasets.Dataset yields) with upstream's
field names, bit-exact with the object form, on every backend; a needed key that is absent, or a key that is
no sample field, is a ValueError naming the sample and the key."""

import dataclasses
import random
import re
from types import MappingProxyType, SimpleNamespace

import pytest
import torch
from conftest import backends
from higgs_samples import KW, assert_batches_equal, random_batch, whisper_setup

import fastcollate
from fastcollate import presets
from fastcollate.synthetic import synthetic_tts_batch

FLAGS = dict(whisper_processor=None, **KW, encode_whisper_embed=False)


def as_dict(sample) -> dict:
    return {f.name: getattr(sample, f.name) for f in dataclasses.fields(sample)}


def collate(batch, backend, **flags):
    return fastcollate.HiggsAudioSampleCollator(**{**FLAGS, **flags}, backend=backend, on_empty="keep")(batch)


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("seed", range(30))
def test_dict_samples_equal_object_samples(backend, seed):
    rng = random.Random(seed)
    flags = dict(
        use_delay_pattern=rng.random() < 0.5,
        round_to=rng.choice([1, 8]),
        pad_left=rng.random() < 0.5,
        disable_audio_codes_transform=rng.random() < 0.2,
    )
    batch = random_batch(seed, with_labels=rng.random() < 0.7, with_audio_labels=True)
    want = collate(batch, backend, **flags)
    form = rng.choice([as_dict, lambda s: MappingProxyType(as_dict(s))])  # dicts and other Mappings
    assert_batches_equal(collate([form(s) for s in batch], backend, **flags), want)


@pytest.mark.parametrize("backend", backends())
def test_dict_samples_with_label_spec_and_start_index(backend):
    batch = synthetic_tts_batch(4, seed=7, audio_seconds=(0, 1))
    for s in batch:
        s.label_ids = None
    batch[2].start_index = 3  # after its only assistant turn: learns nothing
    want = collate(batch, backend, label_spec=presets.llama3(), use_delay_pattern=True)
    got = collate([as_dict(s) for s in batch], backend, label_spec=presets.llama3(), use_delay_pattern=True)
    assert_batches_equal(got, want)
    assert (got.label_ids[2] == -100).all()


@pytest.mark.parametrize("backend", backends())
def test_minimal_dicts_need_only_the_fields_read(backend):
    """A text-only dict needs no audio keys; optional fields (labels, reward, start_index) may be absent."""
    batch = synthetic_tts_batch(2, seed=1, audio_seconds=(0, 1))
    text_only = {"input_ids": torch.tensor([128000, 5, 6, 7])}
    dicts = [as_dict(batch[0]), text_only]
    del dicts[0]["label_ids"], dicts[0]["reward"], dicts[0]["start_index"], dicts[0]["audio_speaker_indices"]
    objects = [
        batch[0],
        fastcollate.ChatMLDatasetSample(
            input_ids=text_only["input_ids"],
            label_ids=None,
            audio_ids_concat=torch.zeros(0, 0, dtype=torch.long),
            audio_ids_start=torch.zeros(0, dtype=torch.long),
            audio_waveforms_concat=torch.zeros(0),
            audio_waveforms_start=torch.zeros(0, dtype=torch.long),
            audio_sample_rate=torch.zeros(0),
            audio_speaker_indices=torch.zeros(0, dtype=torch.long),
        ),
    ]
    objects[0] = dataclasses.replace(objects[0], label_ids=None, reward=None)
    assert_batches_equal(collate(dicts, backend), collate(objects, backend))


@pytest.mark.parametrize("backend", backends())
def test_datasets_rows(backend):
    """Rows of a datasets.Dataset in torch format: the collator's own Mapping path."""
    datasets = pytest.importorskip("datasets")
    batch = synthetic_tts_batch(3, seed=5, audio_seconds=(1, 2))
    rows = [{k: (v.tolist() if isinstance(v, torch.Tensor) else v) for k, v in as_dict(s).items()} for s in batch]
    ds = datasets.Dataset.from_list(rows).with_format("torch")
    got = collate([ds[i] for i in range(len(ds))], backend, use_delay_pattern=True)
    assert_batches_equal(got, collate(batch, backend, use_delay_pattern=True))


MISSING_KEY = re.escape("missing: the sample (a Mapping) has no such key")


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize(
    "drop, message",
    [
        ("input_ids", rf"^sample 1: input_ids: {MISSING_KEY}$"),
        ("audio_ids_concat", rf"^sample 1: audio_ids_concat: {MISSING_KEY}$"),
        ("audio_ids_start", rf"^sample 1: audio_ids_start: {MISSING_KEY}$"),
    ],
)
def test_missing_key_names_sample_and_key(backend, drop, message):
    dicts = [as_dict(s) for s in synthetic_tts_batch(2, seed=1, audio_seconds=(0, 1))]
    del dicts[1][drop]
    with pytest.raises(ValueError, match=message):
        collate(dicts, backend)


@pytest.mark.parametrize("backend", backends())
def test_missing_label_ids_key_in_a_labeled_batch(backend):
    dicts = [as_dict(s) for s in synthetic_tts_batch(2, seed=1, audio_seconds=(0, 1))]
    del dicts[1]["label_ids"]  # absent = None, which cannot mix with labels
    with pytest.raises(
        ValueError, match=r"^sample 1: label_ids: is None while other samples in the batch have labels$"
    ):
        collate(dicts, backend)


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize(
    "sample, message",
    [
        (None, r"^sample 1: input_ids: missing: the sample \(a NoneType\) has no such attribute$"),
        (5, r"^sample 1: input_ids: missing: the sample \(a int\) has no such attribute$"),
        (
            SimpleNamespace(input_ids=torch.tensor([1, 128016]), label_ids=None),
            r"^sample 1: audio_ids_concat: missing: the sample \(a SimpleNamespace\) has no such attribute$",
        ),
    ],
)
def test_objects_without_the_fields(backend, sample, message):
    batch = synthetic_tts_batch(2, seed=1, audio_seconds=(0, 1))
    for s in batch:
        s.label_ids = None
    with pytest.raises(ValueError, match=message):
        collate([batch[0], sample], backend)


@pytest.mark.parametrize("backend", backends())
def test_unknown_key_raises_unless_ignored(backend):
    batch = synthetic_tts_batch(2, seed=1, audio_seconds=(0, 1))
    dicts = [as_dict(s) for s in batch]
    dicts[1]["speaker_name"] = "alice"
    with pytest.raises(
        ValueError,
        match=r"^sample 1: speaker_name: is not a ChatMLDatasetSample field \(input_ids, "
        r"label_ids, .*, start_index\); drop it from the samples \(e.g. "
        r"dataset.remove_columns\) or list it in ignore_keys to skip it$",
    ):
        collate(dicts, backend)
    got = collate(dicts, backend, ignore_keys=("speaker_name",))
    assert_batches_equal(got, collate(batch, backend))
    dicts[1][7] = "a non-string key"
    with pytest.raises(ValueError, match=r"^sample 1: 7: is not a ChatMLDatasetSample field"):
        collate(dicts, backend, ignore_keys=("speaker_name",))


@pytest.mark.parametrize("backend", backends())
def test_sample_level_errors_come_first(backend):
    """Every sample is read before any field is checked: a later unknown key is reported before an earlier
    sample's bad field, on both backends."""
    dicts = [as_dict(s) for s in synthetic_tts_batch(2, seed=1, audio_seconds=(0, 1))]
    dicts[0]["input_ids"] = dicts[0]["input_ids"].float()
    dicts[1]["extra"] = 1
    with pytest.raises(ValueError, match=r"^sample 1: extra: is not a ChatMLDatasetSample field"):
        collate(dicts, backend)


def test_ignore_keys_must_be_names():
    with pytest.raises(ValueError, match=r"^ignore_keys: expected a collection of key names, got the string 'x'$"):
        fastcollate.HiggsAudioSampleCollator(**FLAGS, ignore_keys="x")


@pytest.mark.parametrize("backend", backends())
def test_dict_samples_on_the_whisper_path(backend):
    """The whisper path reads waveforms in Python for both backends: from dicts too."""
    pytest.importorskip("transformers")
    processor, batch = whisper_setup()
    flags = dict(whisper_processor=processor, encode_whisper_embed=True, use_delay_pattern=True)
    want = collate(batch, backend, **flags)
    assert_batches_equal(collate([as_dict(s) for s in batch], backend, **flags), want)
    dicts = [as_dict(s) for s in batch]
    del dicts[1]["audio_waveforms_start"]
    with pytest.raises(ValueError, match=r"^sample 1: audio_waveforms_start: missing: the sample \(a Mapping\)"):
        collate(dicts, backend, **flags)


def test_ignore_keys_cannot_name_sample_fields():
    with pytest.raises(ValueError, match=r"^ignore_keys: \['start_index'\] are sample fields the collator reads"):
        fastcollate.HiggsAudioSampleCollator(**FLAGS, ignore_keys=("start_index", "speaker"))
