"""Python objects the library does not control, on the compiled path: list items whose __index__ changes the lists
they sit in (extends a later row, clears or extends its own list, clears the outer list of rows), and the first
call made by many threads at once in a fresh process.

Each probe runs in a subprocess (a heap overflow or a use-after-free would otherwise take pytest down with it) and
compares the compiled path (backend="cpu") with the twin (backend="python"): the same batch, or the same error
class and message. Both read the lists as they were passed (a snapshot taken before any __index__ runs), so the
batch also equals the one of plain ints. After each mutation the probe allocates lists of the freed size, so a
read of freed memory returns other objects and shows in the normal build too (under .ci/sanitize.sh, ASan
reports it at once)."""

import subprocess
import sys
import textwrap

import pytest
from conftest import COMPILED
from hostile_probes import COLLATORS, OUTCOMES, probe, run_probes

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled extension not built")

PROBES = COLLATORS + textwrap.dedent(
    '''

    N = 100_000  # items a mutation adds: far past any buffer sized before it
    SCRIBBLE = []  # lists allocated after a mutation, reusing what it freed

    def scribble(n):
        for _ in range(8):
            SCRIBBLE.append([None] * n)

    class Hostile:
        """An int whose __index__ first runs `effect` (once), then returns `value` or refuses (TypeError)."""

        def __init__(self, value, effect, refuse=False):
            self.value, self.effect, self.refuse = value, effect, refuse

        def __index__(self):
            effect, self.effect = self.effect, None
            if effect is not None:
                effect()
            if self.refuse:
                raise TypeError("refused")
            return self.value

    def extend(target, n=N):
        return lambda: (target.extend([5] * n), scribble(len(target) - n))

    def clear(target):
        return lambda: (scribble(len(target)), target.clear(), scribble(len(target) or 1))

    def row(length=80, start=300):
        return list(range(start, start + length))  # ints past the small-int cache, an item array past pymalloc

    # ---- the collators, each call on fresh objects (an effect runs once)


    def hf_feature(clip):
        return {"input_ids": [1, 7, IDS.audio_out, 2], "audio_codes": [clip]}

    def boson_sample(codes, ids=None):
        return {"input_ids": ids if ids is not None else [1, 7, IDS.audio_out, 2], "audio_ids_concat": codes,
                "audio_ids_start": [0]}

    def codes(rows=2, cols=80):
        return [row(cols, 300 + 100 * r) for r in range(rows)]

    # ---- the probes: name -> (collator, builder of its input with the hostile item, refuses or not)

    def chat_own(effect, refuse=False):
        r = row()
        r[40] = Hostile(7, effect(r), refuse)
        return [r, row(12)]

    def codes_with(effect, at=(0, 40), refuse=False):
        c = codes()
        c[at[0]][at[1]] = Hostile(400, effect(c, at), refuse)
        return c

    def later_row(c, at):
        return extend(c[at[0] + 1])

    def own_row_clear(c, at):
        return clear(c[at[0]])

    def outer_clear(c, at):
        return clear(c)

    def own_row_extend(c, at):
        return extend(c[at[0]])

    PROBES = {
        # ChatCollator: a 1-D input_ids list
        "chat_extend_own": lambda: (chat, chat_own(extend)),
        "chat_clear_own": lambda: (chat, chat_own(clear)),
        "chat_clear_own_refuses": lambda: (chat, chat_own(clear, refuse=True)),
        # HiggsAudioV2Collator: audio_codes clips (lists of lists), input_ids
        "hf_extend_later_row": lambda: (hf, [hf_feature(codes_with(later_row))]),
        "hf_extend_own_row": lambda: (hf, [hf_feature(codes_with(own_row_extend))]),
        "hf_clear_own_row": lambda: (hf, [hf_feature(codes_with(own_row_clear))]),
        "hf_clear_rows": lambda: (hf, [hf_feature(codes_with(outer_clear))]),
        "hf_extend_later_row_refuses": lambda: (hf, [hf_feature(codes_with(later_row, refuse=True))]),
        "hf_clear_clips": lambda: (hf, [hf_clear_clips()]),
        # HiggsAudioSampleCollator: audio_ids_concat (list of lists), input_ids
        "boson_extend_later_row": lambda: (boson, [boson_sample(codes_with(later_row))]),
        "boson_clear_rows": lambda: (boson, [boson_sample(codes_with(outer_clear))]),
        "boson_clear_own_row": lambda: (boson, [boson_sample(codes_with(own_row_clear, at=(1, 3)))]),
        "boson_ids_extend_own": lambda: (boson, [boson_ids(extend)]),
        "boson_ids_clear_own": lambda: (boson, [boson_ids(clear)]),
    }

    def hf_clear_clips():
        feature = hf_feature(codes())
        feature["input_ids"] = [1, 7, IDS.audio_out, 2, IDS.audio_out]
        feature["audio_codes"].append(codes())
        feature["audio_codes"][0][0][5] = Hostile(400, clear(feature["audio_codes"]))
        return feature

    def boson_ids(effect):
        ids = [1, 7] + row(70) + [IDS.audio_out, 2]
        ids[30] = Hostile(7, effect(ids))
        return boson_sample(codes(), ids)

    # ---- outcomes, as JSON

    def as_ints(value):
        """The input with every Hostile as its value, before any effect ran."""
        if isinstance(value, Hostile):
            return value.value
        if isinstance(value, dict):
            return {k: as_ints(v) for k, v in value.items()}
        if isinstance(value, list):
            return [as_ints(v) for v in value]
        return value

    '''
)
PROBES += OUTCOMES + textwrap.dedent(
    """
    for name in sys.argv[1:]:  # one JSON line per probe, written before the next probe runs
        collate, _ = PROBES[name]()
        result = {"name": name}
        for backend in ("python", "cpu"):
            _, batch = PROBES[name]()
            result[backend] = outcome(lambda: collate(backend, batch))
        _, batch = PROBES[name]()
        result["ints"] = outcome(lambda: collate("python", as_ints(batch)))
        print(json.dumps(result), flush=True)
    """
)

