"""The README's own examples, run unchanged, do what the README says.

Every ```python block of README.md runs as written; where a block stands for a user's code over their data
(`features`, `samples`, `model`, `train_dataset`, ...), the test supplies that data: multi-turn chats with
start_index, labeled by boson-multimodal's real prepare_chatml_sample, and checks the labels that come out.
The `inspect` transcripts are rerun and every line they show must appear in the real output.
"""

import random
import re
import shlex
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch

from fastcollate import ChatCollator, presets
from fastcollate.__main__ import main
from chatml_chats import higgs_sample, prepared, random_chat
from higgs_samples import assert_batches_equal

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def blocks(lang: str):
    """(tag, code) of every ```lang block, in order; tag from a `<!-- readme-test: tag -->` line just above."""
    found = []
    for m in re.finditer(rf"(?:<!-- readme-test: (\w+) -->\n)?```{lang}\n(.*?)```", README, re.S):
        found.append((m.group(1), m.group(2)))
    return found


def block(tag: str) -> str:
    codes = [code for t, code in blocks("python") if t == tag]
    assert len(codes) == 1, f"README has {len(codes)} python blocks tagged {tag!r}"
    return codes[0]


def chats(seed=0, n=6):
    rng = random.Random(seed)
    out = [random_chat(rng, start_choices=[None, 2, 3, 4]) for _ in range(n)]
    out[0].start_index = 2
    return [c for c in out if any(v != -100 for v in prepared(c)[1][1:])]


def features_of(chats_):
    return [{"input_ids": prepared(c)[0], "start_index": c.start_index} for c in chats_]


def test_chat_collator_example_labels_equal_prepare_chatml_sample():
    data = chats()
    ns = {"features": features_of(data)}
    exec(block("chat_collator"), ns)
    batch = ns["batch"]
    for i, chat in enumerate(data):
        assert batch["labels"][i][batch["attention_mask"][i].bool()].tolist() == prepared(chat)[1]


def test_higgs_examples_label_spec_equals_prepare_chatml_sample():
    """The first example collates samples labeled by prepare_chatml_sample; the label_spec example derives the
    labels from the ids and each sample's start_index: the batches are bit-identical."""
    data = chats(1)
    ns = {"samples": [higgs_sample(c, random.Random(i), labels=True, start_index=False) for i, c in enumerate(data)]}
    exec(block("higgs"), ns)
    given = ns["batch"]
    ns["samples"] = [higgs_sample(c, random.Random(i), labels=False, start_index=True) for i, c in enumerate(data)]
    exec(block("higgs_label_spec"), ns)
    assert_batches_equal(ns["batch"], given)
    text = given.label_ids[0][given.attention_mask[0].bool()].tolist()
    assert text == [-100 if v == 128016 else v for v in prepared(data[0])[1]]  # <|AUDIO_OUT|> label masked


# The example keeps the Trainer's defaults, whose pin_memory=True warns on a machine without an accelerator.
@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true:UserWarning")
def test_trainer_example_trains_on_prepare_chatml_sample_labels(tmp_path, monkeypatch):
    transformers = pytest.importorskip("transformers")
    datasets = pytest.importorskip("datasets")
    pytest.importorskip("accelerate")
    monkeypatch.chdir(tmp_path)  # the example writes to ./out
    data = chats(2, n=8)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=128256, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=512))
    seen = []
    model.register_forward_pre_hook(lambda m, a, kw: seen.append((kw["input_ids"], kw["attention_mask"],
                                                                    kw["labels"])), with_kwargs=True)
    ns = {"model": model, "train_dataset": datasets.Dataset.from_list(features_of(data))}
    exec(block("trainer"), ns)
    ns["trainer"].args.max_steps = 2  # the example as written trains 3 epochs; two steps prove the point
    ns["trainer"].args.report_to = []
    ns["trainer"].train()
    want = {tuple(prepared(c)[0]): prepared(c)[1] for c in data}
    assert seen
    for ids, mask, labels in seen:
        for i in range(ids.shape[0]):
            real = mask[i].bool()
            assert labels[i][real].tolist() == want[tuple(ids[i][real].tolist())]


# datasets pickles a map function into its worker processes together with the globals it was defined in: an
# exec() namespace is not a module, so this block runs as a script instead (tests/test_integration_datasets.py).
RUN_AS_SCRIPT = {"offline_datasets"}


