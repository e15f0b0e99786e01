"""The HiggsAudioV2Collator benchmark batch: 16 voice-cloning samples in transformers' Higgs Audio v2 chat
format, 2 clips each (the reference voice, then the target speech), K = 8 codebooks, L about 250 frames
(10 s at 25 frames/s), text of 20-80 words per turn. Word ids are those of the offline stand-in tokenizer
(tests/higgs_hf/transformers/hf_reference.py), so the processor can be given the same batch as text."""

from __future__ import annotations

import random

import torch

AUDIO, AUDIO_BOS, AUDIO_EOS, PAD = 128016, 128013, 128012, 128001
HEADER = {
    "system": [128006, 9125, 128007, 271],
    "user": [128006, 882, 128007, 271],
    "assistant": [128006, 78191, 128007, 271],
}
WORD_IDS = (5, 6, 7)
SAMPLES, CLIPS, CODEBOOKS = 16, 2, 8


def features(seed: int = 0):
    """[{"input_ids": int64 tensor, "audio_codes": [(8, L) int64 tensors]}] with 16 samples."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(SAMPLES):

        def words():
            return [rng.choice(WORD_IDS) for _ in range(rng.randint(20, 80))]

        clip = [AUDIO_BOS, AUDIO, AUDIO_EOS, 128009]
        ids = (
            [128000]
            + HEADER["system"]
            + words()
            + [128009]
            + HEADER["user"]
            + words()
            + [128009]
            + HEADER["assistant"]
            + clip
            + HEADER["user"]
            + words()
            + [128009]
            + HEADER["assistant"]
            + clip
        )
        codes = [torch.randint(0, 1024, (CODEBOOKS, rng.randint(200, 300)), generator=g) for _ in range(CLIPS)]
        out.append({"input_ids": torch.tensor(ids), "audio_codes": codes})
    return out


def as_text(ids, vocab: dict) -> str:
    """The text a tokenizer with `vocab` (token -> id) turns back into `ids`, less the <|begin_of_text|> its
    post-processor adds."""
    names = {v: k for k, v in vocab.items()}
    return " ".join(names[int(t)] for t in ids[1:])
