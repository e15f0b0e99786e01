"""HiggsAudioV2Collator on 16 samples x 2 clips, K = 8, L about 250: the pure-Python twin, the compiled path
and a copy of the output bytes, in both label modes. transformers' processor, the reference, needs
transformers 5.x: it is timed against the compiled path in one run in its own venv
(benchmarks/peers/test_bench_higgs_hf_processor.py, `bash benchmarks/peers/run_higgs_hf.sh`)."""

import pytest
import torch
from higgs_hf_batch import features

import fastcollate

FEATURES = features()
TOKENS = sum(len(f["input_ids"]) + sum(c.numel() for c in f["audio_codes"]) for f in FEATURES)


def collator(backend, mode):
    return fastcollate.HiggsAudioV2Collator(128001, label_mode=mode, backend=backend)


def want(mode):
    return collator("python", mode)(FEATURES)


def assert_same(got, expected):
    assert list(got) == list(expected) and all(torch.equal(got[k], expected[k]) for k in expected)


@pytest.mark.parametrize("mode", ["processor", "correct"])
def test_twin(record, mode):
    expected = want(mode)
    assert_same(
        record(f"higgs_hf-16x2-{mode}", "fallback", lambda: collator("python", mode)(FEATURES), items=TOKENS), expected
    )


@pytest.mark.parametrize("mode", ["processor", "correct"])
def test_cpu(record, mode):
    if not fastcollate.backend_info()["compiled"]:
        pytest.skip("compiled extension not built")
    expected, c = want(mode), collator("cpu", mode)
    nbytes = sum(t.numel() * t.element_size() for t in expected.values())
    assert_same(record(f"higgs_hf-16x2-{mode}", "cpu", lambda: c(FEATURES), items=TOKENS, out_bytes=nbytes), expected)


def copy_floor(outputs):
    """(the outputs' bytes, a call that allocates that many once and copies the outputs there): the floor."""
    flat = [t.reshape(-1).view(torch.uint8) for t in outputs.values()]
    nbytes = sum(t.numel() for t in flat)
    return flat, nbytes, lambda: torch.cat(flat, out=torch.empty(nbytes, dtype=torch.uint8))


@pytest.mark.parametrize("mode", ["processor", "correct"])
def test_copy_floor(record, mode):
    """The floor: allocate the output bytes once and copy them there from finished tensors."""
    flat, nbytes, floor = copy_floor(want(mode))
    got = record(f"higgs_hf-16x2-{mode}", "copy_floor", floor, out_bytes=nbytes)
    assert torch.equal(got, torch.cat(flat))


@pytest.mark.parametrize("mode", ["processor", "correct"])
def test_cpu_paired_with_copy_floor(record_paired, mode):
    """The issue's ratio (within 1.5x of a copy of the output bytes), each round of the compiled path right
    after one copy floor, so that both are timed on the same machine state (conftest.record_paired)."""
    if not fastcollate.backend_info()["compiled"]:
        pytest.skip("compiled extension not built")
    expected, c = want(mode), collator("cpu", mode)
    _, _, floor = copy_floor(expected)
    assert_same(record_paired(f"higgs_hf-16x2-{mode}-paired", lambda: c(FEATURES), floor), expected)


@pytest.mark.parametrize("mode", ["processor", "correct"])
def test_cpu_packed_paired_with_copy_floor(record_paired, mode):
    """packed=True (every feature in one row): within 1.5x of a copy of its own output bytes (issue 22's target),
    each round right after one copy floor."""
    if not fastcollate.backend_info()["compiled"]:
        pytest.skip("compiled extension not built")
    expected = fastcollate.HiggsAudioV2Collator(128001, label_mode=mode, backend="python", packed=True)(FEATURES)
    c = fastcollate.HiggsAudioV2Collator(128001, label_mode=mode, backend="cpu", packed=True)
    _, _, floor = copy_floor({k: v for k, v in expected.items() if isinstance(v, torch.Tensor)})
    got = record_paired(f"higgs_hf-16x2-{mode}-packed-paired", lambda: c(FEATURES), floor)
    assert list(got) == list(expected)
    assert all(torch.equal(got[k], v) if isinstance(v, torch.Tensor) else got[k] == v for k, v in expected.items())
