"""TRL 0.19.1's DataCollatorForCompletionOnlyLM vs ChatCollator on the same Python lists, in one run.

TRL needs transformers >= 4.51, which the upstream reference's pin (4.46.3) excludes, so this file runs in its
own venv: `bash benchmarks/peers/run_trl.sh` (it is skipped in the main venv). Same rows and labels as
benchmarks/test_bench_inputs.py: 32 Llama-3 chats x 2048 tokens, completion-only labels.
"""

import pytest
import torch

trl = pytest.importorskip("trl")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from fastcollate import ChatCollator, presets  # noqa: E402
from fastcollate.synthetic import LLAMA3_IDS as t  # noqa: E402
from fastcollate.synthetic import synthetic_text_batch  # noqa: E402

GROUP = "trl-32x2048"
RESPONSE = [t.start_header, t.assistant, t.end_header, t.double_newline]
INSTRUCTION = [t.start_header, t.user, t.end_header, t.double_newline]
ROWS = [s.input_ids.tolist() for s in synthetic_text_batch(32, 2048, seed=0, exchanges=3)]
TOKENS = sum(len(r) for r in ROWS)


def trl_collator():
    # A tokenizer only for padding: TRL's collator pads through it and reads pad_token_id.
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizers.Tokenizer(tokenizers.models.WordLevel({"<pad>": t.pad}, unk_token="<pad>")),
        pad_token="<pad>",
    )
    return trl.DataCollatorForCompletionOnlyLM(
        response_template=RESPONSE, instruction_template=INSTRUCTION, tokenizer=tok
    )


def ours():
    return ChatCollator(presets.completion_only(RESPONSE, INSTRUCTION), t.pad, backend="cpu")


@pytest.fixture(scope="module")
def want():
    return ours()([{"input_ids": r} for r in ROWS])


def test_trl_lists(record, want):
    collate = trl_collator()
    features = [{"input_ids": r} for r in ROWS]
    got = record(GROUP, "trl_lists", lambda: collate(features), items=TOKENS)
    assert torch.equal(got["input_ids"], want["input_ids"])
    assert torch.equal(got["labels"], want["labels"])  # the same labels on these well-formed chats


def test_fastcollate_lists(record, want):
    collate = ours()
    features = [{"input_ids": r} for r in ROWS]
    got = record(GROUP, "fastcollate_lists", lambda: collate(features), items=TOKENS)
    assert torch.equal(got["labels"], want["labels"])


def test_fastcollate_tensors(record, want):
    collate = ours()
    features = [{"input_ids": torch.tensor(r)} for r in ROWS]
    got = record(GROUP, "fastcollate_tensors", lambda: collate(features), items=TOKENS)
    assert torch.equal(got["labels"], want["labels"])


# The README's "Differences from TRL", checked against TRL itself (tiny templates: response 10 11, instruction
# 20 21). fastcollate's side is tested in tests/rolespan/test_rolespan_completion.py.
NO_INSTRUCTION = [1, 5, 6, 10, 11, 30, 31, 2]
EMPTY_FIRST_RESPONSE = [1, 10, 11, 20, 21, 5, 10, 11, 30, 2]


def test_trl_differences_documented_in_the_readme():
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizers.Tokenizer(tokenizers.models.WordLevel({"<pad>": 0}, unk_token="<pad>")),
        pad_token="<pad>",
    )
    collate = trl.DataCollatorForCompletionOnlyLM(
        response_template=[10, 11], instruction_template=[20, 21], tokenizer=tok
    )

    def learned(ids):
        return [v for v in collate([{"input_ids": ids}])["labels"][0].tolist() if v != -100]

    with pytest.warns(UserWarning, match="Could not find instruction key"):
        assert learned(NO_INSTRUCTION) == []  # TRL masks the whole sample
    assert learned(EMPTY_FIRST_RESPONSE) == [20, 21, 5, 10, 11, 30, 2]  # TRL learns the user turn
