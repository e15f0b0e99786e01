"""Tensors and containers the library does not control: tensor subclasses whose Python-level metadata lies
(shape, stride, data_ptr, a shape that is a list), wrapper subclasses with no storage of their own, list and
tuple subclasses whose __len__/__iter__/__getitem__ lie, and user code the reader runs (an __index__, a
Mapping's get, a property) that resizes or re-points a tensor already read.

Each probe runs in a subprocess (a heap overflow or a use-after-free would otherwise take pytest down with it)
and compares the compiled path (backend="cpu") with the twin (backend="python"):
* lying metadata and lying containers: both read what is stored (the plain tensor, the stored items), so both
  give the batch of the honest input;
* a wrapper subclass: the same ValueError on both;
* a tensor changed while the batch is read: the compiled path raises a ValueError naming the sample and field
  (it reads tensors in place, after the code ran) or gives the twin's batch; never a read of freed memory.
"""

import textwrap
from pathlib import Path

import pytest
from conftest import COMPILED
from hostile_probes import COLLATORS, OUTCOMES, probe, run_probes

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled extension not built")

TESTS = Path(__file__).resolve().parents[1]  # the probes import lying_tensors from there (last on sys.path)

PROBES = (
    COLLATORS
    + f"sys.path.append({str(TESTS)!r})\n"
    + textwrap.dedent(
        '''
    from torch.testing._internal.two_tensor import TwoTensor

    # ---- tensor subclasses whose Python-level metadata lies (tests/lying_tensors.py)

    from lying_tensors import AlsoWide, BadDataPtr, BadStride, ListShape, WideShape

    LIARS = {"wide": WideShape, "list_shape": ListShape, "data_ptr": BadDataPtr, "stride": BadStride}

    class Short:
        """A container whose own __len__/__iter__/__getitem__ lie: what is read is what it stores."""
        def __len__(self):
            return 1
        def __iter__(self):
            return iter([5])
        def __getitem__(self, k):
            return 5

    class ShortList(Short, list):
        pass

    class ShortTuple(Short, tuple):
        pass

    class Effect:
        """An int whose __index__ first runs `effect` (once)."""
        def __init__(self, value, effect):
            self.value, self.effect = value, effect
        def __index__(self):
            effect, self.effect = self.effect, None
            if effect is not None:
                effect()
            return self.value

    from collections.abc import Mapping

    class Features(Mapping):
        """A Mapping that is no dict (its get is Python code), running `effect` on its first read."""
        def __init__(self, data, effect):
            self.data, self.effect = data, effect
        def __getitem__(self, k):
            effect, self.effect = self.effect, None
            if effect is not None:
                effect()
            return self.data[k]
        def get(self, k, default=None):
            return self[k] if k in self.data else default
        def __iter__(self):
            return iter(self.data)
        def __len__(self):
            return len(self.data)

    def ids(n=80, start=300):
        return torch.arange(start, start + n)

    def codes(k=8, n=40):
        return torch.arange(k * n).reshape(k, n) % 1000


    from fastcollate.runtime import backend as switch

    def op_on(backend, run):
        """The ops have no backend argument: the twin runs with the compiled code switched off."""
        saved, switch.COMPILED = switch.COMPILED, backend == "cpu"
        try:
            return run()
        finally:
            switch.COMPILED = saved

    def labels_op(backend, t):
        return op_on(backend, lambda: ops.role_span_labels(t, presets.completion_only([7])))

    def delay_op(backend, t):
        return op_on(backend, lambda: ops.apply_delay_pattern(t, 1024, 1025))

    def hf_ids():
        return torch.tensor([1, 7, IDS.audio_out, 2])

    def boson_sample(ids_=None, codes_=None):
        return {"input_ids": hf_ids() if ids_ is None else ids_, "audio_ids_concat": codes() if codes_ is None else
                codes_, "audio_ids_start": torch.tensor([0])}

    # ---- probes: name -> (collate, input builder, honest input builder or None: "compare with the twin only")

    PROBES = {}
    for liar_name, liar in LIARS.items():
        PROBES[f"chat_{liar_name}"] = (chat, lambda liar=liar: [ids().as_subclass(liar), ids(12)],
                                       lambda: [ids(), ids(12)])
        PROBES[f"hf_{liar_name}"] = (hf, lambda liar=liar: [{"input_ids": hf_ids().as_subclass(liar),
                                                             "audio_codes": [codes().as_subclass(liar)]}],
                                     lambda: [{"input_ids": hf_ids(), "audio_codes": [codes()]}])
        PROBES[f"boson_{liar_name}"] = (boson, lambda liar=liar: [boson_sample(hf_ids().as_subclass(liar),
                                                                               codes().as_subclass(liar))],
                                        lambda: [boson_sample()])
        PROBES[f"labels_op_{liar_name}"] = (labels_op, lambda liar=liar: ids(8).reshape(1, 8).as_subclass(liar),
                                            lambda: ids(8).reshape(1, 8))
        PROBES[f"delay_op_{liar_name}"] = (delay_op, lambda liar=liar: codes().reshape(1, 8, 40).as_subclass(liar),
                                           lambda: codes().reshape(1, 8, 40))
    PROBES["boson_two_subclasses"] = (boson, lambda: [boson_sample(hf_ids().as_subclass(WideShape),
                                                                   codes().as_subclass(AlsoWide))],
                                      lambda: [boson_sample()])
    PROBES["chat_wrapper"] = (chat, lambda: [TwoTensor(ids(), ids())], None)
    PROBES["hf_wrapper"] = (hf, lambda: [{"input_ids": hf_ids(), "audio_codes": [TwoTensor(codes(), codes())]}], None)
    PROBES["chat_short_list_rows"] = (chat, lambda: [ShortList([1, 7, 300, 301]), ids(12)],
                                      lambda: [[1, 7, 300, 301], ids(12)])
    PROBES["chat_short_batch"] = (chat, lambda: ShortList([ids(), ids(12)]), lambda: [ids(), ids(12)])
    PROBES["hf_short_clips"] = (hf, lambda: ShortList([{"input_ids": hf_ids(), "audio_codes": ShortTuple(
                                    [ShortList([ShortList(r) for r in codes().tolist()])])}]),
                                lambda: [{"input_ids": hf_ids(), "audio_codes": [codes().tolist()]}])
    PROBES["boson_short_codes"] = (boson, lambda: ShortTuple([boson_sample(codes_=ShortList(
                                       [ShortList(r) for r in codes().tolist()]))]),
                                   lambda: [boson_sample(codes_=codes().tolist())])

    # ---- user code that changes a tensor read before it: an __index__ in a later list, a Mapping's get

    def grow(t):
        return lambda: t.resize_(1 << 20)

    def repoint(t):
        return lambda: t.set_(torch.arange(3))

    def shrink_storage(t):
        return lambda: t.untyped_storage().resize_(0)

    for change_name, change in {"grow": grow, "repoint": repoint, "shrink_storage": shrink_storage}.items():
        def chat_rows(change=change):
            first = ids()
            later = [1, 7, 300, Effect(301, change(first))]
            return [first, later]
        PROBES[f"chat_index_{change_name}"] = (chat, chat_rows, None)

        def hf_features(change=change):
            first = hf_ids()
            clip = codes().tolist()
            clip[0][0] = Effect(5, change(first))
            return [{"input_ids": first, "audio_codes": [clip]}]
        PROBES[f"hf_index_{change_name}"] = (hf, hf_features, None)

        def boson_mapping(change=change):
            first = codes()
            return [boson_sample(codes_=first), Features(boson_sample(), change(first))]
        PROBES[f"boson_get_{change_name}"] = (boson, boson_mapping, None)

    '''
    )
)
PROBES += textwrap.dedent(
    '''
    # ---- what tests/fuzz/test_fuzz_hostile.py found, minimal (tested below)

    def chat3(backend, rows):
        """A collator whose spec reads start_index (read in Python, before the native pass)."""
        return ChatCollator(presets.llama3(), 0, backend=backend, on_empty="keep")(rows)

    def start_index_frees_earlier_row():
        first = ids(4096)
        return [first, {"input_ids": [1, 7], "start_index": Effect(0, shrink_storage(first))}]
    PROBES["chat_start_index_shrink_storage"] = (chat3, start_index_frees_earlier_row, None)

    def freed_clip():
        clip = codes(8, 4096)
        clip.untyped_storage().resize_(0)
        return [{"input_ids": hf_ids(), "audio_codes": [clip]}]
    PROBES["hf_passed_shrink_storage"] = (hf, freed_clip, None)

    def delays_free_codes(backend, _):
        c = codes(8, 4096).reshape(1, 8, 4096)
        delays = [Effect(0, shrink_storage(c))] + list(range(1, 8))
        return op_on(backend, lambda: ops.apply_delay_pattern(c, 1024, 1025, delays=delays))
    PROBES["delay_op_index_shrink_storage"] = (delays_free_codes, lambda: None, None)

    def start_index_frees_ids(backend, _):
        t = ids(4096).reshape(2, 2048)
        start = [0, Effect(0, shrink_storage(t))]
        return op_on(backend, lambda: ops.role_span_labels(t, presets.llama3(), start_index=start))
    PROBES["labels_op_index_shrink_storage"] = (start_index_frees_ids, lambda: None, None)

    def later_feature_changes_clip(change):
        def build():
            clip = codes(8, 5)
            return [{"input_ids": hf_ids(), "audio_codes": [clip]},
                    {"input_ids": [1, 7, Effect(IDS.audio_out, lambda: change(clip)), 2], "audio_codes": [codes(8, 3)]}]
        return build
    # resized in place (the data stays where it was) and an empty clip given storage: the compiled path keeps
    # what it read, the twin reads the clip after the change
    PROBES["hf_index_resize_in_place"] = (hf, later_feature_changes_clip(lambda t: t.resize_(8, 2)), None)
    def empty_clip_given_storage():
        clip = torch.zeros(8, 0, dtype=torch.long)
        later = [1, 7, Effect(IDS.audio_out, lambda: clip.set_(torch.ones(8, 5, dtype=torch.long))), 2]
        return [{"input_ids": hf_ids(), "audio_codes": [clip]}, {"input_ids": later, "audio_codes": [codes(8, 3)]}]
    PROBES["hf_index_empty_set"] = (hf, empty_clip_given_storage, None)

    def ragged_offsets_resized(backend, _):
        c = codes(2, 4)
        offsets = torch.tensor([0, 1, 4])
        delays = [3, Effect(12, lambda: offsets.resize_(0))]  # a negative width: 4 columns - 12
        return op_on(backend, lambda: ops.apply_delay_pattern_ragged(c, offsets, 1024, 1025, delays=delays))
    PROBES["delay_ragged_op_index_resize_offsets"] = (ragged_offsets_resized, lambda: None, None)

    def mapping_extends_earlier_clip():
        clip0 = codes(8, 5).tolist()
        later = Features({"input_ids": hf_ids(), "audio_codes": [codes(8, 3)]}, lambda: clip0[3].extend([5] * 300))
        return [{"input_ids": hf_ids(), "audio_codes": [clip0]}, later]
    PROBES["hf_get_extends_earlier_clip"] = (hf, mapping_extends_earlier_clip, None)

    def get_frees_own_neg_clip():
        clip = torch._neg_view(-codes(8, 4096))  # the negative bit: read through torch, after the get
        return [Features({"input_ids": hf_ids(), "audio_codes": [clip]}, shrink_storage(clip))]
    PROBES["hf_get_frees_own_clip_shrink_storage"] = (hf, get_frees_own_neg_clip, None)
    '''
)
PROBES += OUTCOMES + textwrap.dedent(
    """
    for name in sys.argv[1:]:  # one JSON line per probe, written before the next probe runs
        collate, build, honest = PROBES[name]
        result = {"name": name}
        # torch itself crashes on a tensor whose storage was freed beneath it: the twin cannot run those probes.
        for backend in ("cpu",) if "shrink_storage" in name else ("python", "cpu"):
            result[backend] = outcome(lambda: collate(backend, build()))
        if honest is not None:
            result["honest"] = outcome(lambda: collate("python", honest()))
        print(json.dumps(result), flush=True)
    """
)

