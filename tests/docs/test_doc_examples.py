"""The documentation's examples, run unchanged, do what the documentation says.

Every ```python block of README.md and of the pages under docs/ runs as written; where a block stands for a
user's code over their data (`features`, `samples`, `model`, `train_dataset`, ...), the test supplies that data:
multi-turn chats with start_index, labeled by boson-multimodal's real prepare_chatml_sample, and checks the
labels that come out. The `inspect` transcripts are rerun and every line they show must appear in the real
output.
"""

import random
import re
import shlex
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch
from chatml_chats import higgs_sample, prepared, random_chat
from doc_blocks import block, blocks, doc_files, tagged
from higgs_samples import assert_batches_equal

from fastcollate import ChatCollator, presets
from fastcollate.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


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
    model = transformers.LlamaForCausalLM(
        transformers.LlamaConfig(
            vocab_size=128256,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=512,
        )
    )
    seen = []
    model.register_forward_pre_hook(
        lambda m, a, kw: seen.append((kw["input_ids"], kw["attention_mask"], kw["labels"])), with_kwargs=True
    )
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
    model.register_forward_pre_hook(
        lambda m, a, kw: seen.append((kw["input_ids"], kw["attention_mask"], kw["labels"])), with_kwargs=True
    )
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


def data_namespace():
    """The data the blocks' comments describe, under the names they use."""
    import datasets
    import transformers

    data = chats(3)
    return data, {
        "features": features_of(data),
        "samples": [higgs_sample(c, random.Random(i), labels=True, start_index=False) for i, c in enumerate(data)],
        "ids": prepared(data[0])[0],
        "dataset_labels": prepared(data[0])[1],
        "response_ids": [128006, 78191, 128007, 271],
        "instruction_ids": [128006, 882, 128007, 271],
        "model": transformers.LlamaForCausalLM(
            transformers.LlamaConfig(
                vocab_size=128256, hidden_size=8, intermediate_size=8, num_hidden_layers=1, num_attention_heads=1
            )
        ),
        "train_dataset": datasets.Dataset.from_list(features_of(data)),
    }


def pages_with_python():
    return [p for p in doc_files() if blocks("python", p)]


@pytest.mark.parametrize("page", pages_with_python(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    """A page's blocks run in order, in one namespace holding the data the page's comments describe."""
    monkeypatch.chdir(tmp_path)
    pytest.importorskip("transformers")
    pytest.importorskip("datasets")
    data, ns = data_namespace()
    ran = []
    for tag, code in blocks("python", page):
        if tag in RUN_AS_SCRIPT or tag == "higgs_hf_training":  # higgs_hf_training needs transformers 5.x:
            continue  # the transformers 5.x tests (tests/higgs_hf/transformers/) run it
        if tag == "higgs_label_spec":  # its samples carry start_index instead of labels
            ns["samples"] = [
                higgs_sample(c, random.Random(i), labels=False, start_index=True) for i, c in enumerate(data)
            ]
        exec(code, ns)
        ran.append(code)
    if any("example.jsonl" in code for code in ran):
        assert Path("example.jsonl").is_file()


def test_every_tag_names_one_block():
    """Tests find blocks by tag, wherever they live: a tag used twice would test one block and not the other."""
    for tag, found in tagged().items():
        assert len(found) == 1, f"{tag!r} tags blocks in {[str(p.relative_to(ROOT)) for p, _ in found]}"
    assert {
        "dataloader",
        "trainer",
        "higgs",
        "higgs_hf_training",
        "chat_collator",
        "packed_attention",
        "offline_datasets",
        "higgs_label_spec",
        "higgs_hf",
        "higgs_hf_packed",
        "ops",
        "cuda",
    } <= tagged().keys()


def test_higgs_hf_example_shapes_and_correct_labels():
    ns = {}
    exec(block("higgs_hf"), ns)  # the block asserts the audio shape and the EOS count itself
    batch, processor = ns["batch"], ns["processor"]  # label_mode "correct" (the default) and "processor"
    assert set(batch) == {
        "input_ids",
        "attention_mask",
        "audio_input_ids",
        "audio_input_ids_mask",
        "labels",
        "audio_labels",
    }
    width = 16 - 1 + (250 + 2) + (8 - 1)  # <|AUDIO_OUT|> -> L + 2 audio tokens, then K - 1 delay tokens
    assert batch["input_ids"].shape == (2, width)
    assert batch["attention_mask"][1].tolist() == [0] * (width - 7) + [1] * 7  # text padded on the left
    assert not (processor["audio_labels"] == 1025).any()  # the processor's labels never learn the stream EOS
    assert (batch["labels"][0] != -100).sum() < (processor["labels"][0] != -100).sum()  # the prompt is masked


def test_ops_example_shapes():
    ns = {}
    exec(block("ops"), ns)  # the block asserts the round trip and the labels itself
    assert ns["delayed"].shape == ns["generation_mask"].shape == (16, 8, 757)
    assert ns["btk"].shape == (16, 757, 8)
    packed = ns["packed"]
    assert packed.offsets.tolist() == [0, 109, 318, 627]  # each clip: L + stream BOS/EOS + 7 delay columns
    assert packed.codes.shape == packed.labels.shape == (8, 627)


def test_cuda_example_puts_the_batch_on_the_device():
    data = chats(6)
    ns = {
        "features": features_of(data),
        "samples": [higgs_sample(c, random.Random(i), labels=True, start_index=False) for i, c in enumerate(data)],
    }
    exec(block("cuda"), ns)
    if not ns["cuda"]["usable"]:
        assert "batch" not in ns  # without a usable device the block does nothing
        return
    assert all(v.device.type == "cuda" for v in vars(ns["batch"]).values() if torch.is_tensor(v))
    assert all(v.device.type == "cuda" for v in ns["chat"].values() if torch.is_tensor(v))


def transcripts():
    """(argv, exit status or None, shown lines) of every `$ python -m fastcollate inspect` in ```text blocks."""
    out = []
    for page in doc_files():
        for _, text in blocks("text", page):
            lines = text.replace("\\\n", " ").splitlines()
            for k, line in enumerate(lines):
                if not line.startswith("$ python -m fastcollate "):
                    continue
                command, _, comment = line[2:].partition("#")
                status = re.search(r"exit status (\d)", comment)
                shown = []
                for later in lines[k + 1 :]:
                    if later.startswith("$ "):
                        break
                    if later.strip() not in ("...", ""):
                        shown.append(later)
                out.append((shlex.split(command)[4:], int(status.group(1)) if status else None, shown))
    return out


def test_inspect_transcripts_are_real(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(next(code for page in doc_files() for _, code in blocks("python", page) if "example.jsonl" in code), {})
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
            assert line in out[pos:], f"{argv}: documented line not in the output: {line!r}"
            pos = out.index(line, pos) + 1
        result = [line for line in shown if line.startswith("result: ")]
        if result:
            assert f"(exit {rc}" in result[0]
