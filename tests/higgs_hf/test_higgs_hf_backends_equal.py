"""HiggsAudioV2Collator: the compiled path against the pure-Python twin, bit for bit, or the very same ValueError."""

import contextlib
import random
import re

import numpy as np
import pytest
import torch
from conftest import COMPILED
from higgs_hf_features import assert_batches_equal, random_features
from hypothesis import given, settings
from hypothesis import strategies as st

import fastcollate

pytestmark = [
    pytest.mark.skipif(not COMPILED, reason="compiled extension not built"),
    pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning"),
]

OPTIONS = st.fixed_dictionaries(
    {
        "padding_side": st.sampled_from(["left", "right"]),
        "pad_to_multiple_of": st.sampled_from([None, 1, 8]),
        "label_mode": st.sampled_from(["processor", "correct"]),
    }
)


def collator(backend, **options):
    """The features' K varies from batch to batch (1 to 12): the batch's first clip gives it."""
    return fastcollate.HiggsAudioV2Collator(128001, backend=backend, **{"num_codebooks": None, **options})


def collate_both(features, **options):
    outcomes = []
    for backend in ("python", "cpu"):
        try:
            outcomes.append(collator(backend, **options)._collate(features))
        except ValueError as exc:
            outcomes.append(exc)
    return outcomes


@settings(max_examples=300, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), options=OPTIONS, mixed=st.booleans())
def test_compiled_equals_twin(seed, options, mixed):
    features = random_features(seed, mixed=mixed, correct=options["label_mode"] == "correct")
    python, cpu = collate_both(features, **options)
    assert not isinstance(python, ValueError), python  # the generator makes valid batches
    assert_batches_equal(cpu[0], python[0])
    # What the on_empty policy reads: features learning nothing, and then the learned labels per feature.
    assert cpu[1] == int((python[1] == 0).sum())
    assert torch.equal(collator("cpu", **options)._collate_counts(features), python[1])


@contextlib.contextmanager
def transpose_path(simd: bool):
    """The code transpose's SIMD path (AVX2 where the CPU has it) or its scalar twin, for the duration."""
    core = fastcollate.runtime.backend.core()
    previous = core.higgs_hf.set_simd(simd)
    try:
        yield
    finally:
        core.higgs_hf.set_simd(previous)


BOTH_PATHS = pytest.mark.parametrize("simd", [True, False], ids=["simd", "scalar"])


@BOTH_PATHS
@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), codebooks=st.sampled_from([1, 4, 5, 8, 12]))
def test_long_clips_in_both_transpose_paths(simd, seed, codebooks):
    """Clips long enough for many 4-frame blocks of the SIMD transpose and their leftover frames (L from 1 to
    300), K a multiple of 4 (SIMD) or not (scalar), codes as int32, int64, strided or numpy, in both modes."""
    for mode in ("processor", "correct"):
        features = random_features(
            seed, codebooks=codebooks, max_len=300, max_clips=2, size=3, correct=mode == "correct"
        )
        with transpose_path(simd):
            python, cpu = collate_both(features, label_mode=mode)
        assert_batches_equal(cpu[0], python[0])


