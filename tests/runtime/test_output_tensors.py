"""The compiled collators hand a batch's outputs to torch as one host allocation, each output a tensor made
through DLPack (csrc/python/output_arena.h). They must behave as tensors from torch.empty would: the twin's
dtypes and values, contiguous, no two overlapping, each alive for as long as it is referenced (the others
dropped), freeable from any thread, picklable and movable into shared memory for DataLoader workers."""

import gc
import io
import pickle
import threading

import pytest
import torch
from conftest import COMPILED
from higgs_hf_features import random_features

from fastcollate import ChatCollator, HiggsAudioSampleCollator, HiggsAudioV2Collator, presets
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled extension not built")


def chat(backend, packed):
    rows = [s.input_ids for s in synthetic_text_batch(6, 90, seed=11)]
    return ChatCollator(presets.llama3(), 128001, packed=packed, backend=backend)(rows)


def higgs(backend):
    samples = synthetic_tts_batch(5, seed=12, audio_seconds=(0, 2))
    return vars(HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend)(samples))


def higgs_hf(backend):
    collator = HiggsAudioV2Collator(128001, backend=backend, on_empty="keep")  # random chats may learn nothing
    return collator(random_features(13, size=5, codebooks=8, max_len=40))


BATCHES = {
    "chat": lambda b: chat(b, packed=False),
    "chat_packed": lambda b: chat(b, packed=True),
    "higgs": higgs,
    "higgs_hf": higgs_hf,
}


def tensors(batch):
    return {k: v for k, v in batch.items() if torch.is_tensor(v)}


@pytest.fixture(params=sorted(BATCHES))
def make(request):
    return lambda: tensors(BATCHES[request.param]("cpu")), tensors(BATCHES[request.param]("python"))


def assert_equal(got, want):
    assert got.keys() == want.keys()
    for k in want:
        assert got[k].dtype == want[k].dtype and torch.equal(got[k], want[k]), k


def test_dtypes_values_and_layout(make):
    collate, want = make
    got = collate()
    assert_equal(got, want)
    assert all(t.is_contiguous() and t.device.type == "cpu" and not t.requires_grad for t in got.values())


def assert_no_overlap(got):
    """Writing every byte of one output changes no other (outputs that are the same object excepted)."""
    for k, t in got.items():
        others = {j: u.clone() for j, u in got.items() if u is not t}
        t.view(-1).view(torch.uint8).fill_(0xA5)
        assert all(torch.equal(got[j], v) for j, v in others.items()), f"writing {k} changed another output"


def test_no_two_outputs_overlap(make):
    collate, _ = make
    assert_no_overlap(collate())


def test_each_output_outlives_the_others(make):
    collate, want = make
    for k in want:
        kept = collate()[k]  # the batch, and every other output, is dropped here
        gc.collect()
        churn = [collate() for _ in range(3)]  # reuses freed memory, if any was freed too early
        for c in churn:
            for t in c.values():
                t.view(-1).view(torch.uint8).fill_(0x5A)
        assert kept.dtype == want[k].dtype and torch.equal(kept, want[k]), k


def test_outputs_freed_in_another_thread(make):
    collate, want = make
    batches = [collate() for _ in range(20)]
    dropper = threading.Thread(target=batches.clear)  # the last references die on this thread
    dropper.start()
    dropper.join()
    assert not batches
    assert_equal(collate(), want)


def test_pickle_torch_save_and_shared_memory(make):
    collate, want = make
    got = collate()
    assert_equal(pickle.loads(pickle.dumps(got)), want)
    buf = io.BytesIO()
    torch.save(got, buf)
    buf.seek(0)
    assert_equal(torch.load(buf), want)
    for t in got.values():
        t.share_memory_()
        assert t.is_shared()
    assert_equal(got, want)
