"""The collators as a torch DataLoader's collate_fn, in worker processes started by fork and by spawn, with
pin_memory=True: every batch equals the one collated in the main process (num_workers=0)."""

import pytest
import torch
from conftest import backends
from higgs_hf_features import random_features
from higgs_samples import assert_batches_equal
from torch.utils.data import DataLoader

from fastcollate import ChatCollator, HiggsAudioSampleCollator, HiggsAudioV2Collator, presets
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

# On a machine without an accelerator torch warns that pinning does nothing; that is this machine, not a bug.
pytestmark = pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true but no accelerator:UserWarning")


def chat_features():
    return [{"input_ids": s.input_ids} for s in synthetic_text_batch(12, 80, seed=4)]


def loader(dataset, collate_fn, workers: int, context=None):
    return DataLoader(
        dataset,
        batch_size=4,
        collate_fn=collate_fn,
        num_workers=workers,
        pin_memory=True,
        multiprocessing_context=context if workers else None,
    )


def assert_same_dicts(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.keys() == b.keys()
        for k in b:
            assert torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype if torch.is_tensor(b[k]) else a[k] == b[k], k


@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.parametrize("backend", backends())
def test_chat_collator_in_workers(context, backend):
    collate = ChatCollator(
        presets.llama3(), pad_token_id=128001, packed=True, backend=backend, block_mask_dtype=torch.bfloat16
    )
    data = chat_features()
    want = list(loader(data, collate, 0))
    assert len(want) == 3 and want[0]["attention_mask"].shape == (1, 1, 320, 320)
    assert_same_dicts(list(loader(data, collate, 2, context)), want)


@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.parametrize("backend", backends())
def test_higgs_collator_in_workers(context, backend):
    collate = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend, label_spec=presets.llama3())
    data = synthetic_tts_batch(8, seed=2, audio_seconds=(0, 2))
    want = list(loader(data, collate, 0))
    got = list(loader(data, collate, 2, context))
    assert len(got) == len(want) == 2
    for a, b in zip(got, want):
        assert_batches_equal(a, b)


@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.parametrize("backend", backends())
def test_higgs_hf_collator_in_workers(context, backend):
    collate = HiggsAudioV2Collator(128001, backend=backend, on_empty="keep")  # random chats may learn nothing
    data = random_features(3, size=8, codebooks=8, max_len=30, objects=False)
    want = list(loader(data, collate, 0))
    assert len(want) == 2 and want[0]["audio_input_ids_mask"].dtype == torch.bool
    assert_same_dicts(list(loader(data, collate, 2, context)), want)
