"""Two threads against two sequential calls of one shared collator: the compiled path releases the GIL while
it plans and fills, so on two cores the threaded pair should take less time than the sequential pair (the
ratio is printed at the end of the run). Every benchmark checks that each thread got the expected batch."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

import fastcollate
from fastcollate import ChatCollator, presets
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

pytestmark = pytest.mark.skipif(not fastcollate.backend_info()["compiled"], reason="compiled extension not built")


def cases():
    rows = [s.input_ids for s in synthetic_text_batch(32, 2048, seed=0)]
    tts = synthetic_tts_batch(64, seed=64)
    return {
        "threads-chat-32x2048": (ChatCollator(presets.llama3(), 128001, backend="cpu"), rows),
        "threads-higgs-tts-64": (fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cpu"), tts),
    }


CASES = cases()
POOL = ThreadPoolExecutor(max_workers=2)


def first_tensor(out):
    return out["labels"] if isinstance(out, dict) else out.input_ids


@pytest.mark.parametrize("group", list(CASES))
def test_sequential_pair(record, group):
    collate, batch = CASES[group]
    want = first_tensor(collate(batch))
    got = record(group, "sequential_pair", lambda: [collate(batch), collate(batch)])
    assert all(torch.equal(first_tensor(o), want) for o in got)


@pytest.mark.parametrize("group", list(CASES))
def test_two_threads(record, group):
    collate, batch = CASES[group]
    want = first_tensor(collate(batch))

    def pair():  # a pool started once: the pair measures the calls, not thread start-up
        futures = [POOL.submit(collate, batch) for _ in range(2)]
        return [f.result() for f in futures]

    got = record(group, "two_threads", pair)
    assert all(torch.equal(first_tensor(o), want) for o in got)
