"""Through a Hugging Face Trainer, start_index features reach ChatCollator only with remove_unused_columns=False
(the README's Trainer example): the labels that reach the model are then prepare_chatml_sample's. With the
Trainer's default the column is dropped before the collator, which then learns every assistant turn."""

import random

import pytest
from chatml_chats import prepared, random_chat
from tiny_llama import tiny_llama

from fastcollate import ChatCollator, presets

transformers = pytest.importorskip("transformers")
datasets = pytest.importorskip("datasets")
pytest.importorskip("accelerate")

PAD = 128001


def chats_with_context_turns(n=8):
    """Chats whose start_index masks at least one assistant turn that would otherwise be learned."""
    rng, out = random.Random(11), []
    while len(out) < n:
        chat = random_chat(rng, start_choices=[3, 4, 5])
        chat.start_index = None
        everything = prepared(chat)[1]
        chat.start_index = rng.choice([3, 4, 5])
        ids, labels = prepared(chat)
        if labels != everything and any(v != -100 for v in labels):
            out.append((ids, chat.start_index, labels))
    return out


def train_and_record(tmp_path, rows, **args):
    """Two training steps; returns every (input_ids, attention_mask, labels) the model was called with."""
    seen = []
    model = tiny_llama()

    def record(module, pos_args, kwargs):
        seen.append((kwargs["input_ids"], kwargs["attention_mask"], kwargs["labels"]))

    model.register_forward_pre_hook(record, with_kwargs=True)
    dataset = datasets.Dataset.from_list([{"input_ids": ids, "start_index": start} for ids, start, _ in rows])
    training = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        max_steps=2,
        learning_rate=1e-3,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        **args,
    )
    trainer = transformers.Trainer(
        model=model,
        args=training,
        train_dataset=dataset,
        data_collator=ChatCollator(presets.llama3(), pad_token_id=PAD, on_empty="keep"),
    )
    trainer.train()
    return seen


def expected_labels(rows):
    return {tuple(ids): labels for ids, _, labels in rows}


def test_labels_reaching_the_model_honour_start_index(tmp_path):
    rows = chats_with_context_turns()
    seen = train_and_record(tmp_path, rows, remove_unused_columns=False)
    want = expected_labels(rows)
    assert len(seen) == 2
    for input_ids, mask, labels in seen:
        for i in range(input_ids.shape[0]):
            real = mask[i].bool()
            assert labels[i][real].tolist() == want[tuple(input_ids[i][real].tolist())]


def test_trainer_default_drops_start_index(tmp_path):
    """What the README warns about: remove_unused_columns=True removes the column before the collator."""
    rows = chats_with_context_turns()
    seen = train_and_record(tmp_path, rows)
    want = expected_labels(rows)
    learned = sum(int((labels != -100).sum()) for _, _, labels in seen)
    should = sum(
        sum(v != -100 for v in want[tuple(ids[i][m[i].bool()].tolist())])
        for ids, m, _ in seen
        for i in range(ids.shape[0])
    )
    assert learned > should
