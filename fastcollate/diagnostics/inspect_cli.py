"""`python -m fastcollate inspect FILE`: compare a dataset's labels with the labels a RoleSpanSpec gives.

For each chosen sample it prints `fastcollate.explain(...)` (the sample's spans, each with its role and whether
it is learned, then the given labels compared token by token with the spec's), a one-line summary, and at the
end a summary of the whole file. Samples whose GIVEN labels are all -100 (nothing would be trained on) are
flagged loudly. A mismatch counts the positions that differ and shows the first ones (position, token id, given
and spec label); a sample without a start_index whose labels are the spec's from some start_index on (a batch
saved without it) gets the --start-index to try. A file without labels is said to have none, with what the
spec learns.

Usage:
    python -m fastcollate inspect FILE [--split NAME] [--spec llama3|chatml]
                                       [--response-template IDS [--instruction-template IDS]]
                                       [--turns from_start_index|all|last] [--sample N | --all]
                                       [--start-index K] [--allow-empty]
                                       [--max-bytes SIZE] [--max-tokens N]
                                       [--tokenizer DIR] [--html FILE] [--view-max-tokens N]

    --split NAME            the split to read in a DatasetDict folder (default: its only split).
    --spec                  a preset of fastcollate.presets with the released vocabulary's ids (default llama3).
    --response-template     comma-separated ids, e.g. 128006,78191,128007,271: use presets.completion_only
    --instruction-template  (TRL DataCollatorForCompletionOnlyLM semantics) instead of a chat preset.
    --turns                 the spec's `turns` (default: "from_start_index": a sample's start_index, from the
                            file or --start-index, marks the turns before it as context; without one every
                            turn is learned). "all" and "last" do not read start_index: a chosen sample that
                            carries one is an error (exit 2), never silently ignored.
    --sample N / --all      one sample (0-based) or every sample (the default).
    --start-index K         overrides every chosen sample's start_index.
    --allow-empty           do not fail (exit 3) when the spec learns nothing in some sample.
    --max-bytes SIZE        the largest file read, and the most bytes loaded from it (see Limits below).
    --max-tokens N          the most values read from the file (see Limits below).
    --tokenizer DIR         print each sample's tokens decoded (a folder with tokenizer.json, read offline),
                            learned [in brackets], one line per turn (fastcollate.show_labels).
    --html FILE             write one self-contained HTML report: a chart per sample, the tokens with each id
                            and label on hover, a picture of every Higgs Audio clip's audio labels. FILE is
                            created before the input is inspected: a folder or a path that cannot be written
                            is bad input (exit 2), and so is a batch the report cannot show.
    --view-max-tokens N     the most tokens --tokenizer and --html show (default 100000): whole samples from
                            the first; the output and the report say how many were left out (all are still
                            inspected). --sample N shows sample N whatever its size.

Exit status: (a CI job can trust it)
    0  every inspected sample learns something under the spec, and every given label agrees with it; a file
       without labels ("no labels given, nothing compared", with what the spec learns) exits 0 too;
    1  some sample's given labels differ from the spec's (including given labels that are all -100 where the
       spec learns tokens), or, in a Higgs Audio v2 batch, a learned clip does not learn its stream EOS;
    2  bad input: file, format or arguments, or a file over a limit below (one line on stderr naming the
       file and the problem, never a traceback), whatever the file holds;
    3  the spec learns NOTHING in some inspected sample (no assistant turn, every learned turn before
       start_index, an empty sample, ...): training on it would learn nothing. Takes precedence over 1.
       --allow-empty turns this check off (the summary still lists those samples).

Limits (a file over one is bad input, exit 2; the message names the option that raises it):
    --max-bytes SIZE   default 64M: the file's size, and the bytes loaded from it: the declared sizes of a
                       .pt archive's records (torch.load reads them all, compressed ones too), of the .npz
                       arrays that are read (checked from each array's header before any of it is
                       decompressed; the other arrays are never read), of the record batches decoded from
                       a .parquet or .arrow file or a datasets folder (whose data files' sizes are its size),
                       checked before they are decoded: from the Parquet footer's value counts of the columns
                       read; from each Arrow message's buffer sizes, where a compressed body counts every
                       column's decompressed size (written uncompressed, an Arrow file is never copied).
                       SIZE: bytes, or with K, M or G (KiB, MiB, GiB), e.g. 1G.
    --max-tokens N     default 10000000: the values read in all: token ids, labels, attention_mask entries and
                       start indices, plus one per sample. Counted before they are converted, so a small file
                       that expands (one list referenced many times in a .pt, a stride-0 tensor) stops at once.

FILE formats (chosen by extension; a folder is a datasets save_to_disk folder):
    .jsonl  one JSON object per line: "input_ids" (list of ints), optional "labels" (or "label_ids", same
            length), optional "start_index" (int or null); ints fit in 64 bits. Blank lines are skipped.
    .parquet, .arrow (Arrow IPC, the stream format that datasets and pyarrow.ipc.new_stream write or the file
            format of pyarrow.ipc.new_file), and a folder written by datasets' save_to_disk (a Dataset:
            state.json and data-*.arrow; a DatasetDict: one folder per split, chosen with --split): one row per
            sample, with the columns of a .jsonl line ("input_ids" a list of ints; "labels" or "label_ids";
            "start_index"); other columns are never decoded. Needs pyarrow (pip install pyarrow).
    .jsonl, .parquet, .arrow and folders stream: read a line or a record batch at a time, never whole, in two
    passes (the first checks every row, so bad input is reported before anything is printed), with a progress
    bar on stderr when it is a terminal (while inspecting, only when stdout is not the terminal too).
    .pt     torch.load(FILE, weights_only=True) (no arbitrary objects) of dense CPU integer tensors (a
            bool attention_mask too; sparse, nested, quantized and meta tensors are bad input), as
              * a dict: "input_ids" as a 1-D tensor (one sample), a 2-D tensor (a padded batch) or a list of
                lists/1-D tensors (ragged); optional "labels" (or "label_ids") of the same layout; optional
                "attention_mask" (same layout; positions where it is 0 are padding and are removed from
                input_ids and labels, so left and right padding both work; without it nothing is removed);
                optional "start_index": a list/1-D tensor with one int (or None) per sample, or an int for a
                single sample;
              * or a list of such dicts, one sample each (1-D input_ids).
            A dict that also holds "audio_labels" is a transformers Higgs Audio v2 batch (HiggsAudioV2Collator,
            HiggsAudioV2Processor): its placeholders (<|AUDIO_OUT|>, the delay token) are masked in the spec,
            and its audio labels are summed up per sample, codebook and clip. A dict with "label_audio_ids"
            (a boson-multimodal HiggsAudioSampleCollator batch's fields) needs "audio_out_ids" of the same
            (K, N) shape, and "audio_out_ids_start", where given, non-decreasing clip starts within 0 .. N.
    .npz    numpy.savez/savez_compressed archive (no pickles; only the arrays named here are read) with arrays "input_ids", optional "labels" (or "label_ids"),
            optional "start_index" (one per sample), and either
              * 2-D padded input_ids/labels (B, T), optional "attention_mask" (B, T) as above;
              * ragged: flat 1-D input_ids/labels plus "offsets" (B+1 ints, 0 .. len(input_ids)): sample i is
                input_ids[offsets[i]:offsets[i+1]];
              * 1-D input_ids without offsets: one sample.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import List, Optional

from ..common.checks import check_start_index
from ..common.progress import Progress
from ..higgs_hf.config import HIGGS_HF_IDS
from ..rolespan import presets
from ..rolespan.reference import IGNORE, empty_reason, mask_labels_with_turns
from ..rolespan.spec import TURNS, RoleSpanSpec
from . import inspect_views
from .explain import explain
from .inspect_files import DEFAULT_MAX_BYTES, DEFAULT_MAX_TOKENS, InputError, Limits, Sample, positive_count
from .inspect_sources import open_file

EXIT_OK, EXIT_MISMATCH, EXIT_BAD_INPUT, EXIT_LEARNS_NOTHING = 0, 1, 2, 3
HIGGS_V2_PLACEHOLDERS = (HIGGS_HF_IDS["audio_token_id"], HIGGS_HF_IDS["audio_delay_token_id"])
SPECS = ("llama3", "chatml")


# ---------------------------------------------------------------------------------------------- spec


def _parse_ids(text: str, what: str) -> tuple:
    try:
        ids = tuple(int(p) for p in text.replace(" ", "").split(",") if p != "")
    except ValueError:
        raise InputError(
            f"{what}: expected comma-separated token ids like 128006,78191,128007,271, got {text!r}"
        ) from None
    if not ids:
        raise InputError(f"{what}: expected at least one token id, got {text!r}")
    return ids


def build_spec(args) -> tuple:
    """The spec chosen by the arguments, and a one-line description of it."""
    turns = {} if args.turns is None else {"turns": args.turns}
    shown = "" if args.turns is None else f"turns={args.turns!r}"
    if args.response_template is not None:
        if args.spec is not None:
            raise InputError("--spec and --response-template: choose one (a preset, or completion-only templates)")
        response = _parse_ids(args.response_template, "--response-template")
        instruction = (
            None
            if args.instruction_template is None
            else _parse_ids(args.instruction_template, "--instruction-template")
        )
        try:
            spec = presets.completion_only(response, instruction, **turns)
        except ValueError as e:
            raise InputError(str(e)) from None
        return spec, (
            f"completion_only(response_template={list(response)}, "
            f"instruction_template={None if instruction is None else list(instruction)}"
            f"{', ' + shown if shown else ''})"
        )
    if args.instruction_template is not None:
        raise InputError("--instruction-template needs --response-template")
    name = args.spec or "llama3"
    return getattr(presets, name)(**turns), f"presets.{name}({shown})"


def check_start_indices(starts, chosen, spec) -> None:
    """A start_index the spec would not read is an input error, as in every collator."""
    reason = spec.unread_start_index_reason()
    for i in chosen:
        try:
            check_start_index(i, starts[i], reason)
        except ValueError as e:
            hint = (
                "use --spec instead of the templates, or leave out start_index"
                if spec.mode == "completion"
                else "leave out --turns, or leave out start_index"
            )
            raise InputError(f"{e} [on the command line: {hint}]") from None


# ---------------------------------------------------------------------------------------------- main


def _size(text: str) -> int:
    """A byte count: an int, or with a K, M or G suffix (KiB, MiB, GiB)."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = units.get(t[-1:], 1)
    try:
        n = int(t[:-1] if scale > 1 else t) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size like 1000000, 64M or 1G, got {text!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        metavar="FILE",
        help="a .jsonl, .parquet, .arrow, .pt or .npz file, or a datasets save_to_disk folder (formats below)",
    )
    parser.add_argument(
        "--split", metavar="NAME", default=None, help="the split of a DatasetDict folder (default: its only one)"
    )
    parser.add_argument("--spec", choices=SPECS, default=None, help="chat template preset (default: llama3)")
    parser.add_argument(
        "--response-template",
        metavar="IDS",
        default=None,
        help="comma-separated ids; selects presets.completion_only instead of --spec",
    )
    parser.add_argument(
        "--instruction-template", metavar="IDS", default=None, help="comma-separated ids (with --response-template)"
    )
    parser.add_argument(
        "--turns",
        choices=TURNS,
        default=None,
        help="which learned turns count (default: from_start_index, which reads each sample's "
        "start_index; all/last reject samples that carry one)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sample", metavar="N", type=int, default=None, help="inspect only sample N (0-based)")
    which.add_argument("--all", action="store_true", help="inspect every sample (the default)")
    parser.add_argument(
        "--start-index",
        metavar="K",
        type=int,
        default=None,
        help="start_index for every chosen sample (overrides the file's)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0/1 even when the spec learns nothing in some sample (default: exit 3)",
    )
    parser.add_argument(
        "--max-bytes",
        metavar="SIZE",
        type=_size,
        default=DEFAULT_MAX_BYTES,
        help=f"largest file, and most bytes loaded from it, e.g. 1G (default: {DEFAULT_MAX_BYTES // 2**20}M); "
        "over it: exit 2",
    )
    parser.add_argument(
        "--max-tokens",
        metavar="N",
        type=positive_count,
        default=DEFAULT_MAX_TOKENS,
        help=f"most values (ids, labels, mask entries) read from the file (default: {DEFAULT_MAX_TOKENS}); "
        "over it: exit 2",
    )
    inspect_views.add_arguments(parser)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


