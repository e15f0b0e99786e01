"""Bad input is a ValueError naming the sample and the field, from every backend, never a crash."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import backends
from higgs_samples import KW

import fastcollate
from fastcollate.synthetic import synthetic_tts_batch

# Random samples may learn nothing; the on_empty warning is tested in test_higgs_boson_label_spec.py.
pytestmark = pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning")


def collate(batch, backend, **flags):
    flags = {"whisper_processor": None, **KW, "encode_whisper_embed": False, "use_delay_pattern": True, **flags}
    return fastcollate.HiggsAudioSampleCollator(**flags, backend=backend)(batch)


def tts(n=3, **kwargs):
    return synthetic_tts_batch(n, seed=1, audio_seconds=(0, 1), **kwargs)


def set_field(field, value, sample=1):
    def mutate(batch):
        setattr(batch[sample], field, value(batch[sample]) if callable(value) else value)
        return batch

    return mutate


CASES = [
    (
        "float input_ids",
        set_field("input_ids", lambda s: s.input_ids.float()),
        r"^sample 1: input_ids: expected dtype torch.int32 or torch.int64, got torch.float32$",
    ),
    (
        "2-D input_ids",
        set_field("input_ids", lambda s: s.input_ids[None]),
        r"^sample 1: input_ids: expected a 1-D tensor, got shape \(1, \d+\)$",
    ),
    (
        "str input_ids",
        set_field("input_ids", "abc"),
        r"^sample 1: input_ids: expected a 1-D torch.Tensor, numpy array or list of ints, got str$",
    ),
    (
        "list with a float",
        set_field("input_ids", lambda s: s.input_ids.tolist()[:3] + [2.5]),
        r"^sample 1: input_ids: expected a list of ints, got float at position 3$",
    ),
    (
        "int past int64",
        set_field("input_ids", lambda s: s.input_ids.tolist()[:2] + [2**63]),
        r"^sample 1: input_ids: value 9223372036854775808 at position 2 does not fit in int64$",
    ),
    (
        "ragged codes",
        set_field("audio_ids_concat", [[1, 2], [3]]),
        r"^sample 1: audio_ids_concat: row 1 has 1 entries, row 0 has 2$",
    ),
    (
        "codes row not a list",
        set_field("audio_ids_concat", [[1, 2], 3]),
        r"^sample 1: audio_ids_concat: expected a list of lists of ints, got int at row 1$",
    ),
    (
        "bool in codes",
        set_field("audio_ids_concat", [[1, True]]),
        r"^sample 1: audio_ids_concat: expected a list of lists of ints, got bool at position \(0, 1\)$",
    ),
    (
        "float array codes",
        set_field("audio_ids_concat", lambda s: s.audio_ids_concat.float().numpy()),
        r"^sample 1: audio_ids_concat: expected an integer dtype, got buffer format 'f'$",
    ),
    (
        "uint64 past int64",
        set_field("audio_ids_start", np.array([0, 2**63 + 5], dtype=np.uint64)),
        r"^sample 1: audio_ids_start: value 9223372036854775813 at position 1 does not fit in int64$",
    ),
    (
        "3-D array codes",
        set_field("audio_ids_concat", np.zeros((1, 2, 3), dtype=np.int64)),
        r"^sample 1: audio_ids_concat: expected a 2-D array, got 3 dimensions$",
    ),
    (
        "meta device",
        set_field("input_ids", lambda s: s.input_ids.to("meta")),
        r"^sample 1: input_ids: expected a dense CPU tensor, got torch.strided on meta$",
    ),
    (
        "sparse",
        set_field("input_ids", lambda s: s.input_ids.to_sparse()),
        r"^sample 1: input_ids: expected a dense CPU tensor, got torch.sparse_coo on cpu$",
    ),
    (
        "short labels",
        set_field("label_ids", lambda s: s.label_ids[:-1]),
        r"^sample 1: label_ids: length \d+ does not match input_ids length \d+$",
    ),
    (
        "mixed labels",
        set_field("label_ids", None, sample=2),
        r"^sample 2: label_ids: is None while other samples in the batch have labels$",
    ),
    (
        "bool labels",
        set_field("label_ids", lambda s: s.label_ids.bool()),
        r"^sample 1: label_ids: expected dtype torch.int32 or torch.int64, got torch.bool$",
    ),
    (
        "float codes",
        set_field("audio_ids_concat", lambda s: s.audio_ids_concat.float()),
        r"^sample 1: audio_ids_concat: expected dtype torch.int32 or torch.int64, got torch.float32$",
    ),
    (
        "1-D codes",
        set_field("audio_ids_concat", lambda s: s.audio_ids_concat[0]),
        r"^sample 1: audio_ids_concat: expected a 2-D tensor, got shape \(\d+,\)$",
    ),
    (
        "missing segment",
        set_field("audio_ids_start", lambda s: s.audio_ids_start[:1]),
        r"^sample 1: audio_ids_start: 1 audio segments for 2 audio placeholder tokens \(1 audio-in, 1 audio-out\)$",
    ),
    (
        "extra segment",
        set_field("audio_ids_start", lambda s: torch.cat([s.audio_ids_start, s.audio_ids_start[-1:]])),
        r"^sample 1: audio_ids_start: 3 audio segments for 2 audio placeholder tokens",
    ),
    (
        "start past the end",
        set_field("audio_ids_start", lambda s: torch.tensor([0, 10**6])),
        r"^sample 1: audio_ids_start: entry 1 = 1000000 is outside \[0, \d+\]$",
    ),
    (
        "negative start",
        set_field("audio_ids_start", lambda s: torch.tensor([-1, 3])),
        r"^sample 1: audio_ids_start: entry 0 = -1 is outside \[0, \d+\]$",
    ),
    (
        "non-monotonic",
        set_field("audio_ids_start", lambda s: torch.tensor([5, 2])),
        r"^sample 1: audio_ids_start: decreases at entry 1 \(5 > 2\)$",
    ),
    (
        "float starts",
        set_field("audio_ids_start", lambda s: s.audio_ids_start.float()),
        r"^sample 1: audio_ids_start: expected dtype torch.int32 or torch.int64, got torch.float32$",
    ),
    (
        "codebook mismatch",
        set_field("audio_ids_concat", lambda s: s.audio_ids_concat[:4]),
        r"^sample 1: audio_ids_concat: 4 codebooks in an audio-in segment, but earlier ones in the batch have 8$",
    ),
    ("string reward", set_field("reward", "high"), r"^sample 1: reward: expected a real number or None, got str$"),
]


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("name,mutate,message", CASES, ids=[c[0] for c in CASES])
def test_bad_sample_is_named(backend, name, mutate, message):
    with pytest.raises(ValueError, match=message):
        collate(mutate(tts()), backend)


@pytest.mark.parametrize("backend", backends())
def test_empty_batch(backend):
    with pytest.raises(ValueError, match=r"^batch: is empty, nothing to collate$"):
        collate([], backend)


@pytest.mark.parametrize("backend", backends())
def test_disable_transform_needs_audio_labels(backend):
    with pytest.raises(
        ValueError,
        match=r"^sample 0: audio_label_ids_concat: is None, but "
        r"disable_audio_codes_transform=True with labels needs it$",
    ):
        collate(tts(), backend, disable_audio_codes_transform=True)


@pytest.mark.parametrize("backend", backends())
def test_audio_labels_shape_must_match(backend):
    batch = tts()
    for s in batch:
        s.audio_label_ids_concat = s.audio_ids_concat[:, :-1]
    with pytest.raises(
        ValueError,
        match=r"^sample 0: audio_label_ids_concat: shape \(8, \d+\) does not match "
        r"audio_ids_concat shape \(8, \d+\)$",
    ):
        collate(batch, backend, disable_audio_codes_transform=True)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(round_to=0), r"^round_to: expected an int >= 1, got 0$"),
        (dict(audio_num_codebooks=0), r"^audio_num_codebooks: expected None or an int >= 1, got 0$"),
        (dict(audio_out_token_id=KW["audio_in_token_id"]), r"^audio_in_token_id and audio_out_token_id must differ"),
        (dict(pad_token_id="pad"), r"^pad_token_id: expected an int, got 'pad'$"),
        (dict(backend="gpu"), r"^backend: expected one of \('auto', 'python', 'cpu', 'cuda'\), got 'gpu'$"),
    ],
)
def test_bad_options(kwargs, message):
    flags = {"whisper_processor": None, **KW, "encode_whisper_embed": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        fastcollate.HiggsAudioSampleCollator(**flags)


# The whisper path: where upstream crashes (IndexError) or silently drops feature rows.
@pytest.fixture(scope="module")
def whisper_processor():
    from transformers import WhisperFeatureExtractor

    return SimpleNamespace(feature_extractor=WhisperFeatureExtractor(feature_size=128))


def whisper_sample_batch(seconds=0.5, drop_audio_out=True):
    batch = tts(1)
    s = batch[0]
    if drop_audio_out:
        keep = s.input_ids != KW["audio_out_token_id"]
        s.input_ids, s.label_ids, s.audio_ids_start = s.input_ids[keep], s.label_ids[keep], s.audio_ids_start[:1]
    s.audio_waveforms_concat = torch.zeros(int(seconds * 16000))
    s.audio_waveforms_start = torch.tensor([0])
    s.audio_sample_rate = torch.tensor([16000])
    return batch


@pytest.mark.parametrize("backend", backends())
def test_whisper_empty_waveform(whisper_processor, backend):
    with pytest.raises(ValueError, match=r"^sample 0: audio_waveforms_concat: waveform 0 spans \[0, 0\) of 0 "):
        collate(
            whisper_sample_batch(seconds=0), backend, whisper_processor=whisper_processor, encode_whisper_embed=True
        )


@pytest.mark.parametrize("backend", backends())
def test_whisper_missing_waveform(whisper_processor, backend):
    batch = whisper_sample_batch()
    batch[0].audio_waveforms_start = torch.zeros(0, dtype=torch.long)
    with pytest.raises(ValueError, match=r"^sample 0: audio_waveforms_start: 0 waveforms for 1 audio-in tokens$"):
        collate(batch, backend, whisper_processor=whisper_processor, encode_whisper_embed=True)


@pytest.mark.parametrize("backend", backends())
def test_whisper_long_audio_with_audio_in_tokens(whisper_processor, backend):
    with pytest.raises(
        ValueError,
        match=r"^sample 0: audio_waveforms_concat: waveform 0 is longer than "
        r"chunk_size_seconds \(3 chunks\): return_audio_in_tokens=True cannot",
    ):
        collate(
            whisper_sample_batch(seconds=2.5),
            backend,
            whisper_processor=whisper_processor,
            encode_whisper_embed=True,
            chunk_size_seconds=1,
        )


@pytest.mark.parametrize("backend", backends())
def test_whisper_long_audio_before_audio_out(whisper_processor, backend):
    with pytest.raises(
        ValueError,
        match=r"^sample 0: audio_waveforms_concat: waveform 0 is longer than "
        r"chunk_size_seconds \(3 chunks\) and an audio-out token follows it",
    ):
        collate(
            whisper_sample_batch(seconds=2.5, drop_audio_out=False),
            backend,
            whisper_processor=whisper_processor,
            encode_whisper_embed=True,
            chunk_size_seconds=1,
            return_audio_in_tokens=False,
        )


@pytest.mark.parametrize("backend", backends())
def test_whisper_audio_out_before_audio_in(whisper_processor, backend):
    batch = whisper_sample_batch(drop_audio_out=False)
    s = batch[0]
    ids = s.input_ids.clone()
    p_in, p_out = int((ids == KW["audio_in_token_id"]).nonzero()), int((ids == KW["audio_out_token_id"]).nonzero())
    ids[p_in], ids[p_out] = KW["audio_out_token_id"], KW["audio_in_token_id"]
    s.input_ids = ids
    with pytest.raises(
        ValueError,
        match=rf"^sample 0: input_ids: audio-out token at position {p_in} precedes an "
        r"audio-in token",
    ):
        collate(batch, backend, whisper_processor=whisper_processor, encode_whisper_embed=True)


@pytest.mark.parametrize("backend", backends())
def test_whisper_long_audio_at_row_edge(whisper_processor, backend):
    batch = whisper_sample_batch(seconds=2.5)
    s = batch[0]
    p = int((s.input_ids == KW["audio_in_token_id"]).nonzero())
    s.input_ids, s.label_ids = s.input_ids[: p + 1], s.label_ids[: p + 1]
    with pytest.raises(
        ValueError,
        match=rf"^sample 0: input_ids: audio-in token at position {p} needs a "
        r"non-audio token on each side",
    ):
        collate(
            batch,
            backend,
            whisper_processor=whisper_processor,
            encode_whisper_embed=True,
            chunk_size_seconds=1,
            return_audio_in_tokens=False,
        )
