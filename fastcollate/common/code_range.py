"""Audio codes of the wrong shape or outside the codebook: the checks both Higgs collators share, and their
messages.

A code lies in [0, codebook_size); the stream BOS and EOS ids are the collator's to add, never a clip's
(HiggsAudioSampleCollator's disable_audio_codes_transform=True passes codes through as given, so there they
may appear). The first bad code is the first in frame order, then codebook order. The compiled paths run the
same check in C++ (csrc/common/code_range.h) and build the same message.
"""

from __future__ import annotations

from typing import Optional

import torch


def code_range_problem(
    codes: torch.Tensor,
    codebook_size: int,
    stream_bos: Optional[int],
    stream_eos: Optional[int],
    *,
    stream_ids_allowed: bool = False,
    first_frame: int = 0,
    where: str = "",
) -> Optional[str]:
    """The problem with the first bad code of a (K, L) tensor, None when there is none. Frames are counted
    from `first_frame` (a segment's column in its sample's codes); `where` follows the codebook (e.g.
    " (audio segment 1)"). The stream ids (None: the ops, which add no stream) are named where a code is
    one. One tensor pass; the search for the first runs only when there is one."""
    bad = (codes < 0) | (codes >= codebook_size)
    if stream_ids_allowed:
        bad &= (codes != stream_bos) & (codes != stream_eos)
    if not bool(bad.any()):
        return None
    frame, codebook = (int(x) for x in torch.nonzero(bad.T)[0])
    code = int(codes[codebook, frame])
    problem = (
        f"holds the code {code} at frame {first_frame + frame}, codebook {codebook}{where}; codes lie in "
        f"[0, {codebook_size}) (codebook_size={codebook_size})"
    )
    if stream_ids_allowed:
        problem += (
            f" or are the stream BOS ({stream_bos}) or EOS ({stream_eos}), as disable_audio_codes_transform=True "
            "passes them through"
        )
    problem += "."
    if code in (stream_bos, stream_eos):
        name = "BOS" if code == stream_bos else "EOS"
        problem += f" {code} is the stream {name}, which the collator adds itself: give the codec's codes only."
    return problem


def wrong_codebooks(shape, want: int, source: str, *, subject: str = "a clip", option: Optional[str] = None) -> str:
    """Codes whose K is not the batch's `want` (`source` says why it is expected): their shape, and the
    transpose where (L, K) fits; else, with `option`, the option to pass for a codec of that K."""
    k, length = shape
    problem = f"has shape ({k}, {length}), {k} codebooks, {source}; {subject} is (K, L): K codebooks by L frames."
    if length == want:
        return f"{problem} It looks like (L, K): pass it transposed (codes.T)."
    if option is not None:
        return f"{problem} If the codec has {k} codebooks, pass {option}={k}."
    return f"{problem} Every clip of a batch has the same number of codebooks."
