"""show_labels: the token view of every batch format, on a terminal (ANSI colors) and off one ([brackets]),
with a tokenizer built offline or with ids alone."""

import io
import os
import re

import pytest
import torch
from offline_tokenizer import build_tokenizer, encode

from fastcollate import ChatCollator, HiggsAudioSampleCollator, HiggsAudioV2Collator, presets, show_labels
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_tts_batch

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CHAT = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\nHello world!<|eot_id|>"
)
# Released Llama-3 ids: <|begin_of_text|>, then system, user and assistant turns.
IDS = [128000, 128006, 9125, 128007, 271, 2675, 128009, 128006, 882, 128007, 271, 13347, 128009]
IDS += [128006, 78191, 128007, 271, 9906, 0, 128009]
V2_CHAT = [128000, 128006, 882, 128007, 271, 5, 6, 128009, 128006, 78191, 128007, 271, 128013, 128016, 128012, 128009]


def view(*args, **kwargs) -> str:
    out = io.StringIO()
    show_labels(*args, file=out, **kwargs)
    return out.getvalue()


@pytest.fixture
def tokenizer_dir(tmp_path):
    return build_tokenizer(tmp_path / "tokenizer")


def test_plain_view_of_features_with_an_offline_tokenizer(tokenizer_dir):
    ids = encode(tokenizer_dir, CHAT)
    text = view([{"input_ids": ids}, {"input_ids": ids, "start_index": 3}], tokenizer=tokenizer_dir)
    assert not ANSI.search(text)  # a StringIO is no terminal
    assert text.splitlines() == [
        "legend: [learned] masked; runs: <pad xN> <audio xN> <delay xN>; one line per turn",
        "sample 0: 24 tokens, 4 learned, 20 masked",
        "  outside turns     <|begin_of_text|>",
        "  turn 0 system     <|start_header_id|>system<|end_header_id|>\\n\\nBe brief.<|eot_id|>",
        "  turn 1 user       <|start_header_id|>user<|end_header_id|>\\n\\nHi there<|eot_id|>",
        "  turn 2 assistant  <|start_header_id|>assistant<|end_header_id|>\\n\\n[Hello world!<|eot_id|>]",
        "sample 1: 24 tokens, 0 learned, 24 masked; start_index=3",
        "  outside turns               <|begin_of_text|>",
        "  turn 0 system               <|start_header_id|>system<|end_header_id|>\\n\\nBe brief.<|eot_id|>",
        "  turn 1 user                 <|start_header_id|>user<|end_header_id|>\\n\\nHi there<|eot_id|>",
        "  turn 2 assistant (context)  <|start_header_id|>assistant<|end_header_id|>\\n\\nHello world!<|eot_id|>",
    ]


