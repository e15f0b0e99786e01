"""PackingSampler + ChatCollator(packed=True) in a Hugging Face Trainer, on a tiny random Llama: its first step's
loss equals the loss of the padded batch of the same samples (the block mask keeps packed samples apart), and
training lowers the loss."""

import pytest
import torch
from tiny_llama import tiny_llama, transformers

from fastcollate import ChatCollator, PackingSampler, presets
from fastcollate.synthetic import synthetic_text_batch

pytest.importorskip("accelerate")
PAD = 128001


def features(n=24, seed=0):
    lengths = [20 + (7 * k) % 60 for k in range(n)]
    return [
        {"input_ids": synthetic_text_batch(1, m, seed=seed + k, exchanges=1)[0].input_ids.tolist()}
        for k, m in enumerate(lengths)
    ]


class PackedTrainer(transformers.Trainer):
    """A Trainer whose training batches are the sampler's packs (a batch sampler, not a batch size)."""

    def __init__(self, *args, sampler, **kwargs):
        super().__init__(*args, **kwargs)
        self.sampler = sampler

    def get_train_dataloader(self):
        return torch.utils.data.DataLoader(
            self.train_dataset, batch_sampler=self.sampler, collate_fn=self.data_collator
        )


def test_first_packed_step_is_the_padded_batch_and_loss_falls(tmp_path):
    data = features()
    lengths = [len(f["input_ids"]) for f in data]
    sampler = PackingSampler(lengths, 256, seed=0)
    first = next(iter(sampler))
    packed = ChatCollator(presets.llama3(), PAD, packed=True, block_mask_dtype=torch.float32)
    padded = ChatCollator(presets.llama3(), PAD)
    model = tiny_llama("eager")
    with torch.no_grad():
        packed_loss = model(**packed([data[i] for i in first])).loss
        padded_loss = model(**padded([data[i] for i in first])).loss
    assert torch.allclose(packed_loss, padded_loss, atol=1e-5), (packed_loss, padded_loss)

    losses = []

    class Record(transformers.TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                losses.append(logs["loss"])

    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=20,
        learning_rate=3e-2,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        remove_unused_columns=False,
        dataloader_pin_memory=False,
    )
    trainer = PackedTrainer(
        model=model, args=args, train_dataset=data, data_collator=packed, sampler=sampler, callbacks=[Record()]
    )
    trainer.train()
    assert len(losses) >= 15  # one log per step (the Trainer folds the last into its summary)
    assert losses[0] == pytest.approx(float(padded_loss), abs=1e-4)
    assert sum(losses[-5:]) / 5 < 0.8 * losses[0]
