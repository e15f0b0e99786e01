"""The multi-codebook delay pattern as batched token-tensor ops (public API; see README.md "Token-tensor ops").

Codebook k is shifted right by delays[k] columns (default range(K), MusicGen / Higgs Audio): the layout is
stated in delay_pattern_reference.py (the twin, the specification) and csrc/delay/ (the compiled code). Each
function checks its arguments, then makes one compiled call (eagerly on CPU and CUDA tensors) or calls its
torch.library op (torch.compile, meta tensors; library.py).
"""

from __future__ import annotations

from ..common.checks import check_storage, plain_arg
from ..common.views import readable, writable
from ..runtime.backend import eager
from . import library, native
from .checks import (
    check_apply,
    check_apply_out,
    check_apply_ragged,
    check_code_values,
    check_codebook_size,
    check_revert,
    check_revert_ragged,
)
from .delay_pattern_reference import RaggedCodes, RaggedDelayed

__all__ = [
    "RaggedCodes",
    "RaggedDelayed",
    "apply_delay_pattern",
    "apply_delay_pattern_ragged",
    "revert_delay_pattern",
    "revert_delay_pattern_ragged",
]


def apply_delay_pattern(
    codes, bos_token_id, pad_token_id, *, delays=None, layout="BKT", mode="extend", out=None, codebook_size=None
):
    """Delay every codebook of `codes`; returns `(delayed, generation_mask)`.

    codes: int16/int32/int64, (B, K, T) or (K, T) for layout "BKT", (B, T, K) or (T, K) for "BTK", any
    strides. Row k of the result holds delays[k] copies of bos_token_id, the row's codes, then
    pad_token_id; generation_mask is the same with -1 instead of that trailing PAD (the positions a model
    generates). With the default arguments both equal boson-multimodal's build_delay_pattern_mask.
    delays: ints >= 0, one per codebook, any order (default range(K)). mode "extend": T + max(delays)
    columns; "preserve": T columns, the codes pushed past them dropped. Outputs have the dtype and layout of
    codes; out=(delayed, generation_mask) writes into given tensors (which must not overlap codes).
    codebook_size: every code must lie in [0, codebook_size) (e.g. 1024 for Higgs Audio's codec), else a
    ValueError names the first code outside (batch row, frame, codebook); None (default): not checked.
    """
    codes = plain_arg(codes)
    args = check_apply(codes, bos_token_id, pad_token_id, delays, layout, mode)
    codebook_size = check_codebook_size(codebook_size)
    check_storage("codes", codes)  # after every conversion that may run user code
    check_code_values(codes, codebook_size, layout)
    if out is not None:
        delayed, generation_mask = check_apply_out(out, codes, args.shape)  # overlap with the caller's codes
        codes = readable(codes)
        if not (writable(delayed) and writable(generation_mask)):
            fresh = apply_delay_pattern(codes, bos_token_id, pad_token_id, delays=delays, layout=layout, mode=mode)
            return delayed.copy_(fresh[0]), generation_mask.copy_(fresh[1])
        if eager(codes, delayed, generation_mask):
            native.apply_into(codes, args, layout, mode, delayed, generation_mask)
        else:
            library.apply_delay_pattern_out(
                codes, args.bos, args.pad, list(args.delays), layout, mode == "extend", delayed, generation_mask
            )
        return delayed, generation_mask
    codes = readable(codes)
    if eager(codes):
        both = native.apply_new(codes, args, layout, mode)
    else:
        both = library.apply_delay_pattern(codes, args.bos, args.pad, list(args.delays), layout, mode == "extend")
    return both[0], both[1]


