"""A picture of every Higgs Audio clip's audio labels: codebook x frame, each cell colored by what it trains.

Both formats: transformers' (HiggsAudioV2Collator / HiggsAudioV2Processor: `audio_input_ids` and
`audio_labels` (B, T, K), a clip starting where codebook 0 holds the stream BOS) and boson-multimodal's
(HiggsAudioSampleCollator: `audio_out_ids` and `label_audio_ids` (K, N), a clip per `audio_out_ids_start`
entry). A codebook's row reads, from its ids alone: the delay fills (copies of the stream BOS) before its
stream BOS, its codes, its stream EOS, the delay fills (copies of the EOS) after it; with or without the delay
pattern. Its labels then say what is learned. A learned clip whose stream EOS is not learned is drawn with
red EOS cells (generation stops only when the model emits it); a no-train clip is grey throughout. A learned
stream BOS, delay fill or padding frame (transformers' format: after a row's last clip) is purple.

Whether a learned clip learns its EOS in every codebook is, in transformers' format, decided as inspect's
text verdict decides it (higgs_hf_audio.eos_learned_codebooks: each codebook's EOS frame labelled with the
stream EOS), so that the picture's warning and inspect's count of clips "without EOS" agree; in
boson-multimodal's format (with or without the delay pattern), by the EOS cells the ids show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from ..common.labels import IGNORE
from ..common.learned import to_int_list
from ..common.png import png_bytes
from ..higgs_hf.config import HIGGS_HF_IDS
from .higgs_hf_audio import eos_learned_codebooks
from .token_view import batch_field

LEARNED, NO_TRAIN, STREAM_BOS, EOS_LEARNED, EOS_NOT_LEARNED, DELAY_FILL, PADDING, ODD = range(8)
# (name, RGB): distinct at a glance, and exact in a screenshot (the report's tests look for them).
CELLS = {
    LEARNED: ("learned code", (46, 160, 67)),
    NO_TRAIN: ("masked code (no-train)", (150, 150, 150)),
    STREAM_BOS: ("stream BOS", (31, 119, 180)),
    EOS_LEARNED: ("stream EOS, learned", (0, 90, 40)),
    EOS_NOT_LEARNED: ("stream EOS, not learned", (214, 39, 40)),
    DELAY_FILL: ("delay fill", (240, 215, 130)),
    PADDING: ("padding", (228, 228, 228)),
    ODD: ("learned BOS, fill or padding", (148, 0, 211)),
}


@dataclass
class Clip:
    """One clip's audio ids and labels, (K, frames), and where its placeholder sits in the text."""

    sample: int  # the batch row (boson: the sample whose <|AUDIO_OUT|> it follows)
    index: int  # its order among the clips of that row
    ids: np.ndarray  # (K, F) int64
    labels: np.ndarray  # (K, F) int64
    padding: int = 0  # padding frames drawn after it (transformers' format: after a row's last clip)
    stream_bos: int = HIGGS_HF_IDS["audio_stream_bos_id"]
    stream_eos: int = HIGGS_HF_IDS["audio_stream_eos_id"]
    padding_labels: Optional[np.ndarray] = None  # (K, padding) int64; None: all IGNORE
    layout: str = "transformers"  # or "boson" (boson-multimodal's format)

    @property
    def cells(self) -> np.ndarray:
        return classify(self.ids, self.labels, self.padding, self.stream_bos, self.stream_eos, self.padding_labels)

    @property
    def learned(self) -> bool:
        return bool((self.labels != IGNORE).any())

    @property
    def learned_padding(self) -> int:
        """Padding cells with a label that is not IGNORE (the loss trains them)."""
        return 0 if self.padding_labels is None else int((self.padding_labels != IGNORE).sum())

    @property
    def eos_learned(self) -> int:
        """The codebooks whose stream EOS is learned (labelled with the stream EOS)."""
        if self.layout == "transformers":
            return eos_learned_codebooks(self.labels.T, self.stream_eos)
        return int((self.cells[:, : self.ids.shape[1]] == EOS_LEARNED).any(axis=1).sum())

    @property
    def eos_missing(self) -> bool:
        """A learned clip whose stream EOS is not learned in some codebook (or that has none)."""
        return self.learned and self.eos_learned < self.ids.shape[0]


def _row_kinds(ids: np.ndarray, bos: int, eos: int) -> np.ndarray:
    """Per cell of one codebook's row: 0 code, 1 fill before, 2 stream BOS, 3 stream EOS, 4 fill after."""
    n = len(ids)
    kinds = np.zeros(n, dtype=np.int8)
    lead = 0
    while lead < n and ids[lead] == bos:
        lead += 1
    trail = 0
    while trail < n - lead and ids[n - 1 - trail] == eos:
        trail += 1
    if lead:
        kinds[: lead - 1] = 1
        kinds[lead - 1] = 2
    if trail:
        kinds[n - trail] = 3
        kinds[n - trail + 1 :] = 4
    return kinds


