"""Coverage-guided fuzzing of both collators with atheris (libFuzzer for Python), beside the hypothesis
fuzzers of tests/fuzz/test_fuzz_native.py: every input byte string becomes a batch, and the compiled path must give
the fallback's result or raise the same exception with the same message.

    pip install atheris==3.0.0
    python tests/fuzz/atheris_collators.py -runs=100000        # libFuzzer flags; a mismatch or crash stops it

Not collected by pytest (its own main); README "Malformed input" gives the runs made.
"""

import sys

import atheris
import numpy as np
import torch

from fastcollate import ChatCollator, HiggsAudioSampleCollator, presets
from fastcollate.synthetic import higgs_collator_kwargs

SPECIAL = [128000, 128006, 128007, 271, 78191, 882, 9125, 128009, 128008, 128015, 128016, -100, 0]


def outcome(fn):
    try:
        return fn()
    except (ValueError, TypeError) as e:
        return ("rejected", type(e), str(e))


def same(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple):
        return a == b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a
        )
    return all(
        (x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
        for x, y in zip(vars(a).values(), vars(b).values())
    )


def an_id(fdp):
    return SPECIAL[fdp.ConsumeIntInRange(0, len(SPECIAL) - 1)] if fdp.ConsumeBool() else fdp.ConsumeInt(9)


def a_row(fdp):
    ids = [an_id(fdp) for _ in range(fdp.ConsumeIntInRange(0, 40))]
    form = fdp.ConsumeIntInRange(0, 5)
    if form == 1:
        return torch.tensor([v for v in ids if -(2**63) <= v < 2**63], dtype=torch.int64)
    if form == 2:
        return np.array([v for v in ids if -(2**31) <= v < 2**31], dtype=">i4")
    if form == 3:
        return tuple(ids)
    if form == 4:
        return ids + [fdp.ConsumeFloat()]
    return ids


def fuzz_chat(fdp):
    features = []
    for _ in range(fdp.ConsumeIntInRange(0, 4)):
        f = {"input_ids": a_row(fdp)}
        if fdp.ConsumeBool():
            f["start_index"] = fdp.ConsumeIntInRange(-3, 6) if fdp.ConsumeBool() else fdp.ConsumeInt(9)
        features.append(f)
    packed = fdp.ConsumeBool()
    spec = [
        presets.llama3(),
        presets.llama3(turns="last"),
        presets.completion_only([128006, 78191, 128007, 271], [128006, 882, 128007, 271]),
    ][fdp.ConsumeIntInRange(0, 2)]
    results = [
        outcome(
            lambda b=b: ChatCollator(spec, 128001, packed=packed, on_empty="keep", backend=b, return_num_learned=True)(
                features
            )
        )
        for b in ("python", "cpu")
    ]
    assert same(*results), (features, results)


def fuzz_higgs(fdp):
    samples = []
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        ids = a_row(fdp)
        k, width = fdp.ConsumeIntInRange(0, 3), fdp.ConsumeIntInRange(0, 6)
        codes = [[fdp.ConsumeIntInRange(0, 1100) for _ in range(width)] for _ in range(k)]
        starts = [fdp.ConsumeIntInRange(-1, width + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
        sample = {"input_ids": ids, "audio_ids_concat": codes, "audio_ids_start": starts}
        if fdp.ConsumeBool():
            sample["label_ids"] = a_row(fdp)
        samples.append(sample)
    delay = fdp.ConsumeBool()
    results = [
        outcome(
            lambda b=b: HiggsAudioSampleCollator(
                **higgs_collator_kwargs(use_delay_pattern=delay), on_empty="keep", backend=b
            )(samples)
        )
        for b in ("python", "cpu")
    ]
    assert same(*results), (samples, results)


def one_input(data):
    fdp = atheris.FuzzedDataProvider(data)
    (fuzz_chat if fdp.ConsumeBool() else fuzz_higgs)(fdp)


if __name__ == "__main__":
    torch.set_num_threads(1)
    atheris.instrument_all()  # coverage of every loaded Python module, fastcollate's included
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
