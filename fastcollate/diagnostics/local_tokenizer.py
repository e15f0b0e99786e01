"""A tokenizer for the token view, read offline: a folder (or file) with `tokenizer.json`, or a tokenizer object.

The folder is read with the `tokenizers` package (transformers' own dependency), never downloaded. The view
needs two things from it: each id's text, and, to find the turns, the ids of the chat template's markers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..rolespan import presets
from ..rolespan.spec import RoleSpanSpec


class LocalTokenizer:
    """Each id's text (`piece`) and the matching chat preset (`chat_spec`), whatever the tokenizer's type."""

    def __init__(self, tokenizer):
        self._tok = tokenizer
        # transformers' tokenizers (convert_ids_to_tokens) and tokenizers.Tokenizer (id_to_token) both decode.
        self._hf = hasattr(tokenizer, "convert_ids_to_tokens")
        self._cache = {}

    def piece(self, token_id: int) -> Optional[str]:
        """The text of one id (None for an id the vocabulary does not hold)."""
        if token_id not in self._cache:
            self._cache[token_id] = self._piece(token_id)
        return self._cache[token_id]

    def _piece(self, token_id: int) -> Optional[str]:
        if token_id < 0:
            return None
        if self._hf:
            if token_id >= len(self._tok):
                return None
            return self._tok.decode([token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False)
        if self._tok.id_to_token(token_id) is None:
            return None
        return self._tok.decode([token_id], skip_special_tokens=False)

    # What presets.llama3 / presets.chatml read from a tokenizer, for either kind.
    def convert_tokens_to_ids(self, token: str):
        return self._tok.convert_tokens_to_ids(token) if self._hf else self._tok.token_to_id(token)

    def encode(self, text: str, add_special_tokens: bool = False):
        if self._hf:
            return self._tok.encode(text, add_special_tokens=add_special_tokens)
        return self._tok.encode(text, add_special_tokens=add_special_tokens).ids

    def chat_spec(self) -> Optional[RoleSpanSpec]:
        """presets.llama3 or presets.chatml with this tokenizer's ids, when it holds that template's markers."""
        if self.convert_tokens_to_ids("<|start_header_id|>") is not None:
            return presets.llama3(self)
        if self.convert_tokens_to_ids("<|im_start|>") is not None:
            return presets.chatml(self)
        return None


def load_tokenizer(tokenizer) -> Optional[LocalTokenizer]:
    """None, a folder or file path (`tokenizer.json`, read offline), or a tokenizer object."""
    if tokenizer is None or isinstance(tokenizer, LocalTokenizer):
        return tokenizer
    if isinstance(tokenizer, (str, Path)):
        path = Path(tokenizer)
        file = path / "tokenizer.json" if path.is_dir() else path
        if not file.is_file():
            raise ValueError(
                f"tokenizer: {path} has no tokenizer.json; give the folder a model's tokenizer was saved to "
                "(tokenizer.save_pretrained(DIR)), which holds it"
            )
        try:
            from tokenizers import Tokenizer
        except ImportError:  # pragma: no cover - transformers installs it
            raise ValueError("tokenizer: reading tokenizer.json needs the `tokenizers` package") from None
        try:
            return LocalTokenizer(Tokenizer.from_file(str(file)))
        except Exception as e:  # the Rust reader raises its own exception type
            raise ValueError(f"tokenizer: {file} could not be read: {e}") from None
    if hasattr(tokenizer, "convert_ids_to_tokens") or hasattr(tokenizer, "id_to_token"):
        return LocalTokenizer(tokenizer)
    raise ValueError(
        f"tokenizer: expected None, a folder with tokenizer.json or a tokenizer, got {type(tokenizer).__name__}"
    )
