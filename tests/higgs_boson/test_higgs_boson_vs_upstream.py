"""Every backend against the real upstream collator (boson-multimodal 0.1.1) on seeded realistic batches."""

import copy
import itertools
from types import SimpleNamespace

import pytest
import torch
from conftest import backends
from higgs_samples import KW, assert_batches_equal, random_batch

import fastcollate
from fastcollate.synthetic import synthetic_text_batch, synthetic_tts_batch

# Random samples may learn nothing; the on_empty warning is tested in test_higgs_boson_label_spec.py.
pytestmark = pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning")

FLAG_GRID = [
    dict(
        zip(
            (
                "round_to",
                "pad_left",
                "return_audio_in_tokens",
                "use_delay_pattern",
                "disable_audio_codes_transform",
                "mask_audio_out_token_label",
                "audio_num_codebooks",
            ),
            values,
        )
    )
    for values in itertools.product(
        [1, 8], [False, True], [False, True], [False, True], [False, True], [False, True], [None, 4]
    )
]


def upstream_collate(upstream, batch, **flags):
    """Upstream on deep copies: it writes into its inputs."""
    collator = upstream.HiggsAudioSampleCollator(**flags)
    return collator(copy.deepcopy(batch))


def with_audio_labels(batch):
    for s in batch:
        s.audio_label_ids_concat = torch.where(torch.rand(s.audio_ids_concat.shape) < 0.2, -100, s.audio_ids_concat)
        s.reward = float(torch.rand(()))
    batch[0].label_ids[batch[0].input_ids == KW["audio_out_token_id"]] = -100  # a no-train audio-out segment
    return batch


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("flags", FLAG_GRID, ids=lambda f: "-".join(f"{k[:6]}={v}" for k, v in f.items()))
def test_realistic_tts_batch_matches_upstream(upstream, backend, flags):
    batch = with_audio_labels(synthetic_tts_batch(4, seed=7, num_codebooks=8, audio_seconds=(0, 2)))
    common = dict(whisper_processor=None, **KW, encode_whisper_embed=False, **flags)
    want = upstream_collate(upstream, batch, **common)
    got = fastcollate.HiggsAudioSampleCollator(**common, backend=backend)(batch)
    assert_batches_equal(got, want)


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("seed", range(40))
def test_random_batches_match_upstream(upstream, backend, seed):
    """Adversarial layouts (audio tokens at row edges, empty segments, no labels) where upstream works."""
    batch = random_batch(seed, with_labels=seed % 3 != 0)
    for s in batch:
        s.input_ids = s.input_ids.long()  # upstream cannot take int32 input_ids (it fails in an index_put)
        if s.label_ids is not None:  # and returns int32 label_ids for int32 labels; fastcollate always int64
            s.label_ids = s.label_ids.long()
    common = dict(
        whisper_processor=None,
        **KW,
        encode_whisper_embed=False,
        use_delay_pattern=seed % 2 == 0,
        round_to=1 + seed % 4,
        pad_left=seed % 5 == 0,
    )
    want = upstream_collate(upstream, batch, **common)
    got = fastcollate.HiggsAudioSampleCollator(**common, backend=backend)(batch)
    assert_batches_equal(got, want)


@pytest.mark.parametrize("backend", backends())
def test_text_only_batch_matches_upstream(upstream, backend):
    batch = synthetic_text_batch(4, 64, seed=3)
    common = dict(whisper_processor=None, **KW, encode_whisper_embed=False, use_delay_pattern=True)
    assert_batches_equal(
        fastcollate.HiggsAudioSampleCollator(**common, backend=backend)(batch),
        upstream_collate(upstream, batch, **common),
    )


@pytest.fixture(scope="module")
def whisper_processor():
    from transformers import WhisperFeatureExtractor

    return SimpleNamespace(feature_extractor=WhisperFeatureExtractor(feature_size=128))


def whisper_batch(seconds_per_sample, sample_rate=16000, seed=0, audio_out=False):
    """TTS samples whose audio-in tokens carry waveforms of the given durations."""
    g = torch.Generator().manual_seed(seed)
    batch = synthetic_tts_batch(len(seconds_per_sample), seed=seed, audio_seconds=(0, 1))
    for s, seconds in zip(batch, seconds_per_sample):
        if not audio_out:  # drop the assistant's audio-out: long audio cannot be followed by one
            keep = s.input_ids != KW["audio_out_token_id"]
            s.input_ids, s.label_ids = s.input_ids[keep], s.label_ids[keep]
            s.audio_ids_start = s.audio_ids_start[:1]
        n = int(seconds * sample_rate)
        s.audio_waveforms_concat = torch.rand(n, generator=g) * 2 - 1
        s.audio_waveforms_start = torch.tensor([0])
        s.audio_sample_rate = torch.tensor([sample_rate])
        s.reward = 0.5
    return batch


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("case", ["short", "long_chunks", "resampled", "with_audio_out"])
def test_whisper_path_matches_upstream(upstream, whisper_processor, backend, case):
    flags = dict(
        whisper_processor=whisper_processor,
        **KW,
        encode_whisper_embed=True,
        use_delay_pattern=True,
        chunk_size_seconds=1,
        return_audio_in_tokens=case in ("short", "with_audio_out"),
    )
    seconds, rate = {
        "short": ([0.5, 0.3], 16000),
        "long_chunks": ([2.5, 0.4], 16000),
        "resampled": ([0.6, 1.7], 24000),
        "with_audio_out": ([0.5, 0.9], 16000),
    }[case]
    batch = whisper_batch(seconds, sample_rate=rate, audio_out=case == "with_audio_out")
    want = upstream_collate(upstream, batch, **flags)
    got = fastcollate.HiggsAudioSampleCollator(**flags, backend=backend)(batch)
    assert_batches_equal(got, want)
    if case == "long_chunks":  # 3 chunks + 1: the triple repeated, one feature row per chunk
        assert got.audio_features.shape[0] == 4
        assert int((got.input_ids == KW["audio_in_token_id"]).sum()) == 4