def test_terminal_view_is_colored_and_has_no_brackets(tokenizer_dir, monkeypatch):
    """On a real terminal (a pseudo-terminal's end): learned green, masked grey, titles cyan; no brackets."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    ids = encode(tokenizer_dir, CHAT)
    primary, secondary = os.openpty()
    try:
        with os.fdopen(secondary, "w", closefd=False) as tty:
            assert tty.isatty()
            show_labels([{"input_ids": ids}], tokenizer=tokenizer_dir, file=tty)
        text = os.read(primary, 1 << 16).decode().replace("\r\n", "\n")
    finally:
        os.close(primary)
        os.close(secondary)
    assert "\x1b[1;32mHello world!<|eot_id|>\x1b[0m" in text  # the learned span, green
    assert "\x1b[90m<|start_header_id|>assistant<|end_header_id|>\\n\\n\x1b[0m" in text  # masked, grey
    assert "\x1b[1;36m" in text and "[Hello" not in text
    plain = ANSI.sub("", text)
    assert "turn 2 assistant  <|start_header_id|>assistant<|end_header_id|>\\n\\nHello world!<|eot_id|>" in plain


def test_color_follows_the_argument_and_no_color(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    batch = ChatCollator(presets.llama3(), pad_token_id=128001)([{"input_ids": IDS}])
    out = Terminal()
    show_labels(batch, file=out)
    assert ANSI.search(out.getvalue())
    assert not ANSI.search(view(batch, color=False)) and ANSI.search(view(batch, color=True))
    monkeypatch.setenv("NO_COLOR", "1")
    out = Terminal()
    show_labels(batch, file=out)
    assert not ANSI.search(out.getvalue()) and "[9906 0 128009]" in out.getvalue()


def test_padded_batch_shows_padding_and_ids_without_a_tokenizer():
    collator = ChatCollator(presets.llama3(), pad_token_id=128001, on_empty="keep")
    batch = collator([{"input_ids": IDS}, {"input_ids": IDS[:13]}])
    lines = view(batch).splitlines()
    assert lines[1] == "sample 0: 20 tokens, 3 learned, 17 masked"
    assert "  turn 2 assistant  128006 78191 128007 271 [9906 0 128009]" in lines
    i = lines.index("sample 1: 13 tokens, 0 learned, 13 masked, 7 padding")
    assert lines[i + 1 :] == [
        "  outside turns  128000",
        "  turn 0 system  128006 9125 128007 271 2675 128009",
        "  turn 1 user    128006 882 128007 271 13347 128009",
        "  padding        <pad x7>",
    ]


def test_packed_batch_is_shown_sample_by_sample():
    batch = ChatCollator(presets.llama3(), pad_token_id=128001, packed=True)([{"input_ids": IDS}, {"input_ids": IDS}])
    text = view(batch)
    assert text.count("sample ") == 2 and "padding" not in text
    assert text.count("[9906 0 128009]") == 2


def test_higgs_v2_batch_marks_audio_and_delay_runs():
    g = torch.Generator().manual_seed(0)
    features = [
        {"input_ids": V2_CHAT, "audio_codes": [torch.randint(0, 1024, (8, 5 + i), generator=g)]} for i in range(2)
    ]
    processor = view(HiggsAudioV2Collator(pad_token_id=128001, label_mode="processor")(features))
    # The processor's labels learn the delay tokens and the prompt; the audio tokens are masked.
    assert "  turn 1 assistant  [128006 78191 128007 271] 128013 <audio x7> [<delay x7>] [128012 128009]" in processor
    assert "  padding           <pad x1>" in processor
    correct = view(HiggsAudioV2Collator(pad_token_id=128001, label_mode="correct")(features))
    assert "  turn 1 assistant  128006 78191 128007 271 [128013] <audio x8> <delay x7> [128012 128009]" in correct
    # Features with audio_codes are collated as label_mode="correct" would: the same view.
    assert view(features).split("sample 1")[1] == correct.split("sample 1")[1]


def test_higgs_boson_batch_marks_audio_out_and_audio_in():
    batch = HiggsAudioSampleCollator(**higgs_collator_kwargs())(synthetic_tts_batch(2, audio_seconds=(1, 1)))
    text = view(batch)
    assert text.count("<audio-in x1>") == 2 and text.count("<audio-out x1>") == 2
    assert "turn 2 assistant" in text and "padding" in text


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="has no tokenizer.json"):
        show_labels([{"input_ids": IDS}], tokenizer=tmp_path)
    with pytest.raises(ValueError, match="has no labels"):
        show_labels({"input_ids": torch.tensor([IDS])})
    with pytest.raises(ValueError, match="samples: 3 is out of range; the batch has 1 sample"):
        show_labels([{"input_ids": IDS}], samples=[3], file=io.StringIO())
    with pytest.raises(ValueError, match="start_index: expected one entry per sample"):
        show_labels([{"input_ids": IDS}], start_index=[1, 2], file=io.StringIO())


def test_a_transformers_tokenizer_object_reads_the_same(tokenizer_dir):
    transformers = pytest.importorskip("transformers")
    hf = transformers.PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_dir / "tokenizer.json"))
    ids = encode(tokenizer_dir, CHAT)
    features = [{"input_ids": ids + [999]}]  # an id the vocabulary lacks: #999
    assert view(features, tokenizer=hf) == view(features, tokenizer=tokenizer_dir)
    assert view(features, tokenizer=hf).endswith("  outside turns     #999\n")
