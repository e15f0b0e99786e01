"""HiggsAudioV2Collator's options, validated once at construction and shared by every backend."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Optional

from ..common.empty_policy import check_on_empty
from ..common.sizes import out_of_int64
from ..rolespan.spec import RoleSpanSpec

# transformers' Higgs Audio v2 ids (HiggsAudioV2Config / HiggsAudioV2Processor defaults).
HIGGS_HF_IDS = dict(
    audio_token_id=128016,
    audio_bos_token_id=128013,
    audio_delay_token_id=128014,
    audio_stream_bos_id=1024,
    audio_stream_eos_id=1025,
)
# The released model's codec: 8 codebooks of 1024 codes each (the stream BOS/EOS ids, 1024 and 1025, lie just
# above the codes: the collator adds them, a clip never holds them).
NUM_CODEBOOKS = 8
CODEBOOK_SIZE = 1024
LABEL_MODES = ("processor", "correct")
PADDING_SIDES = ("left", "right")


@dataclass(frozen=True)
class HiggsHfConfig:
    pad_token_id: int
    label_mode: str = "correct"
    label_spec: Optional[RoleSpanSpec] = None  # label_mode "correct" only
    audio_token_id: int = HIGGS_HF_IDS["audio_token_id"]
    # label_mode "processor" only (its labels mask <|audio_out_bos|>); None under "correct", which never reads it.
    audio_bos_token_id: Optional[int] = HIGGS_HF_IDS["audio_bos_token_id"]
    audio_delay_token_id: int = HIGGS_HF_IDS["audio_delay_token_id"]
    audio_stream_bos_id: int = HIGGS_HF_IDS["audio_stream_bos_id"]
    audio_stream_eos_id: int = HIGGS_HF_IDS["audio_stream_eos_id"]
    pad_left: bool = True
    pad_to_multiple_of: int = 1
    packed: bool = False  # every feature in one row (reference.py's module docstring)
    # K of every clip; None: whatever the batch's first clip has (then a transposed clip is not recognised).
    num_codebooks: Optional[int] = NUM_CODEBOOKS
    codebook_size: int = CODEBOOK_SIZE  # every code lies in [0, codebook_size)
    on_empty: str = "warn"
    ignore_keys: frozenset = frozenset()

    @property
    def correct(self) -> bool:
        return self.label_mode == "correct"

    def unread_start_index_reason(self) -> Optional[str]:
        """Why a feature's start_index would not be read (None: it is); a given one is then an error."""
        if not self.correct:
            return (
                "label_mode='processor' learns every turn (the processor's labels); use label_mode='correct' "
                "to learn only the turns from start_index on, or drop start_index"
            )
        return self.label_spec.unread_start_index_reason()

    def unread_no_train_reason(self) -> Optional[str]:
        """Why a feature's audio_no_train would not be read (None: it is)."""
        if not self.correct:
            return (
                "label_mode='processor' learns every clip (the processor's labels); use label_mode='correct' "
                "to mark clips no-train, or drop audio_no_train"
            )
        return None