def revert_delay_pattern(delayed, *, delays=None, layout="BKT", start_index=0):
    """Undo apply_delay_pattern: codes [start_index, W - max(delays)) of every row of a delayed tensor of
    width W (shape and layout as apply's). On a (K, W) input with default arguments it equals
    boson-multimodal's revert_delay_pattern. Streaming: on the delayed buffer generated so far, start_index
    = codes already taken skips them; only codes whose every codebook is present come back (possibly none).
    """
    delayed = plain_arg(delayed)
    args = check_revert(delayed, delays, layout, start_index)
    check_storage("delayed", delayed)
    delayed = readable(delayed)
    if eager(delayed):
        return native.revert_new(delayed, args, layout)
    return library.revert_delay_pattern(delayed, list(args.delays), layout, args.start_index)


def apply_delay_pattern_ragged(
    codes,
    offsets,
    bos_token_id,
    pad_token_id,
    *,
    delays=None,
    layout="BKT",
    stream_bos_eos=False,
    return_labels=False,
    no_train=None,
    codebook_size=None,
) -> RaggedDelayed:
    """The delay pattern of packed segments (collation): codes (K, N) ("BTK": (N, K)) holds S segments,
    segment s in columns offsets[s]:offsets[s + 1] (offsets: S + 1 ints from 0 to N). Every segment is
    delayed on its own, wrapped first in a stream BOS (bos_token_id) and EOS (pad_token_id) when
    stream_bos_eos, and the results are packed again: returns RaggedDelayed(codes, offsets, labels) with
    the S + 1 new offsets. return_labels: int64 labels of the same layout, the codes and the stream EOS
    kept, -100 elsewhere (every delay fill and the stream BOS); no_train (S bools) makes a segment's labels
    all -100. Higgs Audio's collator is this with stream_bos_eos=True and the default delays.
    codebook_size: every code must lie in [0, codebook_size) (e.g. 1024), else a ValueError names the first
    code outside (frame = column of codes, codebook); None (default): not checked.
    """
    codes, offsets = plain_arg(codes), plain_arg(offsets)
    args = check_apply_ragged(
        codes, offsets, bos_token_id, pad_token_id, delays, layout, stream_bos_eos, return_labels, no_train
    )
    codebook_size = check_codebook_size(codebook_size)
    for name, tensor in (("codes", codes), ("offsets", args.offsets), ("no_train", args.no_train)):
        check_storage(name, tensor)
    check_code_values(codes, codebook_size, layout)
    codes = readable(codes)
    args = args._replace(offsets=readable(args.offsets), no_train=readable(args.no_train))
    if eager(codes, args.offsets, args.no_train):
        delayed, new_offsets, labels = native.apply_ragged_new(codes, args, layout, stream_bos_eos, return_labels)
    else:
        delayed, new_offsets, labels = library.apply_delay_pattern_ragged(
            codes,
            args.offsets,
            args.bos,
            args.pad,
            list(args.delays),
            layout,
            bool(stream_bos_eos),
            bool(return_labels),
            args.no_train,
        )
    return RaggedDelayed(delayed, new_offsets, labels if return_labels else None)


def revert_delay_pattern_ragged(delayed, offsets, *, delays=None, layout="BKT", stream_bos_eos=False) -> RaggedCodes:
    """Undo apply_delay_pattern_ragged (offsets: the delayed segments' S + 1 bounds): every segment reverted
    on its own, its stream BOS and EOS dropped when stream_bos_eos; returns RaggedCodes(codes, offsets)."""
    delayed, offsets = plain_arg(delayed), plain_arg(offsets)
    args = check_revert_ragged(delayed, offsets, delays, layout, stream_bos_eos)
    for name, tensor in (("delayed", delayed), ("offsets", args.offsets)):
        check_storage(name, tensor)
    delayed = readable(delayed)
    args = args._replace(offsets=readable(args.offsets))
    if eager(delayed, args.offsets):
        return RaggedCodes(*native.revert_ragged_new(delayed, args, layout, stream_bos_eos))
    return RaggedCodes(
        *library.revert_delay_pattern_ragged(delayed, args.offsets, list(args.delays), layout, bool(stream_bos_eos))
    )
