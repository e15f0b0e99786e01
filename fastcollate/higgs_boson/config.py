"""The Higgs Audio collator's options, validated once at construction and shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..common.sizes import out_of_int64
from ..rolespan.spec import RoleSpanSpec


@dataclass(frozen=True)
class HiggsCollateConfig:
    audio_in_token_id: int
    audio_out_token_id: int
    pad_token_id: int
    audio_stream_bos_id: int
    audio_stream_eos_id: int
    round_to: int = 8
    pad_left: bool = False
    encode_whisper_embed: bool = True
    return_audio_in_tokens: bool = True
    audio_num_codebooks: Optional[int] = None
    codebook_size: int = 1024  # every code of a segment the batch holds lies in [0, codebook_size)
    use_delay_pattern: bool = False
    disable_audio_codes_transform: bool = False
    chunk_size_samples: Optional[int] = None  # whisper path only: chunk_size_seconds * sampling rate
    mask_audio_out_token_label: bool = True
    label_spec: Optional[RoleSpanSpec] = None  # derive labels from input_ids instead of reading label_ids
    ignore_keys: frozenset = frozenset()  # Mapping sample keys to skip (any other unknown key is an error)

    def __post_init__(self):
        for name in (
            "audio_in_token_id",
            "audio_out_token_id",
            "pad_token_id",
            "audio_stream_bos_id",
            "audio_stream_eos_id",
        ):
            if not _is_int(getattr(self, name)):
                raise ValueError(f"{name}: expected an int, got {getattr(self, name)!r}")
            if out_of_int64(getattr(self, name)):  # the compiled path stores token ids as int64
                raise ValueError(f"{name}: expected an int64, got {getattr(self, name)}")
        if self.audio_in_token_id == self.audio_out_token_id:
            raise ValueError(
                f"audio_in_token_id and audio_out_token_id must differ (both are {self.audio_in_token_id})"
            )
        if not _is_int(self.round_to) or self.round_to < 1:
            raise ValueError(f"round_to: expected an int >= 1, got {self.round_to!r}")
        if out_of_int64(self.round_to):
            raise ValueError(f"round_to: expected an int >= 1 that fits in int64, got {self.round_to}")
        if self.audio_num_codebooks is not None and (
            not _is_int(self.audio_num_codebooks) or self.audio_num_codebooks < 1
        ):
            raise ValueError(f"audio_num_codebooks: expected None or an int >= 1, got {self.audio_num_codebooks!r}")
        if self.audio_num_codebooks is not None and out_of_int64(self.audio_num_codebooks):
            raise ValueError(f"audio_num_codebooks: expected an int that fits in int64, got {self.audio_num_codebooks}")
        if not _is_int(self.codebook_size) or self.codebook_size < 1 or out_of_int64(self.codebook_size):
            raise ValueError(f"codebook_size: expected an int >= 1, got {self.codebook_size!r}")
        if self.label_spec is not None and not isinstance(self.label_spec, RoleSpanSpec):
            raise ValueError(
                f"label_spec: expected a fastcollate.RoleSpanSpec or None, got {type(self.label_spec).__name__}"
            )
        if not isinstance(self.ignore_keys, frozenset) or not all(isinstance(k, str) for k in self.ignore_keys):
            raise ValueError(f"ignore_keys: expected a collection of key names, got {self.ignore_keys!r}")
        if self.chunk_size_samples is not None and self.chunk_size_samples < 1:
            raise ValueError(f"chunk_size_seconds: gives {self.chunk_size_samples} samples per chunk, expected >= 1")

    def unread_start_index_reason(self) -> Optional[str]:
        """Why a sample's start_index would not be read (None: it is); a given one is then an error."""
        if self.label_spec is None:
            return (
                "label_spec is None, so labels are read from label_ids and start_index is not used; pass "
                "label_spec=fastcollate.presets.llama3() to derive labels from input_ids and start_index, or "
                "drop start_index"
            )
        return self.label_spec.unread_start_index_reason()

    def kept_codebooks(self, num_codebooks: int) -> int:
        """How many codebook rows survive `[:audio_num_codebooks]`."""
        if self.audio_num_codebooks is None:
            return num_codebooks
        return min(num_codebooks, self.audio_num_codebooks)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
