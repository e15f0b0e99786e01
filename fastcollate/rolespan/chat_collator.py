"""ChatCollator: text chat collation with labels computed from input_ids by a RoleSpanSpec.

Usable as a Hugging Face `data_collator` or a DataLoader `collate_fn`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Iterable, Optional

import torch

from ..common.checks import check_start_index, sample_error, stored_items
from ..common.empty_policy import check_on_empty, handle_empty
from ..common.sizes import INT64_MAX, out_of_int64
from ..runtime.backend import collator_device, resolve_backend
from .arrow_input import arrow_batch, is_arrow, rows_of
from .packed import block_causal_mask, check_block_mask_dtype
from .reference import collate_text_reference, empty_reason
from .spec import RoleSpanSpec

FEATURE_KEYS = ("input_ids", "start_index")


def _read_feature(i: int, feature, unread_reason: Optional[str], ignore_keys: frozenset):
    """(input_ids, start_index) of a feature Mapping, an object with .input_ids, or a bare id sequence."""
    if isinstance(feature, Mapping):
        for key in feature:
            if key not in FEATURE_KEYS and key not in ignore_keys:
                raise sample_error(
                    i,
                    str(key),
                    f"is not a feature ChatCollator reads ({', '.join(FEATURE_KEYS)}): "
                    "labels and attention_mask are computed from input_ids; drop the "
                    "key from the features or list it in ignore_keys to skip it",
                )
        if "input_ids" not in feature:
            raise sample_error(i, "input_ids", "missing from the feature")
        ids, start = feature["input_ids"], None if "start_index" in ignore_keys else feature.get("start_index")
    elif hasattr(feature, "input_ids"):
        ids, start = feature.input_ids, getattr(feature, "start_index", None)
    else:
        ids, start = feature, None
    # The ids are validated with the rest of the batch by the backend (same checks and messages on both).
    return ids, check_start_index(i, start, unread_reason)


class ChatCollator:
    """Pads (or packs) chats and labels them from their ids: see fastcollate/rolespan/spec.py for the rules.

    Returns a dict of torch tensors (B samples, W = the longest rounded up to pad_to_multiple_of):

    * padded (default): `input_ids`, `labels` (-100 = masked or padding) and `attention_mask` (1 = token,
      0 = padding), all int64 (B, W);
    * packed=True, one row of T = the samples' total length: `input_ids`, `labels` and `position_ids`
      (restarting at 0 per sample), int64 (1, T); the flash-attention varlen keys of transformers'
      `DataCollatorWithFlattening(return_flash_attn_kwargs=True)`: `cu_seq_lens_q` and `cu_seq_lens_k`
      (one int32 tensor of B + 1 cumulative lengths) and `max_length_q` and `max_length_k` (int, the longest
      sample). Only flash-attention varlen reads them (attn_implementation="flash_attention_2");
    * packed=True with `block_mask_dtype` (e.g. torch.bfloat16, the dtype attention runs in): also
      `attention_mask` of shape (1, 1, T, T) in that dtype, 0 where a token may attend (same sample, not in the
      future) and torch.finfo(dtype).min elsewhere: the 4-D mask eager and sdpa attention take as it is.
      Without it, eager and sdpa let packed samples attend to each other (see fastcollate/rolespan/packed.py).

    `num_learned` (int64 (B,), learned tokens per sample) is added when return_num_learned=True (off by
    default: HF Trainer passes every key to the model). on_empty: what to do with a sample that has no learned
    token ("error", "warn", "drop", "keep"). backend: "auto", "python" (the reference twin), "cpu" (compiled) or
    "cuda" (ids read on the host and copied once; masking, padding or packing on `device`, a CUDA device,
    torch's current one by default; on_empty other than "keep" then reads num_learned back, one small
    device-to-host copy per batch).

    Features: Mappings with "input_ids" (a list, 1-D tensor or array of ids) and an optional "start_index"
    (turns before it are context, not learned, as in prepare_chatml_sample), objects with those attributes, or
    bare id sequences. A start_index under a spec that does not read it, and any other key, are a ValueError
    naming the sample: nothing the features carry is silently ignored. `ignore_keys` names keys the collator
    should skip (e.g. ("messages",) for a dataset column kept for other uses; "start_index" there makes the
    collator skip the features' start_index on purpose).
    """

    def __init__(
        self,
        spec: RoleSpanSpec,
        pad_token_id: int,
        *,
        pad_left: bool = False,
        pad_to_multiple_of: Optional[int] = None,
        packed: bool = False,
        on_empty: str = "error",
        backend: str = "auto",
        return_num_learned: bool = False,
        ignore_keys: Iterable[str] = (),
        block_mask_dtype: Optional[torch.dtype] = None,
        device=None,
    ):
        if not isinstance(spec, RoleSpanSpec):
            raise ValueError(f"spec: expected a RoleSpanSpec, got {type(spec).__name__}")
        check_on_empty(on_empty)
        multiple = 1 if pad_to_multiple_of is None else pad_to_multiple_of
        if not isinstance(multiple, int) or isinstance(multiple, bool) or not 1 <= multiple <= INT64_MAX:
            raise ValueError(
                f"pad_to_multiple_of: expected an int >= 1 that fits in int64, or None, got {pad_to_multiple_of!r}"
            )
        if (
            isinstance(pad_token_id, bool)
            or not isinstance(pad_token_id, numbers.Integral)
            or out_of_int64(int(pad_token_id))
        ):
            raise ValueError(f"pad_token_id: expected an int64, got {pad_token_id!r}")
        if packed and multiple != 1:
            raise ValueError("pad_to_multiple_of: packed batches are not padded; leave it None")
        self.spec, self.pad_token_id, self.pad_left = spec, int(pad_token_id), pad_left
        self.pad_to_multiple_of, self.packed, self.on_empty = multiple, packed, on_empty
        self.return_num_learned = return_num_learned
        self.block_mask_dtype = check_block_mask_dtype(block_mask_dtype, packed)
        if isinstance(ignore_keys, str):
            raise ValueError(f"ignore_keys: expected a collection of key names, got the string {ignore_keys!r}")
        self.ignore_keys = frozenset(ignore_keys)
        if "input_ids" in self.ignore_keys:
            raise ValueError("ignore_keys: cannot contain 'input_ids', the ids every batch is made of")
        self.backend = resolve_backend(backend)
        self.device = collator_device(self.backend, device)
        self._unread_start_index = spec.unread_start_index_reason()

    def _collate(self, rows, starts) -> dict:
        kwargs = dict(
            pad_left=self.pad_left, pad_to_multiple_of=self.pad_to_multiple_of, packed=self.packed, start_indices=starts
        )
        if self.backend == "python":
            return collate_text_reference(rows, self.spec, self.pad_token_id, **kwargs)
        from .native import collate_text_native

        return collate_text_native(rows, self.spec, self.pad_token_id, device=self.device, **kwargs)

    def __call__(self, features) -> dict:
        if is_arrow(features):
            return self._collate_arrow(features)
        if not isinstance(features, (list, tuple)):
            raise ValueError(
                f"batch: expected a list of features or an Arrow column/table, got {type(features).__name__}"
            )
        features = stored_items(features)  # a list subclass's own __len__/__iter__/__getitem__ never runs
        if len(features) == 0:
            raise ValueError("batch: is empty, nothing to collate")
        read = [_read_feature(i, f, self._unread_start_index, self.ignore_keys) for i, f in enumerate(features)]
        rows, starts = [r for r, _ in read], [s for _, s in read]
        return self._finish(self._collate(rows, starts), rows, starts)

    def _collate_arrow(self, column) -> dict:
        """An Arrow batch: its buffers go to the compiled path as they are (see arrow_input.py)."""
        chunks, starts = arrow_batch(column, self._unread_start_index, self.ignore_keys)
        rows = rows_of(chunks)
        if not rows:
            raise ValueError("batch: is empty, nothing to collate")
        if self.backend in ("python", "cuda"):  # cuda: the rows are read and staged like any other rows
            return self._finish(self._collate(rows, starts), rows, starts)
        from .native import collate_text_chunks_native

        batch = collate_text_chunks_native(
            chunks,
            self.spec,
            self.pad_token_id,
            pad_left=self.pad_left,
            pad_to_multiple_of=self.pad_to_multiple_of,
            packed=self.packed,
            start_indices=starts,
        )
        return self._finish(batch, rows, starts if starts is not None else [None] * len(rows))

    def _finish(self, batch, rows, starts) -> dict:
        learned = batch["num_learned"]
        if self.on_empty != "keep" and not bool(learned.all()):  # one op in the usual case
            batch = self._on_empty(batch, rows, starts, torch.nonzero(learned == 0).flatten().tolist())
        if not self.return_num_learned:
            batch.pop("num_learned")
        if self.block_mask_dtype is not None:
            batch["attention_mask"] = block_causal_mask(batch["cu_seq_lens_q"], self.block_mask_dtype)
        return batch

    def _on_empty(self, batch, rows, starts, empty) -> dict:
        reasons = {i: empty_reason(rows[i], self.spec, starts[i]) for i in empty}
        keep = handle_empty(self.on_empty, reasons, len(rows))
        if keep is None:
            return batch
        return self._collate([rows[i] for i in keep], [starts[i] for i in keep])
