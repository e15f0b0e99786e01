"""fastcollate never writes into the caller's samples, so a second call on the same samples is the same batch."""

import threading

import pytest
import torch
from conftest import COMPILED, backends
from higgs_samples import KW, assert_batches_equal, random_batch, snapshot

import fastcollate
from fastcollate.synthetic import synthetic_tts_batch

# Random samples may learn nothing; the on_empty warning is tested in test_higgs_boson_label_spec.py.
pytestmark = pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning")


def assert_unchanged(batch, before):
    for s, saved in zip(batch, before):
        for name, value in saved.items():
            now = getattr(s, name)
            if isinstance(value, torch.Tensor):
                assert now.dtype == value.dtype and torch.equal(now, value), name
            else:
                assert now == value, name


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("flags", [dict(), dict(disable_audio_codes_transform=True), dict(pad_left=True)])
def test_inputs_unchanged_and_second_call_equal(backend, flags):
    batch = random_batch(11, with_audio_labels=True, size=6)
    batch[0].label_ids[batch[0].input_ids == KW["audio_out_token_id"]] = -100  # no-train segment
    before = snapshot(batch)
    collator = fastcollate.HiggsAudioSampleCollator(
        None, **KW, encode_whisper_embed=False, use_delay_pattern=True, backend=backend, **flags
    )
    first = collator(batch)
    assert_unchanged(batch, before)
    assert_batches_equal(collator(batch), first)


def test_upstream_mutates_where_we_do_not(upstream):
    """The bug we fix: upstream writes -100 into label_ids at <|AUDIO_OUT|>, changing the next epoch's batch."""
    batch = synthetic_tts_batch(2, seed=5, audio_seconds=(0, 1))
    flags = dict(whisper_processor=None, **KW, encode_whisper_embed=False, use_delay_pattern=True)
    ours = fastcollate.HiggsAudioSampleCollator(**flags, backend="python")(batch)
    theirs = upstream.HiggsAudioSampleCollator(**flags)
    first = theirs(batch)
    assert_batches_equal(ours, first)
    second = theirs(batch)  # same samples again: the audio-out segments are now "no-train"
    assert (first.label_audio_ids != -100).any()
    assert (second.label_audio_ids == -100).all()


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
def test_threads_share_one_collator():
    """The GIL is released while filling; concurrent calls must not interfere."""
    batches = [synthetic_tts_batch(8, seed=s, audio_seconds=(1, 4)) for s in range(4)]
    collator = fastcollate.HiggsAudioSampleCollator(
        None, **KW, encode_whisper_embed=False, use_delay_pattern=True, backend="cpu"
    )
    want = [collator(b) for b in batches]
    results = {}

    def work(n):
        results[n] = [collator(batches[n % 4]) for _ in range(5)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n, outs in results.items():
        for out in outs:
            assert_batches_equal(out, want[n % 4])


@pytest.mark.parametrize("backend", backends())
def test_collator_pickles_for_spawned_dataloader_workers(backend):
    import pickle

    from fastcollate import presets

    batch = synthetic_tts_batch(3, seed=6, audio_seconds=(0, 1))
    collator = fastcollate.HiggsAudioSampleCollator(
        None, **KW, encode_whisper_embed=False, use_delay_pattern=True, backend=backend, label_spec=presets.llama3()
    )
    clone = pickle.loads(pickle.dumps(collator))
    assert clone.backend == backend
    assert_batches_equal(clone(batch), collator(batch))
