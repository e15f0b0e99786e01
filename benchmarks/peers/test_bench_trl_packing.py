"""TRL 1.16's pack_dataset(strategy="bfd") vs fastcollate.plan_packs on the same lengths, in one run.

TRL packs a `datasets.Dataset` of token lists (it needs the lists themselves, not only their lengths): here 100,000
samples of the voice-cloning pool (fastcollate.synthetic.voice_cloning_lengths, 20-1,400 tokens each) into rows of
4,096 tokens. Both are timed on the same lengths; the rows each needs (fewer is a fuller packing) are recorded in
extra_info. Runs in its own venv: `bash benchmarks/peers/run_trl_packing.sh` (skipped in the main venv).
"""

import numpy as np
import pytest

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

from fastcollate import plan_packs  # noqa: E402
from fastcollate.synthetic import voice_cloning_lengths  # noqa: E402

GROUP = "packing-100k"
LENGTHS, _ = voice_cloning_lengths(100_000)
DATASET = datasets.Dataset.from_dict({"input_ids": [np.ones(n, dtype=np.int32) for n in LENGTHS]})


@pytest.mark.benchmark(group=GROUP)
def test_trl_pack_dataset_bfd(benchmark):
    packed = benchmark.pedantic(
        trl.data_utils.pack_dataset, args=(DATASET, 4096), kwargs={"strategy": "bfd"}, rounds=3, iterations=1
    )
    assert sum(len(row) for row in packed["input_ids"]) == LENGTHS.sum()
    benchmark.extra_info["rows"] = len(packed)


@pytest.mark.benchmark(group=GROUP)
def test_fastcollate_plan_packs(benchmark):
    packs = benchmark.pedantic(plan_packs, args=(LENGTHS, 4096), rounds=3, iterations=1)
    assert sorted(i for p in packs for i in p) == list(range(len(LENGTHS)))
    benchmark.extra_info["rows"] = len(packs)
