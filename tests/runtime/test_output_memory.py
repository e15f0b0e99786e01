"""Keeping a small output of a batch (a mask, per-row counts or offsets) keeps only that output alive.

The compiled collators put the token tensors of a batch in one allocation and give each smaller output an
allocation of its own (csrc/python/output_arena.h): a training loop that keeps `num_learned` or an
attention mask from every step must not keep every step's whole batch alive. Both checks are deterministic:
a small output's storage holds that output and no other (every backend; a tensor made through DLPack has a
storage of its own even inside a shared block, so this alone cannot see the compiled path's sharing), and
the compiled path's host allocations still alive once the rest of the batch is dropped are the kept
output's alone (`_core.runtime.host_output_bytes`). Every backend that builds the batch on the CPU: the twin,
the compiled path and the CUDA kernels' bodies on the grid runner.
"""

import gc

import pytest
import torch
from conftest import COMPILED
from higgs_hf_features import random_features

from fastcollate import ChatCollator, HiggsAudioSampleCollator, HiggsAudioV2Collator, presets
from fastcollate.higgs_boson.native import collate_native, native_options
from fastcollate.rolespan.native import _result, native_spec
from fastcollate.runtime.backend import core
from fastcollate.synthetic import LLAMA3_IDS, higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

GRID = dict(device=-1)  # the CPU grid runner
ALIGN = 64  # bytes: the compiled path rounds each allocation up to this

# The outputs of each collator that have an allocation of their own; the others may share one.
OWN = {
    "chat": ("attention_mask", "num_learned"),
    "chat_packed": ("position_ids", "cu_seq_lens_q", "cu_seq_lens_k", "num_learned"),
    "higgs": (
        "attention_mask",
        "audio_in_ids_start",
        "audio_out_ids_start",
        "audio_out_ids_start_group_loc",
        "reward",
    ),
    "higgs_hf": ("attention_mask", "audio_input_ids_mask"),
}


def chat_rows():
    return [s.input_ids for s in synthetic_text_batch(6, 90, seed=11)]


def chat(backend, packed):
    collator = ChatCollator(presets.llama3(), LLAMA3_IDS.pad, packed=packed, return_num_learned=True, backend=backend)
    return collator(chat_rows())


def chat_grid(packed):
    args = (chat_rows(), native_spec(presets.llama3()), LLAMA3_IDS.pad, False, 1, packed, None)
    return _result(*core().rolespan.kernel_collate(*args, **GRID), packed=packed)


def higgs_samples():
    return synthetic_tts_batch(5, seed=12, audio_seconds=(0, 2))


def higgs(backend):
    return vars(HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend)(higgs_samples()))


def higgs_grid():
    collator = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="python")  # for its config only
    options = native_options(collator.config)
    samples = higgs_samples()
    batch, _ = collate_native(samples, options)  # the compiled CPU path, for the grid's equality
    out = core().higgs_boson.kernel_collate(samples, options, None, **GRID)
    names = (
        "input_ids",
        "attention_mask",
        "label_ids",
        "audio_in_ids",
        "audio_in_ids_start",
        "audio_out_ids",
        "audio_out_ids_start",
        "label_audio_ids",
        "audio_out_ids_start_group_loc",
        "reward",
    )
    got = dict(zip(names, out[:-1]))
    for k, v in got.items():
        assert torch.equal(v, getattr(batch, k)), k
    return got


def higgs_hf(backend):
    collator = HiggsAudioV2Collator(LLAMA3_IDS.pad, backend=backend, on_empty="keep")  # random chats may learn nothing
    return collator(random_features(13, size=5, codebooks=8, max_len=40))


BATCHES = {
    ("chat", "python"): lambda: chat("python", packed=False),
    ("chat", "cpu"): lambda: chat("cpu", packed=False),
    ("chat", "grid"): lambda: chat_grid(packed=False),
    ("chat_packed", "python"): lambda: chat("python", packed=True),
    ("chat_packed", "cpu"): lambda: chat("cpu", packed=True),
    ("chat_packed", "grid"): lambda: chat_grid(packed=True),
    ("higgs", "python"): lambda: higgs("python"),
    ("higgs", "cpu"): lambda: higgs("cpu"),
    ("higgs", "grid"): higgs_grid,
    ("higgs_hf", "python"): lambda: higgs_hf("python"),
    ("higgs_hf", "cpu"): lambda: higgs_hf("cpu"),
}


def storage(t: torch.Tensor):
    s = t.untyped_storage()
    return s.data_ptr(), s.nbytes()


def allocation_bytes(t: torch.Tensor) -> int:
    """What the compiled path allocates for `t` alone: its bytes rounded up to ALIGN, at least ALIGN."""
    return max(ALIGN, -(-t.numel() * t.element_size() // ALIGN) * ALIGN)


@pytest.mark.parametrize("case", sorted(BATCHES), ids=lambda c: f"{c[0]}-{c[1]}")
def test_small_outputs_have_their_own_allocation(case):
    collator, backend = case
    if backend != "python" and not COMPILED:
        pytest.skip("compiled extension not built")
    batch = {k: v for k, v in BATCHES[case]().items() if torch.is_tensor(v)}
    own = OWN[collator]
    assert set(own) <= batch.keys()
    for k in own:
        t = batch[k]
        ptr, nbytes = storage(t)
        # Its storage holds only itself (rounded up to the compiled path's alignment)...
        assert nbytes <= allocation_bytes(t), (k, nbytes)
        # ...and no other output lives in it (cu_seq_lens_k is cu_seq_lens_q, the same tensor).
        for j, u in batch.items():
            if j != k and u is not t:
                assert storage(u)[0] != ptr, f"{k} shares its allocation with {j}"


COMPILED_OWN = [(c, b, k) for c, b in sorted(BATCHES) if b != "python" for k in OWN[c]]


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
@pytest.mark.parametrize("collator, backend, key", COMPILED_OWN, ids=lambda v: str(v))
def test_a_kept_small_output_keeps_only_its_own_allocation(collator, backend, key):
    alive = core().runtime.host_output_bytes
    gc.collect()
    before = alive()
    kept = BATCHES[(collator, backend)]()[key]  # the rest of the batch is dropped here
    gc.collect()
    assert alive() - before == allocation_bytes(kept), key
    del kept
    gc.collect()
    assert alive() == before
