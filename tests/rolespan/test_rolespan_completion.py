"""completion_only: TRL DataCollatorForCompletionOnlyLM semantics on hand-built id sequences.

`trl_labels` is a literal transcription of TRL's torch_call loop (the oracle for the cases where we promise
TRL's result); the documented differences are pinned by their own tests.
"""

import numpy as np
import pytest
import torch

from fastcollate.rolespan.native import collate_text_native
from fastcollate.rolespan.reference import IGNORE, mask_labels_reference
from fastcollate.rolespan.spec import completion_only

# "### Human:" and "### Assistant:" share their first token, as they do with real tokenizers.
HUMAN, ASSISTANT = [50, 51], [50, 52]
EOS = 2


def trl_labels(ids, response, instruction=None):
    """TRL's DataCollatorForCompletionOnlyLM.torch_call, for one unpadded row."""
    labels = np.array(ids)
    if instruction is None:
        start = None
        for idx in np.where(labels == response[0])[0]:
            if response == labels[idx : idx + len(response)].tolist():
                start = idx  # no break: the LAST occurrence wins
        if start is None:
            labels[:] = IGNORE
        else:
            labels[: start + len(response)] = IGNORE
        return labels.tolist()
    response_idxs, human_idxs = [], []
    for idx in np.where(labels == response[0])[0]:
        if response == labels[idx : idx + len(response)].tolist():
            response_idxs.append(idx + len(response))
    if not response_idxs:
        labels[:] = IGNORE
    for idx in np.where(labels == instruction[0])[0]:
        if instruction == labels[idx : idx + len(instruction)].tolist():
            human_idxs.append(idx)
    if not human_idxs:
        labels[:] = IGNORE
    if human_idxs and response_idxs and human_idxs[0] > response_idxs[0]:
        human_idxs = [0] + human_idxs
    for k, (start, end) in enumerate(zip(human_idxs, response_idxs)):
        if k != 0:
            labels[start:end] = IGNORE
        else:
            labels[:end] = IGNORE
    if len(response_idxs) < len(human_idxs):
        labels[human_idxs[-1] :] = IGNORE
    return labels.tolist()


def both(ids, spec):
    ref = mask_labels_reference(ids, spec)
    got = collate_text_native([torch.tensor(ids)], spec, 0)["labels"][0]
    assert torch.equal(ref, got)
    return ref.tolist()


SINGLE = [1, 10, 11] + ASSISTANT + [20, 21, EOS]
MULTI = [1] + HUMAN + [10, 11] + ASSISTANT + [20, 21] + HUMAN + [12] + ASSISTANT + [22, 23, EOS]


@pytest.mark.parametrize("ids", [SINGLE, [1, 10] + ASSISTANT, [1, 10, 11, EOS]], ids=["single", "at-end", "none"])
def test_single_turn_matches_trl(ids):
    assert both(ids, completion_only(ASSISTANT)) == trl_labels(ids, ASSISTANT)


def test_single_turn_learns_the_answer_only():
    assert both(SINGLE, completion_only(ASSISTANT)) == [IGNORE] * 5 + [20, 21, EOS]


@pytest.mark.parametrize(
    "ids",
    [
        MULTI,
        MULTI[:-4],
        [1] + ASSISTANT + [20] + HUMAN + [12] + ASSISTANT + [22],
        [1] + HUMAN + [10] + ASSISTANT + [20] + HUMAN + [12, 13],
    ],
    ids=["multi", "cut", "response-first", "trailing-human"],
)
def test_instruction_template_matches_trl(ids):
    assert both(ids, completion_only(ASSISTANT, HUMAN)) == trl_labels(ids, ASSISTANT, HUMAN)


def test_instruction_template_learns_every_assistant_turn():
    labels = both(MULTI, completion_only(ASSISTANT, HUMAN))
    assert [v for v in labels if v != IGNORE] == [20, 21, 22, 23, EOS]


def test_without_instruction_template_turns_last_is_trl():
    # TRL without an instruction template learns after the LAST response template only.
    assert both(MULTI, completion_only(ASSISTANT, turns="last")) == trl_labels(MULTI, ASSISTANT)


def test_without_instruction_template_default_learns_from_the_first_response():
    # Documented difference: every response span is learned (so is what lies between them, as nothing
    # delimits it); the templates stay masked.
    labels = both(MULTI, completion_only(ASSISTANT))
    assert [v for v in labels if v != IGNORE] == [20, 21] + HUMAN + [12] + [22, 23, EOS]


def test_consecutive_responses_are_both_learned():
    # TRL's zip() pairing misaligns here (two responses, one instruction); the state machine does not.
    ids = [1] + HUMAN + [10] + ASSISTANT + [20] + ASSISTANT + [21, EOS]
    assert [v for v in both(ids, completion_only(ASSISTANT, HUMAN)) if v != IGNORE] == [20, 21, EOS]


def test_from_start_index_counts_response_spans():
    spec = completion_only(ASSISTANT, HUMAN, turns="from_start_index")
    got = collate_text_native([torch.tensor(MULTI)], spec, 0, start_indices=[1])["labels"][0].tolist()
    assert [v for v in got if v != IGNORE] == [22, 23, EOS]


def test_always_masked_ids_stay_masked():
    assert [v for v in both(SINGLE, completion_only(ASSISTANT, always_masked=[EOS])) if v != IGNORE] == [20, 21]


# The README's "Differences from TRL" (templates: response 10 11, instruction 20 21). TRL's side comes from
# the transcription above; benchmarks/peers/test_bench_trl.py checks it against TRL 0.19.1 itself.
RESPONSE, INSTRUCTION = [10, 11], [20, 21]
NO_INSTRUCTION = [1, 5, 6, 10, 11, 30, 31, EOS]
EMPTY_FIRST_RESPONSE = [1, 10, 11, 20, 21, 5, 10, 11, 30, EOS]


def learned(labels):
    return [v for v in labels if v != IGNORE]


def test_instruction_template_absent_from_a_sample():
    """TRL masks the whole sample; the rules learn the response (it runs to the end: no instruction follows)."""
    assert learned(trl_labels(NO_INSTRUCTION, RESPONSE, INSTRUCTION)) == []
    assert learned(both(NO_INSTRUCTION, completion_only(RESPONSE, INSTRUCTION))) == [30, 31, EOS]


def test_empty_response_right_before_the_instruction():
    """TRL pairs the first instruction with the first (empty) response and learns the user turn; the rules end
    the empty response at the instruction template and learn only the real answer."""
    assert learned(trl_labels(EMPTY_FIRST_RESPONSE, RESPONSE, INSTRUCTION)) == [20, 21, 5, 10, 11, 30, EOS]
    assert learned(both(EMPTY_FIRST_RESPONSE, completion_only(RESPONSE, INSTRUCTION))) == [30, EOS]
