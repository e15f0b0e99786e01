"""How much a training loop that keeps one output of every batch grows the process (RSS), per collator.

Run: python benchmarks/kept_outputs.py [batches] [backend]   (default 300 batches, backend "cpu")

Each case runs in a fresh process: a collator, five warm-up batches, then `batches` batches of which one
output is kept (the rest of the batch dropped), and the growth of the resident set across them. Batches:
ChatCollator 32 x 2048 (tests' synthetic chats), HiggsAudioV2Collator 16 samples x 2 clips of about 10 s
(benchmarks/higgs_hf_batch.py), HiggsAudioSampleCollator the TTS batch of 16 (test_bench_higgs.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {
    "ChatCollator": ("chat", ["num_learned", "attention_mask"]),
    "ChatCollator(packed=True)": ("chat_packed", ["cu_seq_lens_q", "position_ids"]),
    "HiggsAudioV2Collator": ("higgs_hf", ["attention_mask", "audio_input_ids_mask"]),
    "HiggsAudioSampleCollator": ("higgs", ["attention_mask", "audio_out_ids_start"]),
}


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make(kind: str, backend: str):
    """A function returning one batch as a dict of tensors."""
    import fastcollate
    from fastcollate.synthetic import LLAMA3_IDS, higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

    if kind in ("chat", "chat_packed"):
        rows = [s.input_ids for s in synthetic_text_batch(32, 2048, seed=0)]
        collator = fastcollate.ChatCollator(
            fastcollate.presets.llama3(),
            LLAMA3_IDS.pad,
            packed=kind == "chat_packed",
            return_num_learned=True,
            backend=backend,
        )
        return lambda: collator(rows)
    if kind == "higgs_hf":
        sys.path.insert(0, str(HERE))
        from higgs_hf_batch import PAD, features

        batch = features(0)
        collator = fastcollate.HiggsAudioV2Collator(PAD, label_mode="processor", backend=backend)  # as measured
        return lambda: collator(batch)
    samples = synthetic_tts_batch(16, seed=16)
    collator = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend=backend)
    return lambda: vars(collator(samples))


def measure(kind: str, key: str, batches: int, backend: str) -> None:
    collate = make(kind, backend)
    for _ in range(5):
        collate()
    before = rss()
    kept = [collate()[key] for _ in range(batches)]
    grown = rss() - before
    own = sum(t.numel() * t.element_size() for t in kept)
    print(f"{grown / 1e6:.1f} {own / 1e6:.2f}")


def main() -> None:
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    backend = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    print(f"| collator | output kept from each of {batches} batches | RSS growth | the kept outputs' bytes |")
    print("|---|---|---|---|")
    for name, (kind, keys) in CASES.items():
        for key in keys:
            code = f"import kept_outputs; kept_outputs.measure({kind!r}, {key!r}, {batches}, {backend!r})"
            out = subprocess.run(
                [sys.executable, "-c", code], cwd=HERE, check=True, capture_output=True, text=True
            ).stdout.split()
            print(f"| {name} | `{key}` | {out[0]} MB | {out[1]} MB |")


if __name__ == "__main__":
    main()
