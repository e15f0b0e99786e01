"""`HiggsAudioV2Collator`: training batches for transformers' HiggsAudioV2ForConditionalGeneration."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Optional

import torch

from ..common.checks import stored_items
from ..common.empty_policy import handle_empty
from ..rolespan.packed import block_causal_mask, check_block_mask_dtype
from ..rolespan.reference import empty_reason
from ..rolespan.spec import RoleSpanSpec
from ..runtime.backend import resolve_backend
from .config import CODEBOOK_SIZE, HIGGS_HF_IDS, NUM_CODEBOOKS, HiggsHfConfig, make_config
from .features import check_feature, read_feature
from .native import collate_native, learned_counts, native_options
from .reference import collate_reference


def _all_learn(learned) -> bool:
    """Every feature learns something: the compiled path says so with a count of those that do not (0: all
    do, no tensor op); the twin gives the per-feature counts."""
    return learned == 0 if isinstance(learned, int) else bool(learned.all())


class HiggsAudioV2Collator:
    """Collates pre-computed audio codes and token ids into the batch `HiggsAudioV2ForConditionalGeneration`
    trains on: what `HiggsAudioV2Processor(text, audio, output_labels=True)` returns, without running the codec.

    Features: Mappings (a `datasets.Dataset`'s rows) or objects with

      * `input_ids`: 1-D token ids (tensor, numpy array or list) in which each clip is ONE audio token
        (`<|AUDIO_OUT|>`, `audio_token_id`), e.g. `tokenizer(text)["input_ids"]` of the processor's text;
      * `audio_codes`: one `(K, L)` integer array per audio token, in order (the codec's `audio_codes[0]`):
        K = `num_codebooks` codebooks (8 by default, the released model's) by L frames, every code in
        `[0, codebook_size)` (1024 by default; the stream BOS/EOS ids are the collator's to add); empty or absent
        for a text-only feature. A clip of another K (a transposed `(L, K)` clip is named as such) or holding a
        code outside that range is a ValueError naming the sample, the clip and the first bad frame;
      * `start_index` (label_mode "correct" only): turns before it are context, as in `RoleSpanSpec`;
      * `audio_no_train` (label_mode "correct" only): one bool per clip, True = not learned (e.g. a voice
        reference that sits in a learned turn).

    A key the collator does not read is a ValueError unless named in `ignore_keys`.

    Returns a dict with the processor's keys, dtypes and shapes: `input_ids`, `attention_mask` (int64, (B, W)),
    `audio_input_ids` (int64, (B, T_audio, K)), `audio_input_ids_mask` (bool, (B, T_audio)), `labels` (int64,
    (B, W)) and `audio_labels` (int64, (B, T_audio, K)); the audio keys are absent when no feature of the batch
    has a clip (as the processor does). Every output is a fresh tensor; the features are never modified.

    label_mode:

      * "correct" (default, for training): text labels from `label_spec` (default `presets.llama3()`: assistant turns only, headers
        masked, start_index honoured) with every placeholder masked; audio labels learn each clip's codes AND
        its stream EOS (the frame generation stops on); a clip whose placeholder the spec does not learn, or
        flagged in `audio_no_train`, is no-train (all -100);
      * "processor": the processor's labels, bit for bit, to reproduce `HiggsAudioV2Processor` (the
        documentation's Higgs Audio v2 page shows what they train that "correct" does not: the prompt, the
        voice references, and never the stream EOS).

    packed=True: every feature of a call in ONE row (batch dimension 1), nothing padded, for a
    `PackingSampler`'s packs: `input_ids` and `labels` (int64, (1, T)) are the padded batch's rows without their
    padding, back to back; `position_ids` (int64, (1, T)) restart at 0 per feature; `cu_seq_lens_q` and
    `cu_seq_lens_k` (int32, (B + 1,)) and `max_length_q` and `max_length_k` (int) are the flash-attention varlen
    keys; `audio_input_ids` and `audio_labels` (int64, (1, T_audio, K)) hold every clip in feature order, each
    exactly its frames of the padded batch (its own stream BOS/EOS and delay pattern), `audio_input_ids_mask`
    (bool, (1, T_audio)) all True. There is NO `attention_mask`: a 2-D mask on a packed row makes transformers
    read it as one sequence. The FIRST text label of every feature is -100 in both label modes (the shifted
    loss would otherwise train one feature's last token on the next feature's first label): a deviation from
    the processor's labels. With `block_mask_dtype` (a floating dtype, e.g. torch.float32 or the dtype attention
    runs in), `attention_mask` is the float (1, 1, T, T) additive block-causal mask for eager and sdpa
    attention; without it the model must keep the features apart from `position_ids` (transformers 5 does
    when no mask is given). padding_side does not apply; pad_to_multiple_of is refused.

    num_codebooks: K of every clip (8, the released model's; `from_processor` reads the codec's). None: whatever
    the batch's first clip has, for a codec whose K varies (a transposed clip is then only caught where the
    batch's clips disagree). codebook_size: codes lie in [0, codebook_size) (1024; `from_processor` reads it).

    on_empty: a feature that learns nothing (no text label, no audio label): "warn" (default: one
    EmptySampleWarning per batch, the batch unchanged), "error", "drop" (collate without it) or "keep".
    backend: "auto" (compiled when built), "cpu" (compiled, or ImportError) or "python" (the reference twin).
    """

    def __init__(
        self,
        pad_token_id: int,
        *,
        label_mode: str = "correct",
        label_spec: Optional[RoleSpanSpec] = None,
        audio_token_id: int = HIGGS_HF_IDS["audio_token_id"],
        audio_bos_token_id: Optional[int] = None,
        audio_delay_token_id: int = HIGGS_HF_IDS["audio_delay_token_id"],
        audio_stream_bos_id: int = HIGGS_HF_IDS["audio_stream_bos_id"],
        audio_stream_eos_id: int = HIGGS_HF_IDS["audio_stream_eos_id"],
        padding_side: str = "left",
        pad_to_multiple_of: Optional[int] = None,
        packed: bool = False,
        block_mask_dtype: Optional[torch.dtype] = None,
        num_codebooks: Optional[int] = NUM_CODEBOOKS,
        codebook_size: int = CODEBOOK_SIZE,
        on_empty: str = "warn",
        backend: str = "auto",
        ignore_keys: Iterable[str] = (),
    ):
        self.config: HiggsHfConfig = make_config(
            pad_token_id,
            label_mode=label_mode,
            label_spec=label_spec,
            audio_token_id=audio_token_id,
            audio_bos_token_id=audio_bos_token_id,
            audio_delay_token_id=audio_delay_token_id,
            audio_stream_bos_id=audio_stream_bos_id,
            audio_stream_eos_id=audio_stream_eos_id,
            padding_side=padding_side,
            pad_to_multiple_of=pad_to_multiple_of,
            num_codebooks=num_codebooks,
            codebook_size=codebook_size,
            on_empty=on_empty,
            ignore_keys=ignore_keys,
            packed=packed,
        )
        self.block_mask_dtype = check_block_mask_dtype(block_mask_dtype, packed)
        if backend == "cuda":  # never a silent fallback to another path
            raise ValueError(
                "backend: 'cuda' has no kernels for HiggsAudioV2Collator yet; use 'cpu' (or 'auto') "
                "and move the batch to the GPU"
            )
        self.backend = resolve_backend(backend)
        self._native = None
        if self.backend == "cpu":
            self._native = native_options(self.config)

    @classmethod
    def from_processor(cls, processor, **kwargs) -> "HiggsAudioV2Collator":
        """The token ids of a `HiggsAudioV2Processor` (its tokenizer's pad token included) and its codec's
        number of codebooks and codebook size; other options by keyword. Under label_mode "correct" (the default)
        the default label_spec reads its ids from the processor's tokenizer."""
        ids = dict(
            pad_token_id=processor.tokenizer.pad_token_id,
            audio_token_id=processor.audio_token_id,
            audio_delay_token_id=processor.audio_delay_token_id,
            audio_stream_bos_id=processor.audio_stream_bos_id,
            audio_stream_eos_id=processor.audio_stream_eos_id,
        )
        codec = getattr(getattr(processor, "audio_tokenizer", None), "config", None)
        if getattr(codec, "num_quantizers", None) is not None:  # what the processor itself reads
            ids["num_codebooks"] = codec.num_quantizers
        if getattr(codec, "codebook_size", None) is not None:
            ids["codebook_size"] = codec.codebook_size
        if kwargs.get("label_mode", "correct") == "processor":
            ids["audio_bos_token_id"] = processor.audio_bos_token_id
        elif kwargs.get("label_spec") is None:
            from ..rolespan import presets

            ids["label_spec"] = presets.llama3(processor.tokenizer)
        ids.update(kwargs)
        return cls(**ids)

    def __getstate__(self):
        # DataLoader workers started with "spawn" pickle the collate_fn: the native options are rebuilt.
        return {**self.__dict__, "_native": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.backend == "cpu":
            self._native = native_options(self.config)

    def __call__(self, features) -> dict:
        if isinstance(features, (list, tuple)):
            features = stored_items(features)  # a list subclass's own __len__/__iter__/__getitem__ never runs
        batch, learned = self._collate(features)
        if self.config.on_empty != "keep" and not _all_learn(learned):
            if isinstance(learned, int):  # the compiled path: the counts come from a second look
                learned = self._collate_counts(features)
            empty = torch.nonzero(learned == 0).flatten().tolist()
            keep = handle_empty(
                self.config.on_empty, {i: self._empty_reason(features[i], i) for i in empty}, len(features)
            )
            if keep is not None:
                batch, _ = self._collate([features[i] for i in keep])
        if self.block_mask_dtype is not None:
            batch["attention_mask"] = block_causal_mask(batch["cu_seq_lens_q"], self.block_mask_dtype)
        return batch

    def _collate(self, features):
        if self._native is not None:
            return collate_native(features, self._native)
        return collate_reference(features, self.config)

    def _collate_counts(self, features):
        """Learned labels per feature (the rare path: some feature learns nothing)."""
        return learned_counts(features, self._native)

    def _empty_reason(self, feature, i: int) -> str:
        cfg = self.config
        f = check_feature(i, read_feature(i, feature, cfg.ignore_keys), cfg, None)
        clips = f" and its {len(f.clips)} clip(s) are no-train" if f.clips else " and it has no clip"
        if cfg.packed and int(collate_reference([feature], replace(cfg, packed=False))[1][0]) > 0:
            return (
                "its only learned label is its first text token, which a packed row masks (-100: the previous "
                "feature's last token would be trained on it)"
            )
        if cfg.correct:
            return f"{empty_reason(f.input_ids, cfg.label_spec, f.start_index)}{clips}"
        return (
            "every token is the audio token, the pad token or <|audio_out_bos|>, which the processor's labels "
            f"mask,{' and it has no clip' if not f.clips else ' and its clips hold no code'}"
        )


__all__ = ["HiggsAudioV2Collator"]
