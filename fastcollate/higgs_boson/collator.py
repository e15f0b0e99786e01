"""`HiggsAudioSampleCollator`: upstream's constructor and output, compiled or pure-Python inside."""

from __future__ import annotations

import operator

from ..common.checks import check_batch, stored_items
from ..common.empty_policy import check_on_empty, handle_empty
from ..common.learned import learned_text_and_audio_out
from ..rolespan.reference import empty_reason
from ..runtime.backend import collator_device, resolve_backend
from .config import HiggsCollateConfig
from .reference import IGNORE, collate_reference
from .sample_fields import SAMPLE_FIELDS, read_sample
from .samples import HiggsAudioBatchInput
from .whisper_audio import prepare_whisper_audio


class HiggsAudioSampleCollator:
    """Drop-in replacement for `boson_multimodal.data_collator.higgs_audio_collator.HiggsAudioSampleCollator`.

    Same parameters, order and defaults as upstream, plus `backend`: "auto" (compiled when built, see
    `fastcollate.backend_info()`), "python" (the readable reference), "cpu" (compiled; raises with the
    original import error if the extension is missing) or "cuda" (samples read on the host, assembled on
    `device`, a CUDA device, torch's current one by default; every tensor of the batch is on it). Calling it
    on a list of `ChatMLDatasetSample` (upstream's or `fastcollate.ChatMLDatasetSample`) returns a
    `HiggsAudioBatchInput` equal to upstream's, without mutating the samples.

    Samples may also be Mappings with the same field names (what a Hugging Face `datasets.Dataset` yields):
    the batch is bit-identical to the object form. A needed field that is absent, and a key that is no sample
    field (unless named in `ignore_keys`), are a ValueError naming the sample and the key.

    fastcollate-only keywords: `label_spec` (a `fastcollate.RoleSpanSpec`, e.g. `fastcollate.presets.llama3()`):
    labels are derived from each sample's input_ids (and its optional `start_index`: the turns before it are
    context, as in prepare_chatml_sample) inside the same pass instead of read from `label_ids`. A sample's
    start_index without a label_spec, or under a spec that does not read it, is a ValueError. `on_empty`: a
    sample that learns nothing, neither text nor audio, is an "error", a warning ("warn", the default: one
    EmptySampleWarning per batch naming the samples, the batch unchanged), dropped from the batch ("drop"), or
    ignored ("keep"). `ignore_keys`: Mapping keys to skip. `codebook_size` (1024, the released codec's): a code
    outside [0, codebook_size) in a segment the batch holds is a ValueError naming the sample, the frame and
    the codebook (upstream copies it into the batch: the stream BOS/EOS ids are the collator's to add); so is
    audio_ids_concat with fewer codebooks than `audio_num_codebooks` (upstream returns fewer), with the
    transpose suggested where the codes look like (L, K).
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
        device=None,
        label_spec=None,
        on_empty="warn",
        ignore_keys=(),
        codebook_size=1024,
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
            label_spec=label_spec,
            ignore_keys=_key_names(ignore_keys),
            codebook_size=codebook_size,
        )
        self.on_empty = check_on_empty(on_empty)
        self.backend = resolve_backend(backend)
        self.device = collator_device(self.backend, device)
        self._native_options = None
        if self.backend in ("cpu", "cuda"):
            from .native import native_options

            self._native_options = native_options(self.config)

    def __getstate__(self):
        # DataLoader workers started with "spawn" pickle the collate_fn: the native options are rebuilt.
        state = dict(self.__dict__)
        state["_native_options"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.backend in ("cpu", "cuda"):
            from .native import native_options

            self._native_options = native_options(self.config)

    def __getattr__(self, name):
        # Upstream exposes its options as attributes (collator.round_to, ...).
        config = self.__dict__.get("config")
        if config is not None and hasattr(config, name):
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __call__(self, batch) -> HiggsAudioBatchInput:
        if isinstance(batch, (list, tuple)):
            batch = stored_items(batch)  # a list subclass's own __len__/__iter__/__getitem__ never runs
        out, rows_without_learned_text = self._collate(batch)
        if self.on_empty != "keep" and rows_without_learned_text:
            keep = handle_empty(self.on_empty, self._samples_learning_nothing(batch, out), len(batch))
            if keep is not None:
                out, _ = self._collate([batch[i] for i in keep])
        return out

    def _collate(self, batch):
        """(the batch, how many rows have no learned text label: the usual case, 0, needs no further look)."""
        check_batch(batch)
        whisper = None
        if self.config.encode_whisper_embed:
            samples = [read_sample(i, s, self.config.ignore_keys) for i, s in enumerate(batch)]
            whisper = prepare_whisper_audio(samples, self.config, self.whisper_processor.feature_extractor)
        if self.backend in ("cpu", "cuda"):
            from .native import collate_native

            return collate_native(batch, self._native_options, whisper, self.device)
        out = collate_reference(batch, self.config, whisper)
        if out.label_ids is None:
            return out, 0
        return out, int((out.label_ids == IGNORE).all(dim=1).sum())

    def _samples_learning_nothing(self, batch, out) -> dict:
        """index -> why, for samples with no learned text label and no learned audio label."""
        cfg = self.config
        reasons = {}
        for i, (text, audio) in enumerate(zip(*learned_text_and_audio_out(out, cfg.audio_out_token_id))):
            if text or audio:
                continue
            sample = read_sample(i, batch[i], cfg.ignore_keys)
            if cfg.label_spec is not None:
                reasons[i] = empty_reason(sample.input_ids, cfg.label_spec, sample.start_index)
            elif (out.input_ids[i] == cfg.audio_out_token_id).any():
                reasons[i] = "label_ids are all -100, so its audio-out segments are no-train too"
            else:
                reasons[i] = "label_ids are all -100 and it has no audio-out"
        return reasons


def _key_names(keys) -> frozenset:
    if isinstance(keys, str):
        raise ValueError(f"ignore_keys: expected a collection of key names, got the string {keys!r}")
    fields = sorted(set(keys) & set(SAMPLE_FIELDS))
    if fields:
        raise ValueError(f"ignore_keys: {fields} are sample fields the collator reads; ignore_keys is for other keys")
    return frozenset(keys)


def _as_int(name, value) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: expected an int, got {value!r}") from None
