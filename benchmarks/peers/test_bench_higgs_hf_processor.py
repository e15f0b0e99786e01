"""transformers' HiggsAudioV2Processor (its non-codec work: a stand-in codec hands it the codes) vs
HiggsAudioV2Collator vs a copy of the output bytes, on the batch of benchmarks/higgs_hf_batch.py, in one run.

The processor needs transformers 5.x, which the upstream Higgs reference's pin (4.46.3) excludes: this file runs
in the venv of tests/higgs_hf/transformers/setup_venv.sh, through `bash benchmarks/peers/run_higgs_hf.sh` (skipped elsewhere).
"""

import sys
from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers")
if not hasattr(transformers, "HiggsAudioV2Processor"):
    pytest.skip("transformers 5.x needed: bash benchmarks/peers/run_higgs_hf.sh", allow_module_level=True)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "higgs_hf" / "transformers"))

from hf_reference import SPECIAL, WORDS, processor, run_processor  # noqa: E402
from higgs_hf_batch import CODEBOOKS, as_text, features  # noqa: E402

import fastcollate  # noqa: E402

GROUP = "higgs_hf-16x2-processor-labels"
FEATURES = features()
CLIPS = [c for f in FEATURES for c in f["audio_codes"]]
TEXTS = [as_text(f["input_ids"], {**WORDS, **SPECIAL}) for f in FEATURES]
TOKENS = sum(len(f["input_ids"]) + sum(c.numel() for c in f["audio_codes"]) for f in FEATURES)


@pytest.fixture(scope="module")
def proc():
    p = processor(CODEBOOKS)
    assert [p.tokenizer(t)["input_ids"] for t in TEXTS] == [f["input_ids"].tolist() for f in FEATURES]
    return p


@pytest.fixture(scope="module")
def want(proc):
    return run_processor(proc, TEXTS, CLIPS)


def test_processor(record, proc, want):
    # The stand-in codec's queue is refilled outside the timing (clones of the codes: not the processor's work).
    got = record(
        GROUP,
        "processor",
        lambda: proc(list(TEXTS), AUDIO, output_labels=True, return_tensors="pt"),
        setup=lambda: (proc.audio_tokenizer.queue.extend(c.clone() for c in CLIPS), ((), {}))[1],
        rounds=20,
        items=TOKENS,
    )
    assert all(torch.equal(got[k], want[k]) for k in want.keys())


AUDIO = [torch.zeros(8).numpy() for _ in CLIPS]


def test_cpu(record, want):
    collator = fastcollate.HiggsAudioV2Collator(128001, label_mode="processor", backend="cpu")  # equals the processor
    nbytes = sum(t.numel() * t.element_size() for t in want.values())
    got = record(GROUP, "cpu", lambda: collator(FEATURES), items=TOKENS, out_bytes=nbytes)
    assert list(got) == list(want.keys()) and all(torch.equal(got[k], want[k]) for k in want.keys())


def test_copy_floor(record, want):
    flat = [t.reshape(-1).view(torch.uint8) for t in want.values()]
    nbytes = sum(t.numel() for t in flat)
    got = record(
        GROUP, "copy_floor", lambda: torch.cat(flat, out=torch.empty(nbytes, dtype=torch.uint8)), out_bytes=nbytes
    )
    assert torch.equal(got, torch.cat(flat))