def classify(
    ids: np.ndarray,
    labels: np.ndarray,
    padding: int = 0,
    bos: int = HIGGS_HF_IDS["audio_stream_bos_id"],
    eos: int = HIGGS_HF_IDS["audio_stream_eos_id"],
    padding_labels: Optional[np.ndarray] = None,
) -> np.ndarray:
    """(K, F + padding) cell kinds (the CELLS keys) of a (K, F) clip and its padding frames, whose (K, padding)
    labels mark the learned ones (ODD)."""
    k_count, frames = ids.shape
    out = np.full((k_count, frames + padding), PADDING, dtype=np.int8)
    if padding_labels is not None and padding:
        out[:, frames:][padding_labels != IGNORE] = ODD
    learned = labels != IGNORE
    clip_learned = bool(learned.any())
    for k in range(k_count):
        kinds = _row_kinds(ids[k], bos, eos)
        row = out[k]
        row[:frames][kinds == 0] = np.where(learned[k][kinds == 0], LEARNED, NO_TRAIN)
        row[:frames][kinds == 2] = np.where(learned[k][kinds == 2], ODD, STREAM_BOS)
        is_fill = (kinds == 1) | (kinds == 4)
        row[:frames][is_fill] = np.where(learned[k][is_fill], ODD, DELAY_FILL)
        eos_missing = EOS_NOT_LEARNED if clip_learned else NO_TRAIN
        # An EOS cell labelled with anything but the stream EOS does not teach the model to stop.
        eos_taught = labels[k][kinds == 3] == eos
        row[:frames][kinds == 3] = np.where(eos_taught, EOS_LEARNED, eos_missing)
    return out


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def clips_of(
    batch,
    *,
    audio_out_token_id: int = HIGGS_HF_IDS["audio_token_id"],
    stream_bos: int = HIGGS_HF_IDS["audio_stream_bos_id"],
    stream_eos: int = HIGGS_HF_IDS["audio_stream_eos_id"],
) -> List[Clip]:
    """Every clip of a Higgs Audio batch with audio labels, either format; [] for a batch without them."""
    if batch_field(batch, "audio_labels") is not None:  # transformers: (B, T, K)
        ids, labels = _np(batch_field(batch, "audio_input_ids")), _np(batch_field(batch, "audio_labels"))
        mask = batch_field(batch, "audio_input_ids_mask")
        mask = np.ones(ids.shape[:2], dtype=bool) if mask is None else _np(mask).astype(bool)
        if ids.ndim != 3 or ids.shape != labels.shape or mask.shape != ids.shape[:2]:
            raise ValueError(
                f"batch: audio_input_ids {ids.shape}, audio_labels {labels.shape}, audio_input_ids_mask "
                f"{mask.shape}: expected (B, T, K), (B, T, K) and (B, T)"
            )
        clips = []
        for b in range(ids.shape[0]):
            frames = int(mask[b].sum())
            starts = np.flatnonzero(ids[b, :frames, 0] == stream_bos).tolist()
            bounds = starts + [frames]
            for j, (a, z) in enumerate(zip(bounds, bounds[1:])):
                last = j == len(starts) - 1
                pad = ids.shape[1] - frames if last else 0
                pad_labels = labels[b, frames:].T.copy() if last else None
                clips.append(
                    Clip(b, j, ids[b, a:z].T.copy(), labels[b, a:z].T.copy(), pad, stream_bos, stream_eos, pad_labels)
                )
        return clips
    labels = batch_field(batch, "label_audio_ids")
    if labels is None:
        return []
    ids, labels = _np(batch_field(batch, "audio_out_ids")), _np(labels)  # boson-multimodal: (K, N)
    starts = batch_field(batch, "audio_out_ids_start")
    starts = [0] if starts is None else to_int_list(starts)
    bounds = starts + [ids.shape[1]]
    # Segment j belongs to the row holding the j-th <|AUDIO_OUT|> (audio_out_ids_start_group_loc cannot tell).
    input_ids = _np(batch_field(batch, "input_ids"))
    owners = [r for r in range(input_ids.shape[0]) for _ in range(int((input_ids[r] == audio_out_token_id).sum()))]
    clips, seen = [], {}
    for j, (a, z) in enumerate(zip(bounds, bounds[1:])):
        row = owners[j] if j < len(owners) else -1
        seen[row] = seen.get(row, -1) + 1
        clips.append(
            Clip(row, seen[row], ids[:, a:z].copy(), labels[:, a:z].copy(), 0, stream_bos, stream_eos, layout="boson")
        )
    return clips


def cells_rgb(cells: np.ndarray, cell_width: int = 3, cell_height: int = 10) -> np.ndarray:
    """(K * cell_height, F * cell_width, 3) uint8: codebook 0 on top, frames left to right."""
    palette = np.array([CELLS[k][1] for k in sorted(CELLS)], dtype=np.uint8)
    image = palette[cells]
    return np.repeat(np.repeat(image, cell_height, axis=0), cell_width, axis=1)


def clip_png(clip: Clip, max_width: int = 900, cell_height: int = 10) -> bytes:
    """The clip as a PNG: cells 1 to 6 pixels wide (the clip fits max_width where it can), 10 high. A clip
    with no frames has no picture (a PNG cannot be 0 pixels wide): ValueError."""
    cells = clip.cells
    if cells.shape[1] == 0:
        raise ValueError("the clip has no frames: nothing to draw")
    width = max(1, min(6, max_width // max(1, cells.shape[1])))
    return png_bytes(cells_rgb(cells, width, cell_height))


def summary(clip: Clip) -> str:
    """One line: its size, learned codes and EOS, in words."""
    cells = clip.cells
    k_count, frames = clip.ids.shape
    learned = int((cells == LEARNED).sum())
    codes = learned + int((cells == NO_TRAIN).sum())
    text = f"{k_count} codebooks x {frames} frames"
    if clip.padding:
        text += f" (+{clip.padding} padding)"
    if not frames:
        text += ": no frames"
    elif not clip.learned:
        text += ": no-train (nothing learned)"
    else:
        text += (
            f": {learned} of {codes} code cells learned, stream EOS learned in {clip.eos_learned} of {k_count} "
            "codebooks"
        )
    odd = int((cells == ODD).sum())
    if odd:
        text += f"; {odd} learned BOS/fill/padding cells"
    return text


def legend_items() -> List[tuple]:
    return [(name, rgb) for _, (name, rgb) in sorted(CELLS.items())]
