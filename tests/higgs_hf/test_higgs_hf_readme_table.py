"""The README's table of what the processor's labels train vs label_mode="correct", recounted on its batch."""

import sys
from pathlib import Path

import torch

import fastcollate
from fastcollate.diagnostics.higgs_hf_audio import sample_audio

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from higgs_hf_batch import features  # noqa: E402

README = (ROOT / "README.md").read_text()


def counts(mode):
    feats = features() if mode == "processor" else [{**f, "start_index": 3} for f in features()]
    b = fastcollate.HiggsAudioV2Collator(128001, label_mode=mode)(feats)
    ids, mask = b["input_ids"], b["attention_mask"].bool()
    learned = (b["labels"] != -100) & mask
    prompt = torch.zeros_like(mask)  # everything before the last assistant turn's content
    for r in range(ids.shape[0]):
        prompt[r, : (ids[r] == 78191).nonzero().flatten()[-1] + 3] = True
    labels, audio = b["audio_labels"], b["audio_input_ids"]
    voice = target = 0
    for r in range(ids.shape[0]):  # clip 0 is the reference voice, clip 1 the target speech
        first, second = (audio[r, :, 0] == 1024).nonzero().flatten().tolist()
        end = int(b["audio_input_ids_mask"][r].sum())
        voice += int((labels[r, first:second] != -100).sum())
        target += int((labels[r, second:end] != -100).sum())
    return [
        int(mask.sum()),
        int(learned.sum()),
        int((learned & prompt).sum()),
        int((learned & (ids == 128014)).sum()),
        voice,
        target,
        int((labels == 1025).sum()),
        sum(s.clips_without_eos for s in sample_audio(b)),
    ]


def test_readme_table_counts():
    processor, correct = counts("processor"), counts("correct")
    assert processor[0] == correct[0]
    rows = [
        f"| text labels learned, of {processor[0]:,} real tokens | {processor[1]:,} | {correct[1]:,} |",
        f"| ... in the prompt (system, user, the reference voice's turn, headers) | {processor[2]:,} | {correct[2]:,} |",
        f"| ... of them delay tokens (audio frames, not text) | {processor[3]:,} | {correct[3]:,} |",
        f"| audio labels of the 16 reference voices | {processor[4]:,} | {correct[4]:,} |",
        f"| audio labels of the 16 target clips | {processor[5]:,} | {correct[5]:,} |",
        f"| ... of them stream EOS (16 clips x 8 codebooks: where generation stops) | {processor[6]:,} | {correct[6]:,} |",
        f"| learned clips that never learn their stream EOS | {processor[7]:,} | {correct[7]:,} |",
    ]
    for row in rows:
        assert row in README, row