FIRST_DIFFERENCES_SHOWN = 3


def _differences(ids, given, computed) -> str:
    """How many positions differ, and the first ones: position, token id, given and spec label."""
    diff = [p for p, (g, c) in enumerate(zip(given, computed)) if g != c]
    shown = "; ".join(
        f"position {p} (token {ids[p]}): given {given[p]}, spec {computed[p]}" for p in diff[:FIRST_DIFFERENCES_SHOWN]
    )
    more = f"; ... {len(diff) - FIRST_DIFFERENCES_SHOWN} more" if len(diff) > FIRST_DIFFERENCES_SHOWN else ""
    return f"{len(diff)} of {_plural(len(ids), 'position')} differ; first: {shown}{more}"


def _start_index_hint(sample: Sample, spec: RoleSpanSpec, turns) -> Optional[int]:
    """The smallest start_index under which the spec gives exactly the given labels, for a sample that carries
    none where the spec reads one: its labels then differ only in the turns before that index (a batch saved
    without its start_index). None when there is no such index."""
    if sample.start_index is not None or spec.unread_start_index_reason() is not None:
        return None
    for k in range(1, len(turns) + 1):
        if mask_labels_with_turns(sample.input_ids, spec, k)[0] == sample.labels:
            return k
    return None


def _inspect_one(i: int, sample: Sample, spec: RoleSpanSpec, out) -> dict:
    """Prints explain() and the sample's summary line; returns what the final summary needs."""
    print(f"=== sample {i} ===", file=out)
    if not sample.input_ids:
        print(f"sample {i}: EMPTY (0 tokens), nothing to learn", file=out)
        print(file=out)
        return dict(status="empty", n_spec=0)
    print(explain(sample.input_ids, spec, labels=sample.labels, start_index=sample.start_index), file=out)
    computed, turns = mask_labels_with_turns(sample.input_ids, spec, sample.start_index)
    n_spec = sum(v != IGNORE for v in computed)
    spec_note = "" if n_spec else f" ({empty_reason(sample.input_ids, spec, sample.start_index)})"
    hint = None
    if sample.labels is None:
        status = "no_labels"
        line = f"sample {i}: no labels given; the spec learns {_plural(n_spec, 'token')}{spec_note}"
    else:
        n_given = sum(v != IGNORE for v in sample.labels)
        n_diff = sum(g != c for g, c in zip(sample.labels, computed))
        if n_given == 0 and n_spec > 0:
            status = "all_masked"
            line = (
                f"sample {i}: given labels are ALL -100 (0 learned), the spec learns "
                f"{_plural(n_spec, 'token')}  <-- NOTHING IS TRAINED ON THIS SAMPLE"
            )
        elif n_diff:
            status = "differ"
            line = (
                f"sample {i}: MISMATCH: {_differences(sample.input_ids, sample.labels, computed)} (given labels "
                f"learn {n_given}, the spec learns {n_spec}{spec_note})"
            )
            hint = _start_index_hint(sample, spec, turns)
            if hint is not None:
                line += (
                    f"\n  they equal the spec's labels with start_index={hint}: they differ only in the turns "
                    f"before turn {hint} (saved without its start_index?); try --start-index {hint}"
                )
        elif n_spec == 0:
            status = "both_empty"
            line = (
                f"sample {i}: given labels are ALL -100 (0 learned) and so are the spec's{spec_note}  "
                f"<-- NOTHING IS TRAINED ON THIS SAMPLE"
            )
        else:
            status = "ok"
            line = f"sample {i}: OK, given labels match the spec ({n_spec} learned)"
    print(line, file=out)
    print(file=out)
    return dict(status=status, n_spec=n_spec, hint=hint)


