"""The compiled path against the pure-Python reference: bit-for-bit, or the very same ValueError."""

import pytest
import torch
from conftest import COMPILED
from higgs_samples import KW, assert_batches_equal, random_batch
from hypothesis import given, settings
from hypothesis import strategies as st

import fastcollate

pytestmark = [
    pytest.mark.skipif(not COMPILED, reason="compiled extension not built"),
    pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning"),
]


def collate_both(batch, backends=("python", "cpu"), **flags):
    """Each backend's batch, or its ValueError."""
    outcomes = []
    for backend in backends:
        collator = fastcollate.HiggsAudioSampleCollator(
            None, **KW, encode_whisper_embed=False, backend=backend, **flags
        )
        try:
            outcomes.append(collator(batch))
        except ValueError as exc:
            outcomes.append(exc)
    return outcomes


FLAGS = st.fixed_dictionaries(
    {
        "round_to": st.sampled_from([1, 2, 8]),
        "pad_left": st.booleans(),
        "return_audio_in_tokens": st.booleans(),
        "audio_num_codebooks": st.sampled_from([None, 1, 4, 8]),
        "use_delay_pattern": st.booleans(),
        "disable_audio_codes_transform": st.booleans(),
        "mask_audio_out_token_label": st.booleans(),
    }
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), flags=FLAGS, with_labels=st.booleans(), with_audio_labels=st.booleans())
def test_compiled_equals_reference(seed, flags, with_labels, with_audio_labels):
    batch = random_batch(
        seed,
        audio_num_codebooks=flags["audio_num_codebooks"],
        with_labels=with_labels,
        with_audio_labels=with_audio_labels,
    )
    ref, cpu = collate_both(batch, **flags)
    if isinstance(ref, ValueError) or isinstance(cpu, ValueError):
        assert str(ref) == str(cpu), f"reference: {ref!r}\ncompiled: {cpu!r}"
        return
    assert_batches_equal(cpu, ref)


@pytest.mark.parametrize("num_codebooks,keep", [(1, None), (12, None), (12, 8), (8, 3)])
@pytest.mark.parametrize("frames", [0, 1, 7])
def test_odd_sizes(num_codebooks, keep, frames):
    """Empty audio, one frame, one sample, 12 codebooks, truncation to fewer."""
    from fastcollate.synthetic import synthetic_tts_batch

    batch = synthetic_tts_batch(1, seed=frames, num_codebooks=num_codebooks, audio_seconds=(0, 0))
    s = batch[0]
    s.audio_ids_concat = torch.randint(0, 1024, (num_codebooks, 2 * frames))
    s.audio_ids_start = torch.tensor([0, frames])
    ref, cpu = collate_both(batch, audio_num_codebooks=keep, use_delay_pattern=True)
    assert not isinstance(ref, Exception), ref
    assert_batches_equal(cpu, ref)
    k = num_codebooks if keep is None else min(num_codebooks, keep)
    assert ref.audio_out_ids.shape == (k, frames + 2 + k - 1)


def test_text_only_batch_has_empty_audio_fields():
    from fastcollate.synthetic import synthetic_text_batch

    ref, cpu = collate_both(synthetic_text_batch(3, 50), use_delay_pattern=True)
    assert_batches_equal(cpu, ref)
    assert ref.audio_out_ids.shape == (0, 0) and ref.audio_in_ids.shape == (0, 0)
    assert ref.audio_out_ids_start_group_loc is None
    assert ref.label_audio_ids.shape == (0, 0)