def as_token_id(name: str, value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an int, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: expected an int, got {value!r}") from None
    if value < 0:
        raise ValueError(f"{name}: expected an id >= 0, got {value}")
    if out_of_int64(value):  # the compiled path stores ids as int64
        raise ValueError(f"{name}: expected an int64, got {value}")
    return value


def make_config(
    pad_token_id,
    *,
    label_mode,
    label_spec,
    audio_token_id,
    audio_bos_token_id,
    audio_delay_token_id,
    audio_stream_bos_id,
    audio_stream_eos_id,
    padding_side,
    pad_to_multiple_of,
    num_codebooks,
    on_empty,
    ignore_keys,
    packed=False,
    codebook_size=CODEBOOK_SIZE,
) -> HiggsHfConfig:
    """Every option checked, with a message naming it and the fix."""
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode: expected one of {LABEL_MODES}, got {label_mode!r}")
    correct = label_mode == "correct"
    if correct:
        from ..rolespan import presets

        label_spec = presets.llama3() if label_spec is None else label_spec
        if not isinstance(label_spec, RoleSpanSpec):
            raise ValueError(
                f"label_spec: expected a fastcollate.RoleSpanSpec or None, got {type(label_spec).__name__}"
            )
        if audio_bos_token_id is not None:
            raise ValueError(
                "audio_bos_token_id: only label_mode='processor' reads it (its labels mask "
                "<|audio_out_bos|>); under label_mode='correct' the label_spec decides which tokens "
                "are learned: drop audio_bos_token_id"
            )
    else:
        if label_spec is not None:
            raise ValueError(
                "label_spec: only label_mode='correct' reads it; label_mode='processor' reproduces the "
                "processor's labels: pass label_mode='correct' or drop label_spec"
            )
        audio_bos_token_id = HIGGS_HF_IDS["audio_bos_token_id"] if audio_bos_token_id is None else audio_bos_token_id
    ids = dict(
        pad_token_id=as_token_id("pad_token_id", pad_token_id),
        audio_token_id=as_token_id("audio_token_id", audio_token_id),
        audio_delay_token_id=as_token_id("audio_delay_token_id", audio_delay_token_id),
        audio_stream_bos_id=as_token_id("audio_stream_bos_id", audio_stream_bos_id),
        audio_stream_eos_id=as_token_id("audio_stream_eos_id", audio_stream_eos_id),
    )
    if audio_bos_token_id is not None:
        audio_bos_token_id = as_token_id("audio_bos_token_id", audio_bos_token_id)
    if ids["audio_token_id"] == ids["audio_delay_token_id"]:
        raise ValueError(f"audio_token_id and audio_delay_token_id must differ (both are {ids['audio_token_id']})")
    for name in ("audio_token_id", "audio_delay_token_id"):
        if ids["pad_token_id"] == ids[name]:
            raise ValueError(
                f"pad_token_id: equals {name} ({ids[name]}); the model would read every padding "
                "position as an audio frame"
            )
    if ids["audio_stream_bos_id"] == ids["audio_stream_eos_id"]:
        raise ValueError(
            f"audio_stream_bos_id and audio_stream_eos_id must differ (both are {ids['audio_stream_bos_id']})"
        )
    if correct and ids["audio_token_id"] in label_spec.always_masked:
        raise ValueError(
            f"label_spec: always_masked holds audio_token_id {ids['audio_token_id']}; a clip is learned "
            "where the spec learns its placeholder, so every clip would be no-train (the collator masks "
            "the placeholders' text labels itself): drop it from always_masked"
        )
    if padding_side not in PADDING_SIDES:
        raise ValueError(f"padding_side: expected one of {PADDING_SIDES}, got {padding_side!r}")
    multiple = 1 if pad_to_multiple_of is None else pad_to_multiple_of
    if isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1 or out_of_int64(multiple):
        raise ValueError(
            f"pad_to_multiple_of: expected an int >= 1 that fits in int64, or None, got {pad_to_multiple_of!r}"
        )
    if not isinstance(packed, bool):
        raise ValueError(f"packed: expected a bool, got {packed!r}")
    if packed and multiple != 1:
        raise ValueError("pad_to_multiple_of: packed batches are not padded; leave it None")
    if num_codebooks is not None and (
        isinstance(num_codebooks, bool)
        or not isinstance(num_codebooks, int)
        or num_codebooks < 1
        or out_of_int64(num_codebooks)
    ):
        raise ValueError(f"num_codebooks: expected None or an int >= 1, got {num_codebooks!r}")
    if (
        isinstance(codebook_size, bool)
        or not isinstance(codebook_size, int)
        or codebook_size < 1
        or out_of_int64(codebook_size)
    ):
        raise ValueError(f"codebook_size: expected an int >= 1, got {codebook_size!r}")
    if isinstance(ignore_keys, str):
        raise ValueError(f"ignore_keys: expected a collection of key names, got the string {ignore_keys!r}")
    ignore_keys = frozenset(ignore_keys)
    read = sorted(ignore_keys & {"input_ids", "audio_codes"})
    if read:
        raise ValueError(f"ignore_keys: {read} are the features every batch is made of; ignore_keys is for other keys")
    return HiggsHfConfig(
        label_mode=label_mode,
        label_spec=label_spec if correct else None,
        audio_bos_token_id=audio_bos_token_id,
        pad_left=padding_side == "left",
        pad_to_multiple_of=multiple,
        packed=packed,
        num_codebooks=num_codebooks,
        codebook_size=codebook_size,
        on_empty=check_on_empty(on_empty),
        ignore_keys=ignore_keys,
        **ids,
    )
