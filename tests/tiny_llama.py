"""A tiny randomly initialised Llama (no download) with Llama-3's vocabulary, for tests that run a real model."""

import pytest
import torch

transformers = pytest.importorskip("transformers")


def tiny_llama(attn_implementation=None, seed: int = 0):
    """attn_implementation None: transformers' default (sdpa)."""
    config = transformers.LlamaConfig(
        vocab_size=128256,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        attn_implementation=attn_implementation,
    )
    torch.manual_seed(seed)
    return transformers.LlamaForCausalLM(config)