def test_dataloader_example_trains_on_prepare_chatml_sample_labels():
    datasets = pytest.importorskip("datasets")
    from tiny_llama import tiny_llama

    data = chats(4, n=8)
    model, seen = tiny_llama(), []
    model.register_forward_pre_hook(lambda m, a, kw: seen.append((kw["input_ids"], kw["attention_mask"],
                                                                    kw["labels"])), with_kwargs=True)
    exec(block("dataloader"), {"model": model, "train_dataset": datasets.Dataset.from_list(features_of(data))})
    want = {tuple(prepared(c)[0]): prepared(c)[1] for c in data}
    assert sum(ids.shape[0] for ids, _, _ in seen) == len(data)  # every row, once
    for ids, mask, labels in seen:
        for i in range(ids.shape[0]):
            real = mask[i].bool()
            assert labels[i][real].tolist() == want[tuple(ids[i][real].tolist())]
    assert all(p.grad is not None for p in model.parameters())


def test_packed_attention_example_loss_is_the_unpacked_loss():
    from tiny_llama import tiny_llama

    data = chats(5)
    ns = {"model": tiny_llama("sdpa").eval(), "features": features_of(data)}
    exec(block("packed_attention"), ns)
    padded = ns["model"](**ChatCollator(presets.llama3(), 128001)(features_of(data))).loss
    assert torch.allclose(ns["loss"], padded, rtol=1e-5), (float(ns["loss"]), float(padded))
    assert ns["flash"].packed and ns["flash"].block_mask_dtype is None


def test_every_python_block_runs(tmp_path, monkeypatch):
    """Blocks run in order, in one namespace holding the data the README's comments describe."""
    monkeypatch.chdir(tmp_path)
    pytest.importorskip("transformers")
    pytest.importorskip("datasets")
    import datasets
    import transformers

    data = chats(3)
    ns = {
        "features": features_of(data),
        "samples": [higgs_sample(c, random.Random(i), labels=True, start_index=False) for i, c in enumerate(data)],
        "ids": prepared(data[0])[0], "dataset_labels": prepared(data[0])[1],
        "response_ids": [128006, 78191, 128007, 271], "instruction_ids": [128006, 882, 128007, 271],
        "model": transformers.LlamaForCausalLM(transformers.LlamaConfig(
            vocab_size=128256, hidden_size=8, intermediate_size=8, num_hidden_layers=1, num_attention_heads=1)),
        "train_dataset": datasets.Dataset.from_list(features_of(data)),
    }
    for tag, code in blocks("python"):
        if tag in RUN_AS_SCRIPT or tag == "hf_higgs_training":  # hf_higgs_training needs transformers 5.x:
            continue  # tests/hf_higgs/test_readme_training.py runs it
        if tag == "higgs_label_spec":  # its samples carry start_index instead of labels
            ns["samples"] = [higgs_sample(c, random.Random(i), labels=False, start_index=True)
                             for i, c in enumerate(data)]
        exec(code, ns)
    assert Path("example.jsonl").is_file()


def transcripts():
    """(argv, exit status or None, shown lines) of every `$ python -m fastcollate inspect` in ```text blocks."""
    out = []
    for _, text in blocks("text"):
        lines = text.replace("\\\n", " ").splitlines()
        for k, line in enumerate(lines):
            if not line.startswith("$ python -m fastcollate "):
                continue
            command, _, comment = line[2:].partition("#")
            status = re.search(r"exit status (\d)", comment)
            shown = []
            for later in lines[k + 1:]:
                if later.startswith("$ "):
                    break
                if later.strip() not in ("...", ""):
                    shown.append(later)
            out.append((shlex.split(command)[4:], int(status.group(1)) if status else None, shown))
    return out


def test_inspect_transcripts_are_real(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(next(code for _, code in blocks("python") if "example.jsonl" in code), {})
    runs = transcripts()
    assert len(runs) == 3
    for argv, status, shown in runs:
        with mock.patch.object(sys, "argv", ["fastcollate/__main__.py"]):
            rc = main(["inspect", *argv])
        out = capsys.readouterr().out.splitlines()
        if status is not None:
            assert rc == status, argv
        pos = 0
        for line in shown:  # in the order shown
            assert line in out[pos:], f"{argv}: README line not in the output: {line!r}"
            pos = out.index(line, pos) + 1
        result = [line for line in shown if line.startswith("result: ")]
        if result:
            assert f"(exit {rc}" in result[0]