@BOTH_PATHS
@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), codebooks=st.sampled_from([4, 8, 12]), form=st.sampled_from(["int64", "int32"]))
def test_codes_equal_to_the_stream_ids_in_both_transpose_paths(simd, seed, codebooks, form):
    """Codes that are the stream BOS or EOS (1024, 1025) inside a clip, under a codebook_size that makes them
    codes (1028): the processor's labels mask them wherever they are, which the SIMD path does with vector
    compares and counts in a vector of per-lane sums."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    dtype = torch.int64 if form == "int64" else torch.int32
    features = random_features(seed, codebooks=codebooks, max_len=40, max_clips=2, size=3, mixed=False)
    for f in features:
        clips = f["audio_codes"] if isinstance(f, dict) else f.audio_codes
        for j in range(len(clips)):
            clips[j] = torch.randint(1022, 1028, (codebooks, rng.randint(1, 40)), generator=g).to(dtype)
    for mode in ("processor", "correct"):
        with transpose_path(simd):
            python, cpu = collate_both(features, label_mode=mode, codebook_size=1028)
            counts = collator("cpu", label_mode=mode, codebook_size=1028)._collate_counts(features)
        assert_batches_equal(cpu[0], python[0])
        assert cpu[1] == int((python[1] == 0).sum())
        assert torch.equal(counts, python[1])
    masked = (python[0]["audio_input_ids"] == 1024) | (python[0]["audio_input_ids"] == 1025)
    assert masked.any()  # the stream ids do occur as codes, so the masking rule is exercised


@BOTH_PATHS
@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**31 - 1), codebooks=st.sampled_from([1, 4, 5, 8]), form=st.sampled_from(["int64", "int32"])
)
def test_codes_outside_the_codebook_are_the_same_error(simd, seed, codebooks, form):
    """Codes of -100, the stream BOS/EOS (1024, 1025) or beyond, among valid ones, in clips long enough for the
    SIMD transpose: both backends raise the same ValueError, naming the first bad frame and codebook of the
    first clip that holds one (the twin finds it with a tensor scan, the compiled path in its plan)."""
    rng = random.Random(seed)
    dtype = torch.int64 if form == "int64" else torch.int32
    features = random_features(seed, codebooks=codebooks, max_len=40, max_clips=2, size=3, mixed=False)
    for f in features:
        clips = f["audio_codes"] if isinstance(f, dict) else f.audio_codes
        for j, _ in enumerate(clips):
            length = rng.randint(1, 40)
            clips[j] = torch.tensor(
                [rng.choice([-100, 7, 7, 7, 1023, 1024, 1025, 4000]) for _ in range(codebooks * length)], dtype=dtype
            ).reshape(codebooks, length)
    first = features[0]["audio_codes"] if isinstance(features[0], dict) else features[0].audio_codes
    first[-1][0, -1] = 1024  # at least one bad code in the batch
    for mode in ("processor", "correct"):
        with transpose_path(simd):
            python, cpu = collate_both(features, label_mode=mode)
        assert isinstance(python, ValueError) and isinstance(cpu, ValueError)
        assert str(cpu) == str(python)
        assert re.search(
            r"^sample \d+: audio_codes\[\d+\]: holds the code (-100|1024|1025|4000) at frame \d+, codebook \d+;",
            str(python),
        )


def clips_of(feature):
    return feature["audio_codes"] if isinstance(feature, dict) else feature.audio_codes


@BOTH_PATHS
@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**31 - 1),
    codebooks=st.sampled_from([1, 3, 4, 8]),
    form=st.sampled_from(["int64", "int32"]),
    code=st.sampled_from([-1, -100, 1024, 1025, 2048, 2**31 - 1, -(2**31)]),
    other=st.sampled_from([None, "extra clip", "pad_to_multiple_of", "packed"]),
)
def test_one_bad_code_anywhere_is_the_same_first_error(simd, seed, codebooks, form, code, other):
    """One bad code in one clip of a valid batch, in any frame (the delayed edge frames or the transposed middle
    ones) and codebook, and maybe another error elsewhere: both backends raise the same first error. The
    compiled path checks the codes in the transpose that reads them (codebook_size 1024, a power of two) and
    reruns its checks in the twin's order when it meets a bad one or another error first."""
    rng = random.Random(seed)
    dtype = torch.int64 if form == "int64" else torch.int32
    features = random_features(seed, codebooks=codebooks, max_len=40, max_clips=2, size=4, mixed=False)
    bad_feature = rng.randrange(len(features))
    clips = clips_of(features[bad_feature])
    bad_clip = rng.randrange(len(clips))
    clip = torch.as_tensor(np.asarray(clips[bad_clip]) if isinstance(clips[bad_clip], list) else clips[bad_clip])
    clip = clip.to(dtype).clone()
    frame, codebook = rng.randrange(clip.shape[1]), rng.randrange(codebooks)
    clip[codebook, frame] = code
    clips[bad_clip] = clip
    options = {}
    if other == "extra clip":  # a clip count error in some feature, before or after the bad code
        clips_of(features[rng.randrange(len(features))]).append(torch.zeros((codebooks, 2), dtype=torch.long))
    elif other == "pad_to_multiple_of":  # a padded width past what a process can address: checked after the codes
        options["pad_to_multiple_of"] = 2**40
    elif other == "packed":
        options["packed"] = True
    for mode in ("processor", "correct"):
        with transpose_path(simd):
            python, cpu = collate_both(features, label_mode=mode, **options)
        assert isinstance(python, ValueError) and isinstance(cpu, ValueError)
        assert str(cpu) == str(python)
        if other in (None, "packed"):
            assert str(python).startswith(
                f"sample {bad_feature}: audio_codes[{bad_clip}]: holds the code {code} at frame {frame}, "
                f"codebook {codebook}; codes lie in [0, 1024)"
            )


@pytest.mark.parametrize("backend", ["python", "cpu"])
def test_a_codebook_size_not_a_power_of_two_still_checks_every_code(backend):
    """codebook_size=1000 (not a power of two, so no bit mask tells): 1000 is refused and 999 accepted."""
    clip = torch.full((4, 12), 999)
    collator = fastcollate.HiggsAudioV2Collator(128001, backend=backend, num_codebooks=4, codebook_size=1000)
    batch = collator([{"input_ids": [1, 128016, 2], "audio_codes": [clip]}])
    assert int(batch["audio_input_ids"].max()) == 1025  # the stream EOS of the delay pattern; 999 passed
    clip[2, 7] = 1000
    with pytest.raises(
        ValueError, match=re.escape("holds the code 1000 at frame 7, codebook 2; codes lie in [0, 1000)")
    ):
        collator([{"input_ids": [1, 128016, 2], "audio_codes": [clip]}])


def test_text_only_batch_has_no_audio_keys():
    for backend in ("python", "cpu"):
        batch = fastcollate.HiggsAudioV2Collator(128001, backend=backend)([{"input_ids": [1, 2, 3]}])
        assert list(batch) == ["input_ids", "attention_mask", "labels"]
