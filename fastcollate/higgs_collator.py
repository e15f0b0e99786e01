"""`HiggsAudioSampleCollator`: upstream's constructor and output, compiled or pure-Python inside."""

from __future__ import annotations

import operator

from ._backend import resolve_backend
from .checks import check_batch
from .higgs_config import HiggsCollateConfig
from .higgs_reference import collate_reference
from .samples import HiggsAudioBatchInput
from .whisper_audio import prepare_whisper_audio


class HiggsAudioSampleCollator:
    """Drop-in replacement for `boson_multimodal.data_collator.higgs_audio_collator.HiggsAudioSampleCollator`.

    Same parameters, order and defaults as upstream, plus `backend`: "auto" (compiled when built, see
    `fastcollate.backend_info()`), "python" (the readable reference) or "cpu" (compiled; raises with the
    original import error if the extension is missing). Calling it on a list of `ChatMLDatasetSample`
    (upstream's or `fastcollate.ChatMLDatasetSample`) returns a `HiggsAudioBatchInput` equal to upstream's,
    without mutating the samples.
    """

    def __init__(
        self,
        whisper_processor,
        audio_in_token_id,
        audio_out_token_id,
        pad_token_id,
        audio_stream_bos_id,
        audio_stream_eos_id,
        round_to=8,
        pad_left=False,
        encode_whisper_embed=True,
        return_audio_in_tokens=True,
        audio_num_codebooks=None,
        use_delay_pattern=False,
        disable_audio_codes_transform=False,
        chunk_size_seconds=30,
        add_new_bos_eos_for_long_chunk=True,
        mask_audio_out_token_label=True,
        *,
        backend="auto",
    ):
        self.whisper_processor = whisper_processor
        self.encode_whisper_embed = encode_whisper_embed
        self.chunk_size_seconds = chunk_size_seconds if encode_whisper_embed else None
        chunk_size_samples = None
        if encode_whisper_embed:
            chunk_size_samples = int(chunk_size_seconds * whisper_processor.feature_extractor.sampling_rate)
        # Upstream stores it but never reads it; kept for signature compatibility.
        self.add_new_bos_eos_for_long_chunk = add_new_bos_eos_for_long_chunk
        self.config = HiggsCollateConfig(
            audio_in_token_id=_as_int("audio_in_token_id", audio_in_token_id),
            audio_out_token_id=_as_int("audio_out_token_id", audio_out_token_id),
            pad_token_id=_as_int("pad_token_id", pad_token_id),
            audio_stream_bos_id=_as_int("audio_stream_bos_id", audio_stream_bos_id),
            audio_stream_eos_id=_as_int("audio_stream_eos_id", audio_stream_eos_id),
            round_to=round_to,
            pad_left=bool(pad_left),
            encode_whisper_embed=bool(encode_whisper_embed),
            return_audio_in_tokens=bool(return_audio_in_tokens),
            audio_num_codebooks=audio_num_codebooks,
            use_delay_pattern=bool(use_delay_pattern),
            disable_audio_codes_transform=bool(disable_audio_codes_transform),
            chunk_size_samples=chunk_size_samples,
            mask_audio_out_token_label=bool(mask_audio_out_token_label),
        )
        self.backend = resolve_backend(backend)
        self._native_options = None
        if self.backend == "cpu":
            from .higgs_native import native_options

            self._native_options = native_options(self.config)

    def __getattr__(self, name):
        # Upstream exposes its options as attributes (collator.round_to, ...).
        config = self.__dict__.get("config")
        if config is not None and hasattr(config, name):
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __call__(self, batch) -> HiggsAudioBatchInput:
        check_batch(batch)
        whisper = None
        if self.config.encode_whisper_embed:
            whisper = prepare_whisper_audio(batch, self.config, self.whisper_processor.feature_extractor)
        if self.backend == "cpu":
            from .higgs_native import collate_native

            return collate_native(batch, self._native_options, whisper)
        return collate_reference(batch, self.config, whisper)


def _as_int(name, value) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: expected an int, got {value!r}") from None
