"""`python -m fastcollate demo`: collate a realistic synthetic Higgs Audio batch with the compiled path and the
pure-Python fallback, check they are bit-identical, show what each sample learns, and time both.

When the compiled extension is not available it says so plainly and shows the fallback alone: comparing the
fallback with itself would prove nothing.
"""

from __future__ import annotations

import time

import torch

from .diagnostics.label_stats import label_stats
from .higgs_boson.collator import HiggsAudioSampleCollator
from .runtime.backend import backend_info
from .synthetic import LLAMA3_IDS, higgs_collator_kwargs, synthetic_tts_batch

NO_TRAIN_SAMPLE = 1


def median_seconds(fn, min_rounds: int = 20, min_seconds: float = 0.5) -> tuple:
    """(median seconds, rounds), timed as pytest-benchmark does: warm up, then enough rounds to be stable."""
    for _ in range(3):
        fn()
    times = []
    begin = time.perf_counter()
    while len(times) < min_rounds or time.perf_counter() - begin < min_seconds:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2], len(times)


def _first_difference(a, b):
    for name in vars(b):
        x, y = getattr(a, name), getattr(b, name)
        if (x is None) != (y is None) or (x is not None and (x.dtype != y.dtype or not torch.equal(x, y))):
            return name
    return None


def run_demo(batch_size: int = 16, seed: int = 0) -> int:
    torch.set_num_threads(1)
    batch = synthetic_tts_batch(batch_size, seed=seed)
    marked = NO_TRAIN_SAMPLE if batch_size > NO_TRAIN_SAMPLE else None
    if marked is not None:  # a reference voice a dataset does not want learned: its <|AUDIO_OUT|> label is -100
        s = batch[marked]
        s.label_ids = s.label_ids.clone()
        s.label_ids[s.input_ids == LLAMA3_IDS.audio_out] = -100
    info = backend_info()
    print(f"batch: {batch_size} synthetic TTS samples, 8 codebooks, delay pattern, audio 2-30 s at 25 frames/s\n")

    fallback = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="python")
    want = fallback(batch)
    compiled = None
    if info["compiled"]:
        compiled = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cpu")
        differs = _first_difference(compiled(batch), want)
        print(
            "compiled C++ path vs pure-Python fallback: "
            + ("bit-identical on every field" if differs is None else f"DIFFER on {differs}")
        )
    else:
        differs = None
        print("compiled C++ path: NOT AVAILABLE, so nothing is compared; showing the pure-Python fallback alone.")
        print(f"  reason: {info['import_error']}")

    print()
    print(label_stats(want, audio_out_token_id=LLAMA3_IDS.audio_out))
    if marked is not None:
        print(
            f"sample {marked} learns no audio: this demo set the label of its <|AUDIO_OUT|> token to -100 (a "
            "no-train clip, e.g. a reference voice), so every audio label of that segment is -100, as upstream."
        )

    t_fallback, rounds_fallback = median_seconds(lambda: fallback(batch), min_rounds=5)
    print()
    if compiled is None:
        print(
            f"pure-Python fallback: {t_fallback * 1e3:.2f} ms per batch (median of {rounds_fallback} rounds, "
            "single thread); build the extension (pip install -e .) for the compiled path"
        )
        return 0
    t_compiled, rounds_compiled = median_seconds(lambda: compiled(batch))
    print(
        f"fallback {t_fallback * 1e3:.2f} ms (median of {rounds_fallback} rounds), compiled "
        f"{t_compiled * 1e3:.3f} ms (median of {rounds_compiled} rounds) per batch: "
        f"{t_fallback / t_compiled:.0f}x faster, single thread"
    )
    return 0 if differs is None else 1
