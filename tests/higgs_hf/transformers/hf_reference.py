"""transformers' HiggsAudioV2Processor built offline, around a stand-in codec, as the reference of
HiggsAudioV2Collator (runs in the venv of tests/higgs_hf/transformers/setup_venv.sh).

The processor reaches its codec only through `audio_tokenizer.encode(**features).audio_codes` ((1, K, L)) and
`audio_tokenizer.config.num_quantizers`, so a DacModel subclass that builds no weights and returns chosen
codes stands in for it (ProcessorMixin accepts the subclass). The tokenizer is a `tokenizers` WordLevel model
built in code, with Llama-3's special tokens at their real ids and a <|begin_of_text|> post-processor as the
real tokenizer adds; `ĊĊ` stands for Llama-3's "\\n\\n" token (271).
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
if not hasattr(transformers, "HiggsAudioV2Processor"):
    pytest.skip(
        "transformers has no Higgs Audio v2 (5.x needed: bash tests/higgs_hf/transformers/setup_venv.sh)",
        allow_module_level=True,
    )
import tokenizers  # noqa: E402
from transformers import (  # noqa: E402
    DacFeatureExtractor,
    DacModel,
    HiggsAudioV2Config,
    HiggsAudioV2ForConditionalGeneration,
    HiggsAudioV2Processor,
    PreTrainedTokenizerFast,
)

SPECIAL = {
    "<|begin_of_text|>": 128000,
    "<|end_of_text|>": 128001,
    "<|start_header_id|>": 128006,
    "<|end_header_id|>": 128007,
    "<|eom_id|>": 128008,
    "<|eot_id|>": 128009,
    "<|audio_eos|>": 128012,
    "<|audio_out_bos|>": 128013,
    "<|reserved_special_token_6|>": 128014,
    "<|AUDIO_OUT|>": 128016,
}
WORDS = {"[UNK]": 0, "hello": 5, "world": 6, "again": 7, "ĊĊ": 271, "system": 9125, "user": 882, "assistant": 78191}


class StandInCodec(DacModel):
    """Returns the next chosen (K, L) codes as (1, K, L) audio_codes; no weights, no audio processing."""

    def __init__(self, codebooks: int):
        torch.nn.Module.__init__(self)  # skips DacModel's weights
        self.config = SimpleNamespace(num_quantizers=codebooks)
        self.queue = []

    @property
    def device(self):
        return torch.device("cpu")

    def encode(self, input_values=None, **kwargs):
        return SimpleNamespace(audio_codes=self.queue.pop(0)[None])


def llama3_tokenizer() -> PreTrainedTokenizerFast:
    model = tokenizers.Tokenizer(tokenizers.models.WordLevel({**WORDS, **SPECIAL}, unk_token="[UNK]"))
    model.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    model.post_processor = tokenizers.processors.TemplateProcessing(
        single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", SPECIAL["<|begin_of_text|>"])]
    )
    others = [t for t in SPECIAL if t not in ("<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>")]
    return PreTrainedTokenizerFast(
        tokenizer_object=model,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>",
        additional_special_tokens=others,
    )


def processor(codebooks: int) -> HiggsAudioV2Processor:
    features = DacFeatureExtractor(
        feature_size=1,
        hop_length=1,
        padding_side="right",
        padding_value=0.0,
        sampling_rate=24000,
        return_attention_mask=True,
    )
    return HiggsAudioV2Processor(
        feature_extractor=features, tokenizer=llama3_tokenizer(), audio_tokenizer=StandInCodec(codebooks)
    )


def run_processor(proc: HiggsAudioV2Processor, texts, clips, **kwargs):
    """proc(texts, audio, output_labels=True) with `clips` as the codec's output, in order. The texts are
    copied first: the processor rewrites the list it is given."""
    proc.audio_tokenizer.queue = [c.clone() for c in clips]
    audio = [np.zeros(8, dtype=np.float32) for _ in clips] or None
    return proc(list(texts), audio, output_labels=True, return_tensors="pt", **kwargs)


def chat_text(rng: random.Random, n_clips: int) -> str:
    """A Llama-3 chat as text, the clips as <|audio_out_bos|><|AUDIO_OUT|><|audio_eos|> in random turns."""
    n_turns = rng.randint(1, 4)
    slots = [rng.randrange(n_turns) for _ in range(n_clips)]
    parts = []
    for turn in range(n_turns):
        role = rng.choice(["system", "user", "assistant"]) if turn < n_turns - 1 else "assistant"
        parts.append(f"<|start_header_id|>{role}<|end_header_id|> ĊĊ")
        parts += [rng.choice(["hello", "world", "again", "<|end_of_text|>"]) for _ in range(rng.randint(0, 5))]
        parts += ["<|audio_out_bos|><|AUDIO_OUT|><|audio_eos|>"] * slots.count(turn)
        parts.append("<|eot_id|>")
    return " ".join(parts)


def random_case(seed: int, *, samples=None, codebooks=None, max_clips=4, max_len=400, min_clips=1):
    """(texts, clips in text order, K): every text has min_clips..max_clips placeholders."""
    rng = random.Random(seed)
    k = codebooks or rng.randint(1, 12)
    g = torch.Generator().manual_seed(seed)
    texts, clips = [], []
    for _ in range(samples or rng.randint(1, 8)):
        n = rng.randint(min_clips, max_clips)
        texts.append(chat_text(rng, n))
        clips += [torch.randint(0, 1024, (k, rng.randint(1, max_len)), generator=g) for _ in range(n)]
    return texts, clips, k


def features_of(texts, clips, tokenizer, audio_token="<|AUDIO_OUT|>"):
    """The collator's features for the same batch: each text's ids as tokenized (one audio token per clip)
    and its clips."""
    out, it = [], iter(clips)
    for text in texts:
        n = text.count(audio_token)
        out.append({"input_ids": tokenizer(text)["input_ids"], "audio_codes": [next(it) for _ in range(n)]})
    return out


def tiny_model(codebooks: int, codebook_size=1026, **config):
    """A tiny randomly initialised HiggsAudioV2ForConditionalGeneration (seeded), with a text head; `config`
    adds or overrides config fields (e.g. attn_implementation, num_hidden_layers)."""
    torch.manual_seed(0)
    config = HiggsAudioV2Config(
        **{
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": 16,
            "num_codebooks": codebooks,
            "codebook_size": codebook_size,
            **config,
        }
    )
    return HiggsAudioV2ForConditionalGeneration(config, use_text_head=True)