def _list(indices: List[int], limit: int = 20) -> str:
    text = ", ".join(map(str, indices[:limit]))
    return text + (f", ... (+{len(indices) - limit})" if len(indices) > limit else "")


def _hint_summary(results: dict) -> Optional[str]:
    """The --start-index to try, when the samples that differ all equal the spec's labels from some index on."""
    hints = {}
    for i, r in results.items():
        if r["status"] == "differ":
            hints.setdefault(r.get("hint"), []).append(i)
    if not hints or None in hints:
        return None
    if len(hints) == 1:
        (k,) = hints
        return f"try --start-index {k}"
    per = "; ".join(f"--start-index {k} for sample(s) {_list(v, 5)}" for k, v in sorted(hints.items()))
    return f"try, with --sample N: {per}"


def run(args, out=None, err=None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    limits = Limits(
        max_bytes=getattr(args, "max_bytes", DEFAULT_MAX_BYTES),
        max_tokens=getattr(args, "max_tokens", DEFAULT_MAX_TOKENS),
    )
    try:
        try:
            source = open_file(args.file, limits, getattr(args, "split", None), err)
        except InputError:
            raise
        except Exception as e:  # a malformed file is bad input (exit 2), whatever a reader raised on it
            first = str(e).splitlines()[0][:300] if str(e) else ""
            raise InputError(f"{args.file}: cannot read this file: {type(e).__name__}: {first}") from None
        count = len(source)
        if args.sample is not None:
            if not -count <= args.sample < count:
                raise InputError(
                    f"--sample: {args.sample} is out of range; {args.file} has "
                    f"{_plural(count, 'sample')} (0 .. {count - 1})"
                )
            chosen = [args.sample % count]
        else:
            chosen = range(count)
        if args.start_index is not None:
            for i in chosen:
                source.starts[i] = args.start_index
        spec, description = build_spec(args)
        if source.audio is not None and spec.mode == "roles":
            # A Higgs Audio v2 batch: the placeholders are audio frames, never text targets (label_mode="correct").
            spec = dataclasses.replace(spec, always_masked=spec.always_masked + HIGGS_V2_PLACEHOLDERS)
            description += f" with the Higgs Audio v2 placeholders {list(HIGGS_V2_PLACEHOLDERS)} masked"
        check_start_indices(source.starts, chosen, spec)
        tokenizer = inspect_views.prepare(args)
    except InputError as e:
        print(f"{getattr(args, 'prog', 'fastcollate inspect')}: error: {e}", file=err)
        return EXIT_BAD_INPUT

    split = "" if source.split is None else f" (split {source.split!r})"
    print(f"{args.file}{split}: {_plural(count, 'sample')}; spec: {description}", file=out)
    print(file=out)
    results = {}
    viewed = inspect_views.viewed(args)  # the samples --tokenizer and --html show (None: neither asked for)
    # The bar goes where the report does not: on a terminal's stderr while the report goes to a file or a pipe.
    shown = err.isatty() and not out.isatty()
    with Progress(len(chosen), "inspecting", "samples", err, enabled=shown) as bar:
        for i, sample in source.samples(None if args.sample is None else set(chosen)):
            sample.start_index = source.starts[i]
            results[i] = _inspect_one(i, sample, spec, out)
            if viewed is not None:
                viewed.keep(i, sample)
            bar.update()
    try:
        inspect_views.emit(tokenizer, args, viewed, spec, out)
    except InputError as e:
        print(f"{getattr(args, 'prog', 'fastcollate inspect')}: error: {e}", file=err)
        return EXIT_BAD_INPUT

    by = {}
    for i, r in results.items():
        by.setdefault(r["status"], []).append(i)
    print(f"=== summary: {_plural(len(chosen), 'sample')} inspected ===", file=out)
    without = len(by.get("no_labels", [])) + len(by.get("empty", []))
    labels_given = len(chosen) - without
    n_match = len(by.get("ok", [])) + len(by.get("both_empty", []))
    learned = [r["n_spec"] for r in results.values()]
    spec_learns = (
        f"the spec learns {_plural(sum(learned), 'token')} in {_plural(len(learned), 'sample')}"
        f" ({min(learned):,} to {max(learned):,} per sample)"
    )
    if labels_given:
        parts = [f"{n_match} of {labels_given} with labels match the spec"]
        if by.get("no_labels"):
            parts.append(f"{len(by['no_labels'])} without labels (not compared)")
        print(", ".join(parts), file=out)
    else:
        print(f"no labels given: nothing to compare; {spec_learns}", file=out)
    if by.get("all_masked"):
        print(
            f"!! {_plural(len(by['all_masked']), 'sample')} with given labels ALL -100 where the spec learns "
            f"tokens (nothing is trained on them): {_list(by['all_masked'])}",
            file=out,
        )
    if by.get("differ"):
        print(
            f"!! {_plural(len(by['differ']), 'sample')} whose given labels differ from the spec: {_list(by['differ'])}",
            file=out,
        )
    hint = _hint_summary(results)
    if hint:
        print(
            f"!! they differ only in turns before a start_index the file does not hold (saved without it?): {hint}",
            file=out,
        )
    nothing = sorted(i for i, r in results.items() if r["n_spec"] == 0)
    if nothing:
        print(f"!! {_plural(len(nothing), 'sample')} where the spec learns nothing: {_list(nothing)}", file=out)
    mismatch = bool(by.get("all_masked") or by.get("differ"))
    if source.audio is not None:
        mismatch = _audio_summary([source.audio[i] for i in chosen], chosen, out) or mismatch
    if mismatch:
        verdict = "given labels DIFFER from the spec"
    elif labels_given or source.audio is not None:
        verdict = "given labels agree with the spec"
    else:
        verdict = f"no labels given, nothing compared; {spec_learns}"
    if nothing and not args.allow_empty:
        print(
            f"result: the spec learns NOTHING in {_plural(len(nothing), 'sample')}; {verdict} (exit 3; "
            "--allow-empty accepts such samples)",
            file=out,
        )
        return EXIT_LEARNS_NOTHING
    code = EXIT_MISMATCH if mismatch else EXIT_OK
    print(f"result: {verdict} (exit {code}{'; ' + hint if hint else ''})", file=out)
    return code


def _audio_summary(audio, chosen, out) -> bool:
    """The audio labels of a Higgs Audio v2 batch; True when a learned clip does not learn its stream EOS."""
    print(
        "audio labels (Higgs Audio v2 batch): per sample, learned per codebook; clips; learned clips without "
        "their stream EOS",
        file=out,
    )
    for i, a in zip(chosen, audio):
        print(f"  sample {i}: {a.codebook_learned}; {a.clips} clip(s); {a.clips_without_eos} without EOS", file=out)
    missing = [i for i, a in zip(chosen, audio) if a.clips_without_eos]
    if missing:
        print(
            f"!! {_plural(len(missing), 'sample')} with learned clips that never learn their stream EOS (generation "
            f"stops on it; HiggsAudioV2Collator(label_mode='correct') learns it): {_list(missing)}",
            file=out,
        )
    return bool(missing)


PARSER_KWARGS = dict(
    help="compare a dataset's labels with a RoleSpanSpec's (why are my labels all -100?)",
    description="Print each sample's spans (role, learned or masked) and compare its given labels with the labels\n"
    "the spec gives; samples whose given labels are all -100 are flagged.",
    epilog=__doc__[__doc__.index("Exit status:") :],
    formatter_class=argparse.RawDescriptionHelpFormatter,
)
