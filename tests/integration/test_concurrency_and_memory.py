"""Long-running use: threads sharing one collator get the single-threaded batches; 100,000 calls leave the
process's memory flat, keep no reference to their inputs and no growing set of Python objects.
(Two threads against two sequential calls, the GIL released, is a speed ratio: benchmarks/test_bench_threads.py.)"""

import gc
import threading
import weakref

import pytest
import torch
from conftest import backends
from higgs_samples import assert_batches_equal

from fastcollate import ChatCollator, HiggsAudioSampleCollator, presets
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

LLAMA = [128000, 128006, 78191, 128007, 271, 5, 6, 128009]


def run_threads(fn, n_threads=4, calls=15):
    results, errors = [[] for _ in range(n_threads)], []

    def work(k):
        try:
            for _ in range(calls):
                results[k].append(fn())
        except Exception as e:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return [r for per_thread in results for r in per_thread]


@pytest.mark.parametrize("backend", backends())
def test_threads_sharing_a_higgs_collator(backend):
    batch = synthetic_tts_batch(8, seed=5, audio_seconds=(0, 2))
    collate = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend)
    want = collate(batch)
    for got in run_threads(lambda: collate(batch)):
        assert_batches_equal(got, want)


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("packed", [False, True])
def test_threads_sharing_a_chat_collator(backend, packed):
    rows = [s.input_ids.tolist() for s in synthetic_text_batch(8, 300, seed=6)]
    collate = ChatCollator(presets.llama3(), 128001, packed=packed, backend=backend)
    want = collate(rows)
    for got in run_threads(lambda: collate(rows)):
        assert all(torch.equal(got[k], want[k]) for k in want if isinstance(want[k], torch.Tensor))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_memory_is_flat_over_100000_calls():
    """Both collators, the compiled path where built: after a warm-up, 100,000 more calls (half each) grow the
    resident set by less than 16 MiB (a leak of one output buffer per call would be gigabytes)."""
    backend = backends()[-1]
    text = ChatCollator(presets.llama3(), 128001, backend=backend)
    rows = [LLAMA * 3, LLAMA]
    higgs = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend)
    tts = synthetic_tts_batch(2, seed=1, audio_seconds=(0, 0))
    calls = 50_000 if backend != "python" else 2_000  # the fallback is the spec, not the long-running path
    for _ in range(2_000):
        text(rows)
        higgs(tts)
    gc.collect()
    before = rss_bytes()
    for _ in range(calls):
        text(rows)
        higgs(tts)
    gc.collect()
    assert rss_bytes() - before < 16 * 2**20


@pytest.mark.parametrize("backend", backends())
def test_no_reference_to_inputs_is_kept(backend):
    ids = torch.tensor(LLAMA)
    sample = synthetic_tts_batch(1, seed=2, audio_seconds=(0, 1))[0]
    refs = [weakref.ref(ids), weakref.ref(sample.input_ids), weakref.ref(sample.audio_ids_concat)]
    out = ChatCollator(presets.llama3(), 0, backend=backend)([ids])
    higgs = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend)([sample])
    del ids, sample
    gc.collect()
    assert all(r() is None for r in refs)
    assert out["input_ids"].shape == (1, 8) and higgs.input_ids.shape[0] == 1


@pytest.mark.parametrize("backend", backends())
def test_python_object_count_does_not_grow(backend):
    text = ChatCollator(presets.llama3(), 0, backend=backend)
    higgs = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend)
    tts = synthetic_tts_batch(2, seed=3, audio_seconds=(0, 0))
    dicts = [{k: (v.tolist() if isinstance(v, torch.Tensor) else v) for k, v in vars(s).items()} for s in tts]
    for _ in range(50):
        text([LLAMA, LLAMA[:7]])
        higgs(tts)
        higgs(dicts)
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(500):
        text([LLAMA, LLAMA[:7]])
        higgs(tts)
        higgs(dicts)
    gc.collect()
    assert len(gc.get_objects()) - before < 50
