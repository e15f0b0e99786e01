"""Higgs Audio collation: upstream vs the pure-Python fallback vs the compiled CPU path vs a plain copy floor.

Scenarios: realistic TTS fine-tuning batches of 16 and 64 samples (8 codebooks, a reference voice as
audio-in, speech as audio-out, delay pattern on, no whisper, audio of 2-30 s at 25 frames/s, text of 20-400
tokens) and a text-only batch of 32 x 2048.
"""

import copy

import pytest
import torch

import fastcollate
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

SCENARIOS = {
    "tts-16": lambda: synthetic_tts_batch(16, seed=16),
    "tts-64": lambda: synthetic_tts_batch(64, seed=64),
    "text-32x2048": lambda: synthetic_text_batch(32, 2048, seed=32),
}
_CACHE = {}


def scenario(name):
    """The batch and the compiled path's output on it (the expected result every benchmark asserts)."""
    if name not in _CACHE:
        batch = SCENARIOS[name]()
        want = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="python")(batch)
        _CACHE[name] = batch, want
    return _CACHE[name]


def outputs(result):
    return [v for v in vars(result).values() if isinstance(v, torch.Tensor)]


def token_count(batch):
    """Text tokens plus audio codes (frames x codebooks) handed to the collator."""
    return sum(len(s.input_ids) + s.audio_ids_concat.numel() for s in batch)


def assert_same(got, want):
    for name in vars(want):
        a, b = getattr(got, name), getattr(want, name)
        assert (a is None and b is None) or torch.equal(a, b), name


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_upstream(record, name):
    upstream = pytest.importorskip("boson_multimodal.data_collator.higgs_audio_collator")
    batch, want = scenario(name)
    collator = upstream.HiggsAudioSampleCollator(**higgs_collator_kwargs())
    # Upstream writes into its samples, so every round gets fresh copies (copying is not timed).
    got = record(
        name, "upstream", collator, setup=lambda: ((copy.deepcopy(batch),), {}), rounds=10, items=token_count(batch)
    )
    assert_same(got, want)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fallback(record, name):
    batch, want = scenario(name)
    collator = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="python")
    assert_same(record(name, "fallback", lambda: collator(batch), items=token_count(batch)), want)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_cpu(record, name):
    if not fastcollate.backend_info()["compiled"]:
        pytest.skip("compiled extension not built")
    batch, want = scenario(name)
    collator = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cpu")
    nbytes = sum(t.numel() * t.element_size() for t in outputs(want))
    assert_same(record(name, "cpu", lambda: collator(batch), items=token_count(batch), out_bytes=nbytes), want)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_copy_floor(record, name):
    """The floor: allocate the output bytes once and copy them there from finished tensors."""
    _, want = scenario(name)
    flat = [t.reshape(-1).view(torch.uint8) for t in outputs(want)]
    nbytes = sum(t.numel() for t in flat)

    def copy_outputs():
        return torch.cat(flat, out=torch.empty(nbytes, dtype=torch.uint8))

    got = record(name, "copy_floor", copy_outputs, out_bytes=nbytes)
    assert torch.equal(got, torch.cat(flat))


def as_dict_of_lists(sample):
    """A datasets row without a format: every tensor field as (nested) Python lists."""
    return {k: (v.tolist() if isinstance(v, torch.Tensor) else v) for k, v in vars(sample).items()}


@pytest.mark.parametrize("name", ["tts-16", "tts-64"])
def test_cpu_dict_of_lists(record, name):
    """The same batch as Mappings of Python lists (a datasets.Dataset row): converted natively in one pass."""
    if not fastcollate.backend_info()["compiled"]:
        pytest.skip("compiled extension not built")
    batch, want = scenario(name)
    rows = [as_dict_of_lists(s) for s in batch]
    collator = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cpu")
    assert_same(record(name, "cpu_dict_of_lists", lambda: collator(rows), items=token_count(batch)), want)
