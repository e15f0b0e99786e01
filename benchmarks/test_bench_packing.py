"""Packing: the planner's speed on a million lengths, and the padding packed batches leave on a voice-cloning
pool (fastcollate.synthetic.voice_cloning_lengths: 16,000 samples) against random padded batches of 16.

The padding fractions are exact counts over the pool, recorded in each benchmark's extra_info (the table of
`pytest benchmarks/test_bench_packing.py --benchmark-enable -s` prints them).
Run: pytest benchmarks --benchmark-enable (README.md "Benchmarks").
"""

import numpy as np
import pytest

from fastcollate import PackingSampler, plan_packs
from fastcollate.packing.report import padding_of
from fastcollate.synthetic import voice_cloning_lengths

POOL = 16_000


def test_plan_a_million_lengths(benchmark):
    lengths = np.random.default_rng(0).integers(20, 4096, 10**6)
    packs = benchmark.pedantic(plan_packs, args=(lengths, 4096), rounds=3, iterations=1)
    benchmark.extra_info["fill"] = float(lengths.sum() / (len(packs) * 4096))


def test_plan_a_million_lengths_with_trl(benchmark):
    """TRL's pack_dataset(strategy="bfd") on the same lengths (TRL installed only): its rows and fill."""
    trl = pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    lengths = np.random.default_rng(0).integers(20, 4096, 10**5)
    dataset = datasets.Dataset.from_dict({"input_ids": [[1] * int(n) for n in lengths]})
    packed = benchmark.pedantic(
        trl.pack_dataset, args=(dataset, 4096), kwargs={"strategy": "bfd"}, rounds=1, iterations=1
    )
    benchmark.extra_info["fill"] = float(lengths.sum() / (len(packed) * 4096))


def test_padding_of_random_batches_of_16(benchmark):
    tokens, audio = voice_cloning_lengths(POOL)
    order = np.random.default_rng(0).permutation(POOL)
    batches = [[[i] for i in order[b : b + 16]] for b in range(0, POOL, 16)]
    text, frames = benchmark.pedantic(padding_of, args=(batches, tokens, audio), rounds=1, iterations=1)
    benchmark.extra_info.update(text_padding=float(text), audio_padding=float(frames))
    print(f"\nrandom batches of 16: {text:.1%} padding in (B, T), {frames:.1%} in audio")


@pytest.mark.parametrize("rows_per_batch", [1, 4, 16])
def test_padding_of_packed_rows(benchmark, rows_per_batch):
    tokens, audio = voice_cloning_lengths(POOL)
    sampler = PackingSampler(tokens, 4096, audio_lengths=audio, max_audio_frames=4096, rows_per_batch=rows_per_batch)
    text, frames = benchmark.pedantic(padding_of, args=(sampler.batch_rows(), tokens, audio), rounds=1, iterations=1)
    fill = tokens.sum() / (len(sampler.packs) * 4096)  # rows padded to max_tokens
    benchmark.extra_info.update(text_padding=float(text), audio_padding=float(frames), row_fill=float(fill))
    print(
        f"\npacked, {rows_per_batch} row(s) per batch: {text:.1%} padding in (B, T) ({1 - fill:.1%} of 4,096-token "
        f"rows), {frames:.1%} in audio"
    )
