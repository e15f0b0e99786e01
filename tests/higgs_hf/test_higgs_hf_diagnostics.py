"""label_stats, explain and inspect on transformers Higgs Audio v2 batches (HiggsAudioV2Collator's format)."""

import sys
from unittest import mock

import pytest
import torch
from higgs_hf_features import AUDIO, PAD

import fastcollate
from fastcollate.__main__ import main

ASSISTANT = [128006, 78191, 128007, 271, 128013, AUDIO, 128012, 128009]
FEATURES = [
    {"input_ids": [128000] + ASSISTANT, "audio_codes": [torch.arange(6).reshape(2, 3)]},  # K=2, L=3
    {"input_ids": [128000, 128006, 882, 128007, 271, 5, 128009]},
]


def batch(label_mode):
    return fastcollate.HiggsAudioV2Collator(PAD, label_mode=label_mode, num_codebooks=2, on_empty="keep")(FEATURES)


def test_label_stats_counts_per_sample_codebook_and_clip():
    stats = fastcollate.label_stats(batch("processor"))
    # Text: everything but the 5 <|AUDIO_OUT|> and <|audio_out_bos|>; the delay token is learned.
    assert stats.tokens == [14, 7] and stats.learned == [8, 7]
    assert stats.sample_codebook_learned == [[3, 3], [0, 0]]  # the codes only
    assert stats.sample_clips == [1, 0] and stats.sample_clips_without_eos == [1, 0]
    assert "!! 1 learned clip(s) never learn their stream EOS" in str(stats)

    stats = fastcollate.label_stats(batch("correct"))
    assert stats.learned == [3, 0]  # <|audio_out_bos|>, <|audio_eos|>, <|eot_id|>
    assert stats.sample_codebook_learned == [[4, 4], [0, 0]]  # codes and the stream EOS
    assert stats.sample_clips_without_eos == [0, 0]
    assert stats.sample_audio_learned == [8, 0] and stats.sample_audio_labels == [12, 0]
    assert "nothing learned" in str(stats).splitlines()[2]  # sample 1: a user turn only


def test_explain_says_which_clip_is_learned():
    feature = {
        "input_ids": [128000, 128006, 882, 128007, 271, AUDIO, 128009] + ASSISTANT,
        "audio_codes": [torch.zeros((8, 40), dtype=torch.long), torch.zeros((8, 2), dtype=torch.long)],
    }
    text = fastcollate.explain(feature, fastcollate.presets.llama3())
    assert "clip 0 at position 5: 8 codebooks x 40 codes, no-train (its placeholder is not in a learned turn)" in text
    assert "clip 1 at position 12: 8 codebooks x 2 codes, learned: its codes and stream EOS" in text
    flagged = fastcollate.explain({**feature, "audio_no_train": [False, True]}, fastcollate.presets.llama3())
    assert "clip 1 at position 12: 8 codebooks x 2 codes, no-train (audio_no_train)" in flagged


@pytest.mark.parametrize(
    "label_mode, status, audio",
    [("processor", 1, "[3, 3]; 1 clip(s); 1 without EOS"), ("correct", 0, "[4, 4]; 1 clip(s); 0 without EOS")],
)
def test_inspect_a_saved_batch(tmp_path, capsys, label_mode, status, audio):
    path = tmp_path / "batch.pt"
    torch.save(dict(batch(label_mode)), path)
    with mock.patch.object(sys, "argv", ["fastcollate"]):
        rc = main(["inspect", str(path), "--allow-empty"])
    out = capsys.readouterr().out
    assert rc == status
    assert "with the Higgs Audio v2 placeholders [128016, 128014] masked" in out
    assert f"sample 0: {audio}" in out
    if label_mode == "processor":
        assert "!! 1 sample with learned clips that never learn their stream EOS" in out
    else:
        assert "sample 0: OK, given labels match the spec (3 learned)" in out
