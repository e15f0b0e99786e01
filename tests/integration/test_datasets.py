"""Offline pre-collation with datasets: the README's block (`map(batched=True, num_proc=2)` with ChatCollator)
runs as a script, as a user runs it, and every stored batch, read back with its `unpack`, equals ChatCollator's
online batch of the same rows, bit for bit, dtypes and ints included."""

import json
import subprocess
import sys

import pytest
import torch
from chatml_chats import prepared, random_chat
from doc_blocks import block

from fastcollate import ChatCollator, presets

pytest.importorskip("datasets")

SCRIPT = """
import json, sys
import datasets, torch
dataset = datasets.Dataset.from_list(json.load(open(sys.argv[1])))
{block}
torch.save([unpack(row) for row in packed], sys.argv[2])  # in order, one batch per stored row
"""


def rows():
    """Chats with and without start_index, of varied lengths: 40 rows, so the 16-row blocks of the two worker
    processes' shares (20 rows each) are 16 + 4 rows, not aligned with any fixed batch boundary."""
    import random

    rng = random.Random(8)
    out = []
    while len(out) < 40:
        chat = random_chat(rng, start_choices=[None, 1, 2])
        ids, labels = prepared(chat)
        if any(v != -100 for v in labels[1:]):
            out.append({"input_ids": ids, "start_index": chat.start_index})
    return out


def test_offline_pre_collation_equals_the_online_batches(tmp_path):
    data = rows()
    (tmp_path / "rows.json").write_text(json.dumps(data))
    (tmp_path / "offline.py").write_text(SCRIPT.format(block=block("offline_datasets")))
    done = subprocess.run(
        [sys.executable, "offline.py", "rows.json", "batches.pt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Map (num_proc=2)" in done.stderr  # datasets' progress bar: two worker processes did the map
    stored = torch.load(tmp_path / "batches.pt", weights_only=False)

    online = ChatCollator(presets.llama3(), pad_token_id=128001, packed=True)
    consumed = 0
    for batch in stored:
        n = len(batch["cu_seq_lens_q"]) - 1  # the stored batch says how many rows it packed
        want = online(data[consumed : consumed + n])
        consumed += n
        assert batch.keys() == want.keys()
        for k, v in want.items():
            if torch.is_tensor(v):
                assert batch[k].dtype == v.dtype and torch.equal(batch[k], v), k
            else:
                assert type(batch[k]) is type(v) and batch[k] == v, k
    assert consumed == len(data)
    assert [len(b["cu_seq_lens_q"]) - 1 for b in stored] == [16, 4, 16, 4]