PROBE_NAMES = [
    "chat_extend_own",
    "chat_clear_own",
    "chat_clear_own_refuses",
    "hf_extend_later_row",
    "hf_extend_own_row",
    "hf_clear_own_row",
    "hf_clear_rows",
    "hf_extend_later_row_refuses",
    "hf_clear_clips",
    "boson_extend_later_row",
    "boson_clear_rows",
    "boson_clear_own_row",
    "boson_ids_extend_own",
    "boson_ids_clear_own",
]


@pytest.fixture(scope="module")
def all_probes(tmp_path_factory):
    """Every probe in one process (one import of torch); a probe that crashes it, and those after, run alone."""
    return run_probes(PROBES, PROBE_NAMES, tmp_path_factory.mktemp("probes"))[0]


@pytest.mark.parametrize("name", PROBE_NAMES)
def test_hostile_index_reads_lists_as_passed(name, all_probes, tmp_path):
    got = probe(PROBES, name, all_probes, tmp_path)
    assert got["cpu"] == got["python"], f"{name}: compiled {str(got['cpu'])[:600]} vs twin {str(got['python'])[:600]}"
    if name.endswith("_refuses"):
        assert got["python"][0] == "error" and got["python"][1] == "ValueError", got["python"]
        assert "got Hostile at position" in got["python"][2], got["python"]
    else:
        # Read as passed: the batch of the same lists with plain ints (or that batch's error).
        assert got["python"] == got["ints"], f"{name}: {str(got['python'])[:600]} vs {str(got['ints'])[:600]}"


FIRST_CALLS = textwrap.dedent(
    """
    import faulthandler, sys, threading
    sys.setswitchinterval(1e-6)  # a thread switch at almost every bytecode: the first calls interleave
    import torch
    from fastcollate import ChatCollator, HiggsAudioSampleCollator, HiggsAudioV2Collator, presets
    from fastcollate.synthetic import LLAMA3_IDS as IDS

    chat = ChatCollator(presets.completion_only([7]), 0, backend="cpu", on_empty="keep")
    hf = HiggsAudioV2Collator(IDS.pad, num_codebooks=2, backend="cpu", on_empty="keep")
    boson = HiggsAudioSampleCollator(None, IDS.audio_in, IDS.audio_out, IDS.pad, IDS.stream_bos, IDS.stream_eos,
                                     encode_whisper_embed=False, backend="cpu", on_empty="keep")
    codes = torch.tensor([[1, 2, 3], [4, 5, 6]])
    start = threading.Barrier(8)
    failures = []

    def first_call():
        start.wait()
        try:
            chat([torch.tensor([1, 7, 2, 3]), [1, 7, 5]])
            hf([{"input_ids": torch.tensor([1, 7, IDS.audio_out, 2]), "audio_codes": [codes]}])
            boson([{"input_ids": [1, 7, IDS.audio_out, 2], "audio_ids_concat": codes, "audio_ids_start": [0]}])
        except Exception as exc:
            failures.append(repr(exc))

    # A hang holds the GIL: only a watchdog outside Python can end it (with every thread's stack, exit 1). Armed
    # after the imports, which a loaded machine may make slow; the calls themselves take milliseconds.
    faulthandler.dump_traceback_later(HANG_S, exit=True)
    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    faulthandler.cancel_dump_traceback_later()
    print(failures or "ok")
    """
)


def test_first_calls_from_eight_threads_never_hang(tmp_path):
    """Nothing the native code looks up is initialised lazily under a lock that waits while holding the GIL:
    fresh processes, 8 threads making their first calls at once, none may hang."""
    runs, hang_s = 12, 20
    script = FIRST_CALLS.replace("HANG_S", str(hang_s))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
        )
        for _ in range(runs)
    ]
    hung, failed = [], []
    for p in procs:
        try:
            out, err = p.communicate(timeout=300)  # only a stuck import reaches this: the watchdog ends a hang
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        if "Timeout (" in err:  # faulthandler's watchdog fired
            hung.append(err[-3000:])
        elif p.returncode != 0 or out.strip() != "ok":
            failed.append(f"exit {p.returncode}: {out[-500:]} {err[-1500:]}")
    assert not hung, f"{len(hung)} of {runs} fresh processes hung on their first calls; the first:\n{hung[0]}"
    assert not failed, failed
