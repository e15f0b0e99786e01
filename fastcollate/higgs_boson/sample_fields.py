"""Reading one Higgs sample's fields, from a ChatMLDatasetSample-like object or a Mapping of the same fields.

A Hugging Face `datasets.Dataset` yields dicts; upstream's pipeline yields `ChatMLDatasetSample` objects. Both
give bit-identical batches. A field is only read when the collation needs it (text-only samples need no audio
fields); a needed field that is absent is a ValueError naming the sample and the field, raised where the
field is read. A Mapping key that is no sample field is an error too, unless named in `ignore_keys`: nothing
the user gave is silently ignored. csrc/python/bind_higgs_boson.cpp reads samples by the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

from ..common.checks import Missing

# Upstream's ChatMLDatasetSample fields, then fastcollate's own start_index.
SAMPLE_FIELDS = (
    "input_ids",
    "label_ids",
    "audio_ids_concat",
    "audio_ids_start",
    "audio_waveforms_concat",
    "audio_waveforms_start",
    "audio_sample_rate",
    "audio_speaker_indices",
    "audio_label_ids_concat",
    "reward",
    "start_index",
)
# None is their meaning when absent (upstream's dataclass defaults them, or None is a valid value).
OPTIONAL_FIELDS = frozenset({"label_ids", "audio_label_ids_concat", "reward", "start_index"})


UNKNOWN_KEY_PROBLEM = (
    f"is not a ChatMLDatasetSample field ({', '.join(SAMPLE_FIELDS)}); drop it from the "
    "samples (e.g. dataset.remove_columns) or list it in ignore_keys to skip it"
)


def read_sample(i: int, sample, ignore_keys: frozenset = frozenset()) -> SimpleNamespace:
    """Every field of sample `i` by name; Missing(...) for an absent required one.

    Sample-level problems (a key that is no field; no input_ids at all, e.g. None or an int in the batch)
    raise here, before any field of the batch is checked.
    """
    if isinstance(sample, Mapping):
        for key in sample:
            if key not in SAMPLE_FIELDS and key not in ignore_keys:
                raise ValueError(f"sample {i}: {key}: {UNKNOWN_KEY_PROBLEM}")
        absent = Missing("missing: the sample (a Mapping) has no such key")
        fields = SimpleNamespace(**{f: sample.get(f, None if f in OPTIONAL_FIELDS else absent) for f in SAMPLE_FIELDS})
    else:
        absent = Missing(f"missing: the sample (a {type(sample).__name__}) has no such attribute")
        fields = SimpleNamespace(
            **{f: getattr(sample, f, None if f in OPTIONAL_FIELDS else absent) for f in SAMPLE_FIELDS}
        )
    if fields.input_ids is absent:  # not a sample at all: say so before its neighbours' fields are read
        raise ValueError(f"sample {i}: input_ids: {absent.problem}")
    return fields
