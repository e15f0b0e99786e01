"""Every input form users pass gives the batch of the tensor form, bit for bit, on every backend: Python lists
and tuples, numpy arrays of any integer dtype and byte order (strided too), numpy scalars inside lists, and
the rows of a datasets.Dataset in each of its formats."""

import dataclasses
import random

import numpy as np
import pytest
import torch
from conftest import backends
from higgs_samples import KW, assert_batches_equal, random_batch, whisper_setup

from fastcollate import ChatCollator, HiggsAudioSampleCollator, presets
from fastcollate.synthetic import synthetic_text_batch, synthetic_tts_batch

DTYPES = [np.int64, np.int32, np.int16, np.uint16, np.uint32, np.uint64, ">i8", ">i4", "<i8", ">u4"]


def forms_1d(values, rng: random.Random):
    """The same ids in every form the collators accept."""
    small = max(values, default=0) < 2**15 and min(values, default=0) >= 0
    out = {
        "list": list(values),
        "tuple": tuple(values),
        "tensor64": torch.tensor(values, dtype=torch.int64),
        "numpy scalars": [np.int64(v) for v in values],
    }
    for dtype in DTYPES:
        if np.dtype(dtype).itemsize >= 4 or small:
            out[f"numpy {np.dtype(dtype).str}"] = np.array(values, dtype=dtype)
    wide = np.zeros(2 * len(values), dtype=np.int64)
    wide[::2] = values
    out["numpy strided"] = wide[::2]
    out["numpy reversed twice"] = np.array(values[::-1], dtype=">i8")[::-1]
    return out


def tensor_batch_equal(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], torch.Tensor):
            assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("packed", [False, True])
def test_chat_collator_every_form_equals_tensors(backend, packed):
    rng = random.Random(0)
    rows = [s.input_ids.tolist() for s in synthetic_text_batch(4, 120, exchanges=2, seed=1)]
    rows[1] = rows[1][:57]
    collate = ChatCollator(presets.llama3(), 128001, packed=packed, backend=backend, on_empty="keep")
    want = collate([torch.tensor(r) for r in rows])
    names = forms_1d(rows[0], rng).keys()
    for name in names:
        got = collate([{"input_ids": forms_1d(r, rng)[name]} for r in rows])
        tensor_batch_equal(got, want)
    mixed = collate(
        [list(rows[0]), np.array(rows[1], dtype=">i4"), torch.tensor(rows[2], dtype=torch.int32), tuple(rows[3])]
    )
    tensor_batch_equal(mixed, want)


@pytest.mark.parametrize("backend", backends())
def test_small_dtypes_hold_small_ids(backend):
    """uint8/int8 arrays (a toy vocabulary) read the same values."""
    ids = [1, 7, 200, 3]
    collate = ChatCollator(presets.completion_only([7]), 0, backend=backend, on_empty="keep")
    want = collate([ids])
    tensor_batch_equal(collate([np.array(ids, dtype=np.uint8)]), want)
    tensor_batch_equal(collate([np.array([1, 7, -56, 3], dtype=np.int8).view(np.uint8)]), want)


def as_lists(sample, rng: random.Random):
    """A datasets row without format: every tensor field as (nested) Python lists, or numpy in some form."""
    out = {}
    for f in dataclasses.fields(sample):
        v = getattr(sample, f.name)
        if isinstance(v, torch.Tensor) and f.name not in ("audio_waveforms_concat", "audio_sample_rate"):
            choice = rng.random()
            if choice < 0.5:
                v = v.tolist()
            elif choice < 0.75:
                v = v.numpy().astype(">i8")
            else:
                v = np.asfortranarray(v.numpy()) if v.dim() == 2 else v.numpy().astype(np.int32)
        out[f.name] = v
    return out


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("seed", range(25))
def test_higgs_lists_and_arrays_equal_tensors(backend, seed):
    rng = random.Random(seed)
    flags = dict(
        whisper_processor=None,
        **KW,
        encode_whisper_embed=False,
        use_delay_pattern=seed % 2 == 0,
        disable_audio_codes_transform=seed % 5 == 4,
    )
    batch = random_batch(seed, with_labels=seed % 3 != 0, with_audio_labels=True)
    collate = HiggsAudioSampleCollator(**flags, backend=backend, on_empty="keep")
    assert_batches_equal(collate([as_lists(s, rng) for s in batch]), collate(batch))


@pytest.mark.parametrize("backend", backends())
def test_datasets_formats(backend):
    datasets = pytest.importorskip("datasets")
    batch = synthetic_tts_batch(3, seed=2, audio_seconds=(1, 2))
    rows = [
        {
            f.name: (
                getattr(s, f.name).tolist() if isinstance(getattr(s, f.name), torch.Tensor) else getattr(s, f.name)
            )
            for f in dataclasses.fields(s)
        }
        for s in batch
    ]
    flags = dict(whisper_processor=None, **KW, encode_whisper_embed=False, use_delay_pattern=True)
    collate = HiggsAudioSampleCollator(**flags, backend=backend)
    want = collate(batch)
    ds = datasets.Dataset.from_list(rows)
    for fmt in (None, "numpy", "torch"):
        view = ds.with_format(fmt)
        assert_batches_equal(collate([view[i] for i in range(len(view))]), want)
    text = [{"input_ids": s.input_ids.tolist(), "start_index": None} for s in synthetic_text_batch(3, 64, seed=4)]
    chat = ChatCollator(presets.llama3(), 128001, backend=backend)
    want = chat([torch.tensor(r["input_ids"]) for r in text])
    tds = datasets.Dataset.from_list(text)
    for fmt in (None, "numpy", "torch"):
        view = tds.with_format(fmt)
        tensor_batch_equal(chat([view[i] for i in range(len(view))]), want)


@pytest.mark.parametrize("backend", backends())
def test_higgs_whisper_path_from_lists(backend):
    pytest.importorskip("transformers")
    processor, batch = whisper_setup()
    flags = dict(whisper_processor=processor, **KW, encode_whisper_embed=True, use_delay_pattern=True)
    collate = HiggsAudioSampleCollator(**flags, backend=backend)
    rows = [
        {
            f.name: (
                getattr(s, f.name).tolist() if isinstance(getattr(s, f.name), torch.Tensor) else getattr(s, f.name)
            )
            for f in dataclasses.fields(s)
        }
        for s in batch
    ]
    assert_batches_equal(collate(rows), collate(batch))
