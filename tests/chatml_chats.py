"""Multi-turn chats labeled by boson-multimodal's real prepare_chatml_sample, for the start_index tests.

prepare_chatml_sample runs with a tiny offline stand-in tokenizer (special tokens by their released ids, words
by a fixed table), on seeded random chats: system/user/assistant turns, consecutive assistant turns
(<|eom_id|> between them), audio placeholders, and start_index.
"""

from __future__ import annotations

import random
import re

import pytest
import torch

from fastcollate import ChatMLDatasetSample
from fastcollate.synthetic import LLAMA3_IDS

chatml_dataset = pytest.importorskip("boson_multimodal.dataset.chatml_dataset")
from boson_multimodal.data_types import AudioContent, ChatMLSample, Message  # noqa: E402

t = LLAMA3_IDS
SPECIAL = {
    "<|begin_of_text|>": t.begin_of_text,
    "<|start_header_id|>": t.start_header,
    "<|end_header_id|>": t.end_header,
    "<|eot_id|>": t.eot,
    "<|eom_id|>": t.eom,
    "<|audio_bos|>": t.audio_bos,
    "<|AUDIO|>": t.audio_in,
    "<|audio_eos|>": t.audio_eos,
    "<|audio_out_bos|>": t.audio_out_bos,
    "<|AUDIO_OUT|>": t.audio_out,
    "<|recipient|>": 128020,
}
WORDS = {"\n\n": t.double_newline, "system": t.system, "user": t.user, "assistant": t.assistant}


class StandInTokenizer:
    """encode(text, add_special_tokens=False): special tokens, the header words, else one id per word."""

    def encode(self, text, add_special_tokens=False):
        ids = []
        for piece in re.split(r"(<\|[A-Za-z_]+\|>)", text):
            if piece in SPECIAL:
                ids.append(SPECIAL[piece])
            elif piece in WORDS:
                ids.append(WORDS[piece])
            else:
                ids += [1000 + int(w[1:]) for w in piece.split()]  # words are "w<number>"
        return ids


def random_chat(rng: random.Random, start_choices=None) -> ChatMLSample:
    messages = [Message("system", " ".join(f"w{rng.randrange(5000)}" for _ in range(rng.randrange(1, 6))))]
    for _ in range(rng.randrange(1, 5)):
        messages.append(Message("user", " ".join(f"w{rng.randrange(5000)}" for _ in range(rng.randrange(1, 8)))))
        if rng.random() < 0.3:
            messages[-1].content = [messages[-1].content, AudioContent(audio_url="x.wav")]
        for _ in range(rng.choice([1, 1, 2, 3])):  # consecutive assistant turns end with <|eom_id|>
            text = " ".join(f"w{rng.randrange(5000)}" for _ in range(rng.randrange(0, 8)))
            content = [text, AudioContent(audio_url="y.wav")] if rng.random() < 0.3 else text
            messages.append(Message("assistant", content))
    choices = start_choices or [None, 0, 1, 2, 3, len(messages) - 1, len(messages)]
    return ChatMLSample(messages=messages, start_index=rng.choice(choices))


def prepared(chat: ChatMLSample):
    """(input_ids, labels) lists, as prepare_chatml_sample computes them with the chat's start_index."""
    ids, labels, _, _ = chatml_dataset.prepare_chatml_sample(chat, StandInTokenizer())
    return list(ids), list(labels)


def higgs_sample(
    chat: ChatMLSample, rng: random.Random, *, labels: bool, start_index: bool, num_codebooks: int = 8
) -> ChatMLDatasetSample:
    """A Higgs sample of the chat: random codes for each audio placeholder; label_ids from prepare_chatml_sample
    (labels=True) and/or the chat's start_index (start_index=True)."""
    ids, given = prepared(chat)
    n_audio = sum(v in (t.audio_in, t.audio_out) for v in ids)
    lengths = [rng.randint(1, 6) for _ in range(n_audio)]
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    return ChatMLDatasetSample(
        input_ids=torch.tensor(ids),
        label_ids=torch.tensor(given) if labels else None,
        audio_ids_concat=torch.randint(0, 1024, (num_codebooks, sum(lengths)), generator=g),
        audio_ids_start=torch.tensor([0] + lengths[:-1], dtype=torch.long).cumsum(0)[:n_audio],
        audio_waveforms_concat=torch.zeros(0),
        audio_waveforms_start=torch.zeros(0, dtype=torch.long),
        audio_sample_rate=torch.zeros(0),
        audio_speaker_indices=torch.zeros(0, dtype=torch.long),
        start_index=chat.start_index if start_index else None,
    )
