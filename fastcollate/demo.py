"""`python -m fastcollate demo`: collate a realistic synthetic Higgs Audio batch with both backends, check they
are bit-identical, show what each sample learns, and time them."""

from __future__ import annotations

import time

import torch

from ._backend import backend_info
from .higgs.collator import HiggsAudioSampleCollator
from .diagnostics.label_stats import label_stats
from .synthetic import LLAMA3_IDS, higgs_collator_kwargs, synthetic_tts_batch


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def _fields_equal(a, b):
    for name in vars(b):
        x, y = getattr(a, name), getattr(b, name)
        if (x is None) != (y is None) or (x is not None and (x.dtype != y.dtype or not torch.equal(x, y))):
            return name
    return None


def run_demo(batch_size: int = 16, seed: int = 0, repeats: int = 20) -> int:
    torch.set_num_threads(1)
    batch = synthetic_tts_batch(batch_size, seed=seed)
    batch[1].label_ids = batch[1].label_ids.clone()
    batch[1].label_ids[batch[1].input_ids == LLAMA3_IDS.audio_out] = -100  # one sample marked "no-train" audio
    info = backend_info()
    print(f"fastcollate backends: compiled={info['compiled']} auto={info['auto']}")
    print(f"batch: {batch_size} synthetic TTS samples, 8 codebooks, delay pattern, audio 2-30 s at 25 frames/s\n")

    reference = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="python")
    want = reference(batch)
    compiled = HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="auto")
    got = compiled(batch)
    differs = _fields_equal(got, want)
    print(f"compiled ({compiled.backend}) vs pure-Python fallback: "
          + ("bit-identical on every field" if differs is None else f"DIFFER on {differs}"))

    stats = label_stats(want, audio_out_token_id=LLAMA3_IDS.audio_out)
    print()
    print(stats)

    t_ref = _median_seconds(lambda: reference(batch), max(3, repeats // 4))
    t_fast = _median_seconds(lambda: compiled(batch), repeats)
    print(f"\nfallback {t_ref * 1e3:.2f} ms, {compiled.backend} {t_fast * 1e3:.3f} ms per batch: "
          f"{t_ref / t_fast:.0f}x faster (median, single thread)")
    return 0 if differs is None else 1
