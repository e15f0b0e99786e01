"""PackingSampler + HiggsAudioV2Collator(packed=True) in a transformers Trainer, on a tiny random
HiggsAudioV2ForConditionalGeneration: the first step's loss is the loss of the padded batch of the same
features, and training lowers it."""

import pytest
import torch
import transformers
from test_packed_training import K, random_pack, tiny_model

import fastcollate

pytest.importorskip("accelerate")


def features(n=20):
    out, seed = [], 0
    while len(out) < n:
        out += random_pack(seed, "correct")
        seed += 1
    return out[:n]


class PackedTrainer(transformers.Trainer):
    """A Trainer whose training batches are the sampler's packs (a batch sampler, not a batch size)."""

    def __init__(self, *args, sampler, **kwargs):
        super().__init__(*args, **kwargs)
        self.sampler = sampler

    def get_train_dataloader(self):
        return torch.utils.data.DataLoader(
            self.train_dataset, batch_sampler=self.sampler, collate_fn=self.data_collator
        )


def train(tmp_path, collator, batches, steps):
    """The losses a Trainer logs over `steps` steps of `batches` (a batch sampler) on a fresh tiny model."""
    losses = []

    class Record(transformers.TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                losses.append(logs["loss"])

    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=steps,
        learning_rate=1e-2,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        remove_unused_columns=False,
        dataloader_pin_memory=False,
    )
    trainer = PackedTrainer(
        model=tiny_model("eager"),
        args=args,
        train_dataset=DATA,
        data_collator=collator,
        sampler=batches,
        callbacks=[Record()],
    )
    out = trainer.train()
    return losses + ([out.training_loss] if steps == 1 and not losses else [])


DATA = features()
PACKED = fastcollate.HiggsAudioV2Collator(128001, label_mode="correct", num_codebooks=K, packed=True, on_empty="keep")
PADDED = fastcollate.HiggsAudioV2Collator(128001, label_mode="correct", num_codebooks=K, on_empty="keep")


def test_first_packed_step_is_the_padded_batch_and_loss_falls(tmp_path):
    lengths = [PACKED([f])["input_ids"].shape[1] for f in DATA]  # row positions: text and every clip's frames
    sampler = fastcollate.PackingSampler(lengths, 512, seed=0)
    first = next(iter(sampler))
    model = tiny_model("eager")
    with torch.no_grad():  # the model keeps the packed features apart: the same loss as padded
        torch.testing.assert_close(
            model(**PACKED([DATA[i] for i in first])).loss, model(**PADDED([DATA[i] for i in first])).loss
        )
    padded_first = train(tmp_path / "padded", PADDED, [first], 1)[0]  # the Trainer's own loss normalisation
    losses = train(tmp_path / "packed", PACKED, sampler, 20)
    assert len(losses) >= 15
    assert losses[0] == pytest.approx(padded_first, abs=1e-4)
    assert sum(losses[-5:]) / 5 < 0.9 * losses[0]
