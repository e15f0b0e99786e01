"""Batches for the HTML report's tests: a voice-cloning chat (the reference voice in turn 2, before
start_index=3; the target speech in turn 4) in transformers' format, both label modes, and boson-multimodal's."""

import torch

from fastcollate import HiggsAudioSampleCollator, HiggsAudioV2Collator
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_tts_batch

SYSTEM = [128000, 128006, 9125, 128007, 271, 10, 11, 128009]
USER = [128006, 882, 128007, 271, 12, 13, 128009]
SPEECH = [128006, 78191, 128007, 271, 128013, 128016, 128012, 128009]
VOICE_CLONING = SYSTEM + USER + SPEECH + USER + SPEECH


def v2_features(correct: bool):
    g = torch.Generator().manual_seed(0)
    features = [
        {
            "input_ids": VOICE_CLONING,
            "audio_codes": [
                torch.randint(0, 1024, (8, 20 + i), generator=g),
                torch.randint(0, 1024, (8, 30 + 5 * i), generator=g),
            ],
        }
        for i in range(2)
    ]
    return [dict(f, start_index=3) for f in features] if correct else features


def v2_batch(correct: bool):
    mode = "correct" if correct else "processor"
    return HiggsAudioV2Collator(pad_token_id=128001, label_mode=mode)(v2_features(correct))


def boson_batch():
    return HiggsAudioSampleCollator(**higgs_collator_kwargs())(synthetic_tts_batch(2, audio_seconds=(1, 2)))