LIARS = ["wide", "list_shape", "data_ptr", "stride"]
LYING = [f"{entry}_{liar}" for entry in ("chat", "hf", "boson", "labels_op", "delay_op") for liar in LIARS] + [
    "boson_two_subclasses",
    "chat_short_list_rows",
    "chat_short_batch",
    "hf_short_clips",
    "boson_short_codes",
]
WRAPPERS = ["chat_wrapper", "hf_wrapper"]
CHANGED = [
    f"{entry}_{change}"
    for entry in ("chat_index", "hf_index", "boson_get")
    for change in ("grow", "repoint", "shrink_storage")
]


@pytest.fixture(scope="module")
def all_probes(tmp_path_factory):
    """Every probe in one process; a probe that crashes it, and those after, run alone."""
    return run_probes(PROBES, LYING + WRAPPERS + CHANGED, tmp_path_factory.mktemp("probes"))[0]


@pytest.mark.parametrize("name", LYING)
def test_lying_metadata_and_containers_read_what_is_stored(name, all_probes, tmp_path):
    got = probe(PROBES, name, all_probes, tmp_path)
    assert got["cpu"] == got["python"], f"{name}: compiled {str(got['cpu'])[:600]} vs twin {str(got['python'])[:600]}"
    assert got["python"] == got["honest"], f"{name}: {str(got['python'])[:600]} vs {str(got['honest'])[:600]}"
    assert got["python"][0] == "ok", got["python"]


