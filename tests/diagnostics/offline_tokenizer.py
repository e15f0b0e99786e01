"""A tiny Llama-3-style tokenizer built offline (the `tokenizers` package, no download): its own ids, the chat
template's special tokens, a byte-level pre-tokenizer and decoder as Llama-3's, saved as DIR/tokenizer.json."""

from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

SPECIAL = [
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|finetune_right_pad_id|>",
    "<|audio_out_bos|>",
    "<|AUDIO_OUT|>",
    "<|audio_eos|>",
]
WORDS = [
    "system",
    "user",
    "assistant",
    "ipython",
    "Be",
    "Ġbrief",
    ".",
    "Hi",
    "Ġthere",
    "Hello",
    "!",
    "Ġworld",
    "Say",
    "Ġit",
]


def build_tokenizer(folder: Path) -> Path:
    """Writes folder/tokenizer.json; returns the folder."""
    vocab = {tok: i for i, tok in enumerate(["<unk>"] + SPECIAL + WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(SPECIAL)
    # Llama-3 has one token for "\n\n" (the header's end): an added token here, decoded as it is.
    tokenizer.add_tokens([AddedToken("\n\n", normalized=False)])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def encode(folder: Path, text: str):
    return Tokenizer.from_file(str(Path(folder) / "tokenizer.json")).encode(text, add_special_tokens=False).ids
