"""What `python -m fastcollate inspect` says: a batch saved without its start_index gets the --start-index to
try, a file without labels says so with what the spec learns, and a mismatch counts the positions that differ
and shows the first ones."""

import json

import torch
from inspect_run import inspect

import fastcollate
from fastcollate import presets
from fastcollate.rolespan.reference import mask_labels_reference
from fastcollate.synthetic import IGNORE, LLAMA3_IDS, synthetic_text_batch

T = LLAMA3_IDS
AUDIO_BOS, AUDIO, AUDIO_EOS = 128013, 128016, 128012


def two_exchanges(seed=0):
    """A Llama-3 chat of 5 turns: 0 system, 1 user, 2 assistant, 3 user, 4 assistant."""
    (s,) = synthetic_text_batch(1, 80, exchanges=2, seed=seed)
    return s.input_ids.tolist()


def write_jsonl(path, samples):
    with open(path, "w") as f:
        for s in samples:
            f.write(json.dumps(s) + "\n")
    return path


# ------------------------------------------------------------------------------------------------ start_index


def test_labels_saved_without_their_start_index_suggest_it(tmp_path, capsys):
    ids = two_exchanges()
    from_3 = mask_labels_reference(ids, presets.llama3(), 3).tolist()
    path = write_jsonl(tmp_path / "a.jsonl", [{"input_ids": ids, "labels": from_3}])
    rc, out, _ = inspect(capsys, path)
    assert rc == 1
    assert (
        "  they equal the spec's labels with start_index=3: they differ only in the turns before turn 3 (saved "
        "without its start_index?); try --start-index 3"
    ) in out
    assert (
        "!! they differ only in turns before a start_index the file does not hold (saved without it?): "
        "try --start-index 3"
    ) in out
    assert "result: given labels DIFFER from the spec (exit 1; try --start-index 3)" in out
    rc, out, _ = inspect(capsys, path, "--start-index", 3)
    assert rc == 0 and "result: given labels agree with the spec (exit 0)" in out


def test_no_hint_where_no_start_index_explains_the_labels(tmp_path, capsys):
    ids = two_exchanges()
    from_3 = mask_labels_reference(ids, presets.llama3(), 3).tolist()
    wrong = list(from_3)
    wrong[-1] = IGNORE  # the last turn's <|eot_id|>: no start_index masks only that
    carried = {"input_ids": ids, "labels": mask_labels_reference(ids, presets.llama3()).tolist(), "start_index": 3}
    path = write_jsonl(tmp_path / "a.jsonl", [{"input_ids": ids, "labels": wrong}, carried])
    rc, out, _ = inspect(capsys, path)
    assert rc == 1 and out.count("MISMATCH") == 2
    assert "try --start-index" not in out  # the second carries its start_index: never second-guessed
    assert "result: given labels DIFFER from the spec (exit 1)" in out


def test_different_start_indices_per_sample(tmp_path, capsys):
    spec = presets.llama3()
    two = two_exchanges()
    (three,) = synthetic_text_batch(1, 120, exchanges=3, seed=1)  # turns 0 .. 6, assistants at 2, 4, 6
    three = three.input_ids.tolist()
    samples = [
        {"input_ids": two, "labels": mask_labels_reference(two, spec, 3).tolist()},
        {"input_ids": three, "labels": mask_labels_reference(three, spec, 5).tolist()},
    ]
    rc, out, _ = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", samples))
    assert rc == 1
    assert "with start_index=3: they differ only in the turns before turn 3" in out
    assert "with start_index=5: they differ only in the turns before turn 5" in out
    hint = "try, with --sample N: --start-index 3 for sample(s) 0; --start-index 5 for sample(s) 1"
    assert f"result: given labels DIFFER from the spec (exit 1; {hint})" in out
    assert inspect(capsys, tmp_path / "a.jsonl", "--sample", 1, "--start-index", 5)[0] == 0


def higgs_feature():
    """Turns 0 system, 1 user, 2 assistant (a clip), 3 user, 4 assistant (a clip); K=2 codebooks."""

    def turn(role, body):
        return [T.start_header, role, T.end_header, T.double_newline, *body, T.eot]

    clip = [AUDIO_BOS, AUDIO, AUDIO_EOS]
    ids = [T.begin_of_text] + turn(T.system, [5, 6]) + turn(T.user, [7]) + turn(T.assistant, clip)
    ids += turn(T.user, [8, 9]) + turn(T.assistant, [10] + clip)
    codes = [torch.arange(6).reshape(2, 3), torch.arange(8).reshape(2, 4) + 10]
    return {"input_ids": ids, "audio_codes": codes, "start_index": 3}


def test_higgs_batch_saved_without_start_index(tmp_path, capsys):
    """The issue's example: HiggsAudioV2Collator(label_mode="correct") with start_index=3, saved with torch.save."""
    collator = fastcollate.HiggsAudioV2Collator(T.pad, label_mode="correct", num_codebooks=2)
    batch = collator([higgs_feature()])
    assert "start_index" not in batch  # what is saved has lost it
    torch.save(dict(batch), tmp_path / "batch_correct.pt")
    rc, out, _ = inspect(capsys, tmp_path / "batch_correct.pt")
    assert rc == 1
    assert "they equal the spec's labels with start_index=3" in out
    assert "result: given labels DIFFER from the spec (exit 1; try --start-index 3)" in out
    rc, out, _ = inspect(capsys, tmp_path / "batch_correct.pt", "--start-index", 3)
    assert rc == 0, out
    assert "sample 0: OK, given labels match the spec" in out
    assert "sample 0: [5, 5]; 2 clip(s); 0 without EOS" in out  # the clip of turn 4 learns codes and EOS
    assert "result: given labels agree with the spec (exit 0)" in out


# ------------------------------------------------------------------------------------------------ no labels


def test_no_labels_said_plainly_with_what_the_spec_learns(tmp_path, capsys):
    chats = synthetic_text_batch(3, 48, exchanges=1, seed=0)
    learned = [int((s.label_ids != IGNORE).sum()) for s in chats]
    path = write_jsonl(tmp_path / "a.jsonl", [{"input_ids": s.input_ids.tolist()} for s in chats])
    rc, out, _ = inspect(capsys, path)
    assert rc == 0
    counts = f"the spec learns {sum(learned)} tokens in 3 samples ({min(learned)} to {max(learned)} per sample)"
    assert f"no labels given: nothing to compare; {counts}" in out
    assert f"result: no labels given, nothing compared; {counts} (exit 0)" in out
    assert "agree" not in out and "match the spec" not in out


# ------------------------------------------------------------------------------------------------ mismatch


def test_mismatch_counts_positions_and_shows_the_first(tmp_path, capsys):
    (s,) = synthetic_text_batch(1, 48, exchanges=1, seed=0)
    ids, spec_labels = s.input_ids.tolist(), s.label_ids.tolist()
    given = list(ids)  # every token learned, as a collator that ignores roles gives
    differ = [p for p in range(len(ids)) if given[p] != spec_labels[p]]
    assert len(differ) > 3
    path = write_jsonl(tmp_path / "a.jsonl", [{"input_ids": ids, "labels": given}])
    rc, out, _ = inspect(capsys, path)
    assert rc == 1
    first = "; ".join(f"position {p} (token {ids[p]}): given {ids[p]}, spec {IGNORE}" for p in differ[:3])
    assert (
        f"sample 0: MISMATCH: {len(differ)} of {len(ids)} positions differ; first: {first}; ... "
        f"{len(differ) - 3} more (given labels learn {len(ids)}, the spec learns {len(ids) - len(differ)})"
    ) in out
