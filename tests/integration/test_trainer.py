"""ChatCollator as a transformers Trainer's data_collator: a tiny random Llama trains a few steps on assistant-only
labels (a small dataset repeated, so it can fit it) and its loss goes down, padded and packed."""

import pytest
import torch
from tiny_llama import tiny_llama, transformers

from fastcollate import ChatCollator, label_stats, presets
from fastcollate.synthetic import synthetic_text_batch

datasets = pytest.importorskip("datasets")
pytest.importorskip("accelerate")

PAD = 128001


class LossLog(transformers.TrainerCallback):
    def __init__(self):
        self.losses = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(logs["loss"])


def train(tmp_path, collator, attn):
    rows = [{"input_ids": s.input_ids.tolist()} for s in synthetic_text_batch(4, 48, seed=9, exchanges=2)] * 8
    first = collator(rows[:4])
    stats = label_stats(first)
    assert 0 < stats.total_learned < stats.total_tokens  # assistant turns only
    log = LossLog()
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        max_steps=12,
        learning_rate=1e-2,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_pin_memory=False,
        seed=0,
    )
    trainer = transformers.Trainer(
        model=tiny_llama(attn),
        args=args,
        callbacks=[log],
        data_collator=collator,
        train_dataset=datasets.Dataset.from_list(rows),
    )
    trainer.train()
    return log.losses


@pytest.mark.parametrize("packed", [False, True])
def test_loss_decreases(tmp_path, packed):
    extra = {"packed": True, "block_mask_dtype": torch.float32} if packed else {}
    losses = train(tmp_path, ChatCollator(presets.llama3(), pad_token_id=PAD, **extra), "eager" if packed else "sdpa")
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < 0.9 * sum(losses[:3]) / 3, losses