@pytest.mark.parametrize("name", WRAPPERS)
def test_wrapper_subclasses_are_refused_alike(name, all_probes, tmp_path):
    got = probe(PROBES, name, all_probes, tmp_path)
    assert got["cpu"] == got["python"], f"{name}: compiled {got['cpu']} vs twin {got['python']}"
    assert got["cpu"][:2] == ["error", "ValueError"] and "TwoTensor (a tensor subclass that wraps" in got["cpu"][2]


@pytest.mark.parametrize("name", CHANGED)
def test_tensors_changed_while_read_raise_or_match_the_twin(name, all_probes, tmp_path):
    got = probe(PROBES, name, all_probes, tmp_path)
    if got["cpu"] != got.get("python"):
        assert got["cpu"][:2] == ["error", "ValueError"], f"{name}: compiled {str(got['cpu'])[:600]}"
        field = "audio_ids_concat" if name.startswith("boson") else "input_ids"
        # Freed before the reader got to it (code that fetching the batch's fields ran), or changed after.
        freed = f"sample 0: {field}: has no storage (freed, e.g. by untyped_storage().resize_(0)), yet has elements"
        changed = f"sample 0: {field}: was resized or given other storage"
        assert got["cpu"][2].startswith((changed, freed)), got["cpu"]


# Found by tests/fuzz/test_fuzz_hostile.py (each a crash or a disagreement before its fix):
# * storages freed before the native pass (by Python code the collator or op runs first, or passed so);
# * resizes that keep the data in place and empty tensors given storage, by code the reader runs after reading
#   them;
# * apply_delay_pattern_ragged reading its offsets before delays, whose __index__ resized them;
# * a Mapping's get that changes an earlier feature's clip (the V2 twin gets every feature first);
# * a Mapping's get that frees the storage of its own clip, a negative-bit view that torch would then read.
FOUND_BY_FUZZERS = [
    "chat_start_index_shrink_storage",
    "hf_passed_shrink_storage",
    "delay_op_index_shrink_storage",
    "labels_op_index_shrink_storage",
    "hf_index_resize_in_place",
    "hf_index_empty_set",
    "delay_ragged_op_index_resize_offsets",
    "hf_get_extends_earlier_clip",
    "hf_get_frees_own_clip_shrink_storage",
]


@pytest.mark.parametrize("name", FOUND_BY_FUZZERS)
def test_what_the_fuzzers_found_raises_or_matches_the_twin(name, tmp_path):
    results, output = run_probes(PROBES, [name], tmp_path)  # alone: a crash would end the process
    assert name in results, f"{name}: {output}"
    got = results[name]
    if got["cpu"] != got.get("python"):
        assert got["cpu"][:2] == ["error", "ValueError"], f"{name}: compiled {str(got['cpu'])[:600]}"
        assert "was resized or given other storage while the batch was read" in got["cpu"][2], got["cpu"]
