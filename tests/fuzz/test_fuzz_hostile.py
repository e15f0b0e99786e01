"""Fuzzing every native entry point with hostile objects injected at random places into valid and malformed
batches (hypothesis, seeded): items whose __index__ changes a list or a tensor of the batch, tensor subclasses
whose Python-level metadata lies (several different ones in one sample), wrapper subclasses, list and tuple
subclasses whose __len__/__iter__/__getitem__ lie, and Mappings whose get/keys run code.

Every example is a seed: a builder makes the batch from it, once per backend (an effect runs once, so each
backend gets fresh objects), and once more without the hostile objects (the honest batch). Property
(docs/errors-and-limits.md, "Objects you do not control"):
* lying metadata, lying containers, and __index__ effects that change lists: both backends give the honest
  batch (what is stored, the lists as passed), or the same error;
* a wrapper subclass, or a Mapping whose get runs code: the same result or error on both backends;
* code the reader runs that resizes a tensor or `set_`s it to other storage: the twin's result, or on the
  compiled path a ValueError "sample {i}: {field}: was resized or given other storage while the batch was read";
* code that shrinks a tensor's storage: only the compiled path runs (torch itself crashes reading such a
  tensor, so the twin cannot), and it returns a batch or raises ValueError/TypeError.
The private `_core` functions, called directly with such tensors, return or raise ValueError/TypeError.

Every example runs under test_fuzz_native.py's watchdog; FASTCOLLATE_FUZZ_EXAMPLES sets the count per entry
point (docs/errors-and-limits.md states the longest run).
"""

import atexit
import faulthandler
import json
import os
import random
import re
from collections import Counter
from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import COMPILED
from higgs_hf_features import random_features
from higgs_samples import KW, random_batch
from hypothesis import given
from hypothesis import strategies as st
from lying_tensors import LIARS
from test_fuzz_native import (
    EXAMPLES,
    FUZZ,
    HUGE,
    LLAMA,
    MUTATIONS,
    V2_MUTATIONS,
    WATCHDOG_SECONDS,
    Rejected,
    assert_same,
    mutate,
    mutate_v2,
    outcome,
    tensor_core_calls,
    tensor_like,
)
from torch.testing._internal.two_tensor import TwoTensor

import fastcollate
from fastcollate import ChatCollator, HiggsAudioSampleCollator, HiggsAudioV2Collator, ops, presets
from fastcollate.runtime import backend as switch

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled extension not built: nothing to compare")

# The first TwoTensor imports torch._dynamo (seconds, minutes on a loaded machine): here, not inside the first
# example's watchdog.
TwoTensor(torch.zeros(1), torch.zeros(1))

# ------------------------------------------------------------------------------------------ hostile objects


class Short:
    """A container whose own __len__/__iter__/__getitem__ lie: what is read is what it stores."""

    def __len__(self):
        return 1

    def __iter__(self):
        return iter([5])

    def __getitem__(self, k):
        return 5


class Huge:
    """The same, claiming 2**40 items and refusing to give any."""

    def __len__(self):
        return 1 << 40

    def __iter__(self):
        raise RuntimeError("a lying __iter__ was called")

    def __getitem__(self, k):
        raise RuntimeError("a lying __getitem__ was called")


class ShortList(Short, list):
    pass


class ShortTuple(Short, tuple):
    pass


class HugeList(Huge, list):
    pass


class HugeTuple(Huge, tuple):
    pass


class Effect:
    """An int whose __index__ first runs `effect` (once)."""

    def __init__(self, value, effect):
        self.value, self.effect = value, effect

    def __index__(self):
        run(self)
        return self.value


class Features(Mapping):
    """A Mapping that is no dict (its get and keys are Python code), running `effect` on its first read."""

    def __init__(self, data, effect):
        self.data, self.effect = data, effect

    def __getitem__(self, k):
        run(self)
        return self.data[k]

    def get(self, k, default=None):
        run(self)
        return self.data[k] if k in self.data else default

    def keys(self):
        run(self)
        return self.data.keys()

    def __iter__(self):
        run(self)
        return iter(self.data)

    def __len__(self):
        return len(self.data)

    def __contains__(self, k):
        return k in self.data


def run(holder):
    effect, holder.effect = holder.effect, None
    if effect is not None:
        effect()


# ------------------------------------------------------------------------------------------ injecting them


class Slots:
    """Where hostile objects can go in a batch: (parent, key, value) of every tensor, list and dict, and
    (list, index, value, lists above it) of every int in a list (a dict's start_index too); a parent None is
    the batch itself, a tuple parent cannot take a replacement."""

    def __init__(self, batch):
        self.tensors, self.lists, self.dicts, self.ints = [], [], [], []
        self.walk(batch, None, None, ())

    def walk(self, value, parent, key, above):
        if len(above) > 6:
            return
        if isinstance(value, torch.Tensor):
            self.tensors.append((parent, key, value))
        elif isinstance(value, (list, tuple)):
            # The stored items: a lying __iter__/__getitem__ is what the library must not call.
            items = list(list.__iter__(value)) if isinstance(value, list) else list(tuple.__iter__(value))
            if isinstance(value, list):
                self.lists.append((parent, key, value))
            for i, item in enumerate(items):
                if type(item) is int and isinstance(value, list):
                    self.ints.append((value, i, item, above + (id(value),)))
                else:
                    self.walk(item, value, i, above + (id(value),))
        elif isinstance(value, dict):
            self.dicts.append((parent, key, value))
            for k, item in value.items():
                if type(item) is int and k == "start_index":
                    self.ints.append((value, k, item, above))
                else:
                    self.walk(item, value, k, above)
        elif isinstance(value, Features):
            self.walk(value.data, None, None, above)  # its dict cannot be replaced, its items can
        elif isinstance(value, (fastcollate.ChatMLDatasetSample, SimpleNamespace)):
            for k, item in vars(value).items():
                self.walk(item, value, k, above)


def put(batch, parent, key, new):
    """batch with the value at (parent, key) replaced by `new`."""
    if parent is None:
        return new
    if isinstance(parent, tuple):
        return batch
    if isinstance(parent, list):
        list.__setitem__(parent, key, new)
    elif isinstance(parent, dict):
        parent[key] = new
    else:
        setattr(parent, key, new)
    return batch


class Injected:
    """What was injected: the property to check follows from it."""

    def __init__(self):
        self.kinds = set()

    @property
    def changes_tensors(self):
        return bool(self.kinds & {"grow", "set", "reshape"})

    @property
    def honest(self):
        """The batch must equal the honest one: nothing but lies about what is stored and list changes by
        __index__ (read on a snapshot)."""
        return not self.kinds & {"grow", "set", "reshape", "shrink", "wrapper", "mapping", "list_other"}


def tensor_effect(t, rng, shrink, injected):
    """Code that changes tensor t: grows it (its new memory filled, so both backends see the same values),
    resizes it to a smaller shape, set_s it to other storage, or (shrink) frees its storage beneath it.
    Everything is drawn here, at build time: the backends may run the effects in different orders."""
    # Not a 0-d tensor's (a list item's): torch's own __index__ then fails on the freed storage. Nor a view
    # with the negative bit: the reader resolves it through torch, which crashes on a storage freed before the
    # read (a known crash, see FREED_ARGS).
    freeable = shrink and torch.Tensor.dim(t) and not torch.Tensor.is_neg(t)
    kind = rng.choice(["grow", "grow", "set", "reshape"] + (["shrink"] if freeable else []))
    fill = rng.choice([5, 1024, -1, 2**31 - 1])
    size = list(torch.Tensor.size(t))  # not t.shape: a liar's
    grown = [s + rng.choice([1, 7, 300]) for s in size] if size else [rng.choice([3, 4096])]
    smaller = [max(s - rng.choice([1, 3]), 0) for s in size]
    other = grown if rng.random() < 0.5 else size

    def grow():
        # Filled only when given new memory, which nothing read yet: a write into memory already read is
        # no resize (no backend sees it as one) and outside this property.
        before = torch.Tensor.data_ptr(t)
        t.resize_(grown)
        if torch.Tensor.data_ptr(t) != before:
            t.fill_(fill)

    def set_():
        t.set_(torch.full(other, fill, dtype=t.dtype))

    def reshape():
        t.resize_(smaller)

    def shrink_():
        torch.Tensor.untyped_storage(t).resize_(0)

    change = {"grow": grow, "set": set_, "reshape": reshape, "shrink": shrink_}[kind]

    def noted():
        """A change the compiled path cannot see yet (UNSEEN): one that leaves the data where it was (a
        smaller shape, a view grown within its storage), or gives an empty tensor (never read) memory."""
        before = (torch.Tensor.data_ptr(t), torch.Tensor.size(t), torch.Tensor.stride(t), torch.Tensor.numel(t))
        change()
        after = (torch.Tensor.data_ptr(t), torch.Tensor.size(t), torch.Tensor.stride(t))
        if after != before[:3] and (after[0] == before[0] or before[3] == 0):
            injected.kinds.add("unseen")

    return kind, noted


def list_effect(target, rng):
    """Code that changes list target: extends it (with copies of its first item), appends, or clears it."""
    kind = rng.choice(["extend", "append", "clear"])
    first = list.__getitem__(target, slice(0, 1)) or [5]  # not target[:1]: a lying __getitem__
    n = rng.choice([1, 7, 300]) if type(first[0]) is int else rng.choice([1, 3])

    def extend():
        target.extend(first * n)

    def append():
        target.append(first[0])

    return kind, {"extend": extend, "append": append, "clear": target.clear}[kind]


def swallowing(effect):
    """Effects are best-effort (a view cannot always be resized): an effect that fails changes nothing."""

    def run_it():
        try:
            effect()
        except Exception:
            pass

    return run_it


def some_effect(slots, rng, shrink, injected, above=()):
    """An effect on a random list or tensor of the batch. A list changed by code run from inside it (its own
    item, or an item of a list it holds) is read as passed; any other list as it is when the reader gets to
    it (kind "list_other")."""
    # Not a wrapper subclass: torch itself breaks on a TwoTensor given other storage (as_subclass raises).
    # Not an op's offsets either: apply_delay_pattern_ragged checks them before it reads delays, so an
    # __index__ there that resizes them gives torch's RuntimeError (a negative output size) on the compiled
    # path and the twin's ValueError (reported on issue 21).
    # Nor an expanded view (stride 0) claiming billions of elements: resizing it, even smaller, or setting it to
    # new memory of its size allocates them all (a 2**30 x 2 resize was OOM-killed, a smaller one ran for minutes).
    tensors = [
        t
        for parent, key, t in slots.tensors
        if not isinstance(t, TwoTensor) and key != "offsets" and torch.Tensor.numel(t) <= 2**22
    ]
    if tensors and (not slots.lists or rng.random() < 0.5):
        kind, effect = tensor_effect(rng.choice(tensors), rng, shrink, injected)
    elif slots.lists:
        target = rng.choice(slots.lists)[2]
        kind, effect = list_effect(target, rng)
        injected.kinds.add("list_inside" if id(target) in above else "list_other")
    else:
        return None
    injected.kinds.add(kind)
    return swallowing(effect)


def hostile_tensor(t, rng, injected, wrappers=True):
    """t as a lying subclass, or (rarely) a wrapper subclass."""
    if wrappers and rng.random() < 0.1:
        try:
            wrapped = TwoTensor(t, t)
        except Exception:
            return t
        injected.kinds.add("wrapper")
        return wrapped
    injected.kinds.add("liar")
    return t.as_subclass(rng.choice(LIARS))


def hostile_container(value, rng, injected):
    if type(value) is list:
        kind = rng.choice([ShortList, ShortList, HugeList, ShortTuple, HugeTuple])
        injected.kinds.add("container")
        return kind(value)
    return value


def inject(batch, rng, *, shrink=False, shrink_mappings=False, wrappers=True, containers=True, count=None):
    """batch with 1-4 hostile objects at random places, and what was injected. shrink: effects may free a
    tensor's storage, from list items the native reader converts (shrink_mappings: from Mappings' get too).
    A storage freed before the native reader reads the tensor is a known crash (see FREED_ARGS): by Python
    code that runs before the native pass (a ChatCollator's start_index or Mapping, an op's delays), or by a
    Mapping's get the native reader calls before reading that Mapping's own tensors."""
    injected = Injected()
    for _ in range(count or rng.randint(1, 4)):
        slots = Slots(batch)
        kind = rng.choice(["liar", "liar", "container", "index", "index", "index", "mapping"])
        if kind == "liar" and slots.tensors:
            parent, key, t = rng.choice(slots.tensors)
            if type(t) is torch.Tensor:
                batch = put(batch, parent, key, hostile_tensor(t, rng, injected, wrappers))
        elif kind == "container" and containers and slots.lists:
            parent, key, value = rng.choice(slots.lists)
            # audio_no_train refuses list subclasses on both backends ("expected a list of bools").
            if key != "audio_no_train":
                batch = put(batch, parent, key, hostile_container(value, rng, injected))
        elif kind == "index" and slots.ints:
            parent, key, value, above = rng.choice(slots.ints)
            # A start_index is read in Python before the native pass: a storage freed there is a known crash.
            effect = some_effect(slots, rng, shrink and isinstance(parent, list), injected, above)
            if effect is not None:
                (list.__setitem__ if isinstance(parent, list) else dict.__setitem__)(parent, key, Effect(value, effect))
        elif kind == "mapping" and slots.dicts:
            parent, key, d = rng.choice(slots.dicts)
            inside = tuple(id(value) for _, _, value in Slots(d).lists)
            effect = some_effect(slots, rng, shrink and shrink_mappings, injected, inside)
            if effect is not None:
                injected.kinds.add("mapping")
                batch = put(batch, parent, key, Features(d, effect))
    return batch, injected


def as_lists(batch, rng):
    """Some small tensors of the batch as (nested) lists, where __index__ runs: on both builds alike."""
    slots = Slots(batch)
    for parent, key, t in slots.tensors:
        # Small ones only: an empty clip of 2**20 codebooks is a list of 2**20 lists (seconds to read).
        small = t.dim() in (1, 2) and max(t.shape, default=0) <= 4096 and t.numel() <= 4096
        if parent is not None and small and rng.random() < 0.5:
            batch = put(batch, parent, key, t.tolist())
    return batch


CHANGED = re.compile(r"^(sample \d+: )?[\w.\[\]]+: was resized or given other storage while the batch was read")


def changed(collate, inputs):
    """The twin's outcome on inputs whose tensors change while it reads them. It checks a tensor, then uses
    it: one changed in between can fail in torch (a RuntimeError or IndexError, e.g. torch.cat of clips
    whose shapes no longer match)."""
    try:
        return settled(lambda: collate("python", inputs))
    except (RuntimeError, IndexError) as e:
        return Rejected(type(e), str(e))


# Known crashes (reported on issue 21; tests/common/test_hostile_tensors.py keeps them as strict xfails): the
# native readers trust that a tensor's storage covers its extent, so a storage freed before the native pass
# (by code the Python layer runs first: a ChatCollator start_index's __index__ or a Mapping's get, an __index__
# in an op's delays or start_index; or passed so) is read: a segfault. inject() frees storages only from code
# the native reader runs itself; FASTCOLLATE_FUZZ_FREED=1 passes freed tensors to the _core functions.
FREED_ARGS = os.environ.get("FASTCOLLATE_FUZZ_FREED") == "1"

# Changes whose outcome depends on when each backend reads what: the twins of the Higgs collators get every
# field first and read them later, the compiled path reads each field in turn, so code the reader runs can
# change a list or tensor one backend has read and the other has not. There both backends must stay clean (a
# result, or ValueError/TypeError; the twin may also fail in torch, see changed()), the compiled path's
# "was resized" error is always right, and any other disagreement is counted in GAPS (docs/errors-and-limits.md
# reports the long run's counts; tests/common/test_hostile_tensors.py keeps minimal cases):
# * "unseen": a tensor resized without moving its data (a smaller shape, a view grown within its storage), or
#   an empty tensor given memory: the compiled path keeps what it read and does not see the change;
# * "list_other": a list of another sample or field changed by an __index__ or a Mapping's get;
# * "grow", "set", "reshape": a tensor changed before one backend read it and after the other did.
ORDER_DEPENDENT = {"unseen", "list_other", "grow", "set", "reshape"}
GAPS = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_gaps():
    """FASTCOLLATE_FUZZ_GAPS=path: the disagreements counted in GAPS, appended there as one JSON line."""
    yield
    path = os.environ.get("FASTCOLLATE_FUZZ_GAPS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"examples": EXAMPLES, "gaps": dict(GAPS)}) + "\n")


TRACE = (
    open(os.environ["FASTCOLLATE_FUZZ_TRACE"], "a", buffering=1) if os.environ.get("FASTCOLLATE_FUZZ_TRACE") else None
)
if TRACE is not None:
    atexit.register(TRACE.close)


def trace(**args):
    """FASTCOLLATE_FUZZ_TRACE=path: every example's arguments, written before it runs (a crash or a hang ends
    the process before hypothesis can name the example)."""
    if TRACE is not None:
        TRACE.write(repr(args) + "\n")


def settled(fn):
    """fn()'s result, or Rejected as test_fuzz_native.outcome() gives it, under the example's watchdog: check()
    arms test_fuzz_native's watchdog once per example (arming it per call starts and joins a thread each
    time, most of an example's time on a loaded machine)."""
    try:
        return fn()
    except (ValueError, TypeError) as e:
        return Rejected(type(e), str(e))
    except RuntimeError as e:
        if "more than this machine's memory" in str(e):  # refused before allocating, on every backend alike
            return Rejected(RuntimeError, str(e))
        if "can't allocate memory" not in str(e):
            raise
        return Rejected(MemoryError, "torch could not allocate the outputs")


def check(build, collate, live_lists=False):
    """The property of the module docstring; build(hostile) makes fresh inputs and says what was injected
    (effects add what they did when they run), collate(backend, inputs) runs them. live_lists: the entry
    point reads its list arguments through Python (the ops' shared checks): a list an __index__ changes is
    read changed, on both backends. A hang dumps every thread's stack and fails the run."""
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    try:
        compare(build, collate, live_lists)
    finally:
        faulthandler.cancel_dump_traceback_later()


def compare(build, collate, live_lists):
    first, injected = build(True)
    if "shrink" in injected.kinds:  # torch crashes reading freed storage: the compiled path alone
        settled(lambda: collate("cpu", first))
        return
    second, again = build(True)
    twin = settled(lambda: collate("python", first)) if not injected.changes_tensors else changed(collate, first)
    compiled = settled(lambda: collate("cpu", second))
    kinds = injected.kinds | again.kinds
    if kinds & ORDER_DEPENDENT:
        if isinstance(compiled, Rejected) and CHANGED.match(compiled.message):
            return
        try:
            assert_same(compiled, twin)
        except AssertionError:
            GAPS[",".join(sorted(kinds & ORDER_DEPENDENT))] += 1
        return
    assert_same(compiled, twin)
    if injected.honest and not (live_lists and kinds & {"extend", "append", "clear"}):
        honest = settled(lambda: collate("python", build(False)[0]))
        if isinstance(twin, Rejected) or isinstance(honest, Rejected):
            # A message may name the container or subclass passed (its type is not what is stored).
            assert isinstance(twin, Rejected) and isinstance(honest, Rejected), (twin, honest)
            assert twin.kind == honest.kind, (twin, honest)
        else:
            assert_same(twin, honest)


MODES = st.sampled_from(["compare", "compare", "compare", "shrink"])


# ------------------------------------------------------------------------------------------ ChatCollator


def chat_row(rng):
    """A row in a valid or malformed form (a seeded subset of test_fuzz_native.rows)."""
    base = [rng.choice(LLAMA + [0, 1, -100, 2**31]) for _ in range(rng.randint(0, 24))]
    kind = rng.choice(["list"] * 4 + ["tuple", "int64", "int32", "strided", "numpy", "bad_element", "huge", "2d"])
    if kind == "list":
        return base
    if kind == "tuple":
        return tuple(base)
    if kind == "bad_element":
        return base + [rng.choice([1.5, None, "7"])]
    if kind == "huge":
        return base + [rng.choice(HUGE)]
    small = [v for v in base if -(2**31) <= v < 2**31]
    if kind == "numpy":
        return np.array(small, dtype=rng.choice([np.int64, np.int32, ">i8"]))
    t = torch.tensor(small, dtype=torch.int32 if kind == "int32" else torch.int64)
    if kind == "strided":
        wide = torch.zeros(2 * len(t) + 1, dtype=t.dtype)
        wide[1::2] = t
        return wide[1::2]
    return t.reshape(1, -1) if kind == "2d" else t


def chat_batch(seed):
    rng = random.Random(seed)
    batch = []
    for _ in range(rng.randint(0, 4)):
        row = chat_row(rng)
        form = rng.choice(["bare", "dict", "dict", "dict+start"])
        if form == "bare":
            batch.append(row)
        else:
            batch.append({"input_ids": row})
            if form == "dict+start":
                batch[-1]["start_index"] = rng.choice([None, 0, 2, -3, 2**70])
    return batch


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    mode=MODES,
    packed=st.booleans(),
    pad_left=st.booleans(),
    spec=st.sampled_from([presets.llama3(), presets.completion_only([7]), presets.chatml()]),
)
def test_fuzz_hostile_chat_collator(seed, mode, packed, pad_left, spec):
    trace(seed=seed, mode=mode, packed=packed, pad_left=pad_left, spec=spec)

    def build(hostile):
        batch = chat_batch(seed)
        return inject(batch, random.Random(seed + 1), shrink=mode == "shrink") if hostile else (batch, None)

    def collate(backend, batch):
        return ChatCollator(
            spec, 128001, pad_left=pad_left, packed=packed, on_empty="keep", backend=backend, return_num_learned=True
        )(batch)

    check(build, collate)


# ------------------------------------------------------------------------------------------ Higgs collators


def mutated(batch, mutations, mutate_one, seed):
    """batch with test_fuzz_native's mutations applied in turn (one that cannot apply is skipped), then some of
    its small tensors as lists; everything drawn from the seed."""
    local = random.Random(seed)
    for name in mutations:
        try:
            batch = mutate_one(batch, name, local)
        except (AttributeError, TypeError, RuntimeError, IndexError, ValueError):  # a mutation that cannot apply
            pass
    return as_lists(batch, random.Random(seed + 2))


def boson_batch(seed, mutations):
    batch = random_batch(seed, with_labels=seed % 3 != 0, with_audio_labels=seed % 2 == 0, size=seed % 2 + 1)
    return mutated(batch, mutations, mutate, seed)


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    mode=MODES,
    mutations=st.lists(st.sampled_from(MUTATIONS), max_size=2),
    delay=st.booleans(),
    label_spec=st.booleans(),
)
def test_fuzz_hostile_higgs_collator(seed, mode, mutations, delay, label_spec):
    trace(seed=seed, mode=mode, mutations=mutations, delay=delay, label_spec=label_spec)
    kwargs = dict(
        whisper_processor=None,
        **KW,
        encode_whisper_embed=False,
        use_delay_pattern=delay,
        label_spec=presets.llama3() if label_spec else None,
        on_empty="keep",
    )

    def build(hostile):
        batch = boson_batch(seed, mutations)
        return inject(batch, random.Random(seed + 1), shrink=mode == "shrink") if hostile else (batch, None)

    def collate(backend, batch):
        return HiggsAudioSampleCollator(**kwargs, backend=backend)(batch)

    check(build, collate)


def v2_batch(seed, mutations, correct):
    features = random_features(seed, correct=correct, objects=seed % 4 == 0, size=seed % 2 + 1, max_len=6, max_clips=2)
    return mutated(features, mutations, mutate_v2, seed)


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    mode=MODES,
    mutations=st.lists(st.sampled_from(V2_MUTATIONS), max_size=2),
    correct=st.booleans(),
    left=st.booleans(),
)
def test_fuzz_hostile_higgs_hf_collator(seed, mode, mutations, correct, left):
    trace(seed=seed, mode=mode, mutations=mutations, correct=correct, left=left)

    def build(hostile):
        features = v2_batch(seed, mutations, correct)
        return inject(features, random.Random(seed + 1), shrink=mode == "shrink") if hostile else (features, None)

    def collate(backend, features):
        return HiggsAudioV2Collator(
            128001,
            label_mode="correct" if correct else "processor",
            padding_side="left" if left else "right",
            on_empty="keep",
            backend=backend,
        )(features)

    check(build, collate)


# ------------------------------------------------------------------------------------------ ops (public)


def op_on(backend, run_op):
    """The ops have no backend argument: the twin runs with the compiled code switched off."""
    saved, switch.COMPILED = switch.COMPILED, backend == "cpu"
    try:
        return run_op()
    finally:
        switch.COMPILED = saved


def small_codes(rng, shape, dtype=None):
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    t = torch.randint(-5, 1030, shape, generator=g)
    t = t.to(dtype or rng.choice([torch.int16, torch.int32, torch.int64]))
    if rng.random() < 0.2 and t.dim() >= 2:
        t = t.transpose(-1, -2).contiguous().transpose(-1, -2)
    return t


def op_inputs(seed, op):
    """(function of the inputs, the inputs as a dict of lists, tensors and ints), all from the seed."""
    rng = random.Random(seed)
    if op == "labels":
        b, t = rng.randint(0, 3), rng.randint(0, 12)
        ids = torch.tensor([[rng.choice(LLAMA) for _ in range(t)] for _ in range(b)], dtype=torch.int64).reshape(b, t)
        ids = ids.to(rng.choice([torch.int32, torch.int64]))
        mask = None
        if rng.random() < 0.5:
            lengths = [rng.randint(0, t) for _ in range(b)]
            mask = torch.tensor([[int(j < n) for j in range(t)] for n in lengths]).reshape(b, t)
            mask = mask.to(rng.choice([torch.bool, torch.int32, torch.int64]))
        start = rng.choice([None, "list", "tensor"])
        if start == "list":
            start = [rng.choice([None, 0, 1, -1, 5]) for _ in range(b + (rng.random() < 0.1))]
        elif start == "tensor":
            start = torch.tensor([rng.randint(-1, 3) for _ in range(b)])
        # out and no_train sit in tuples, out of the liars' reach: the ops' shared checks read their Python-level
        # metadata (a lying out or no_train is refused alike on both paths, never written through).
        args = {"input_ids": ids, "attention_mask": mask, "start_index": start, "out": (None,)}
        if rng.random() < 0.3:
            args["out"] = (torch.empty(b, t, dtype=torch.int64),)
        # A start_index list under a spec that does not read it: the twin raises, the compiled path returns
        # labels (issue 21, item 5; tests/rolespan covers it): only under a spec that reads it.
        spec = presets.llama3() if start is not None else rng.choice([presets.llama3(), presets.completion_only([7])])
        return lambda a: ops.role_span_labels(
            a["input_ids"], spec, attention_mask=a["attention_mask"], start_index=a["start_index"], out=a["out"][0]
        ), args
    k, t = rng.randint(0, 4), rng.randint(0, 9)
    delays = rng.choice([None, "list"])
    if delays == "list":
        delays = [rng.choice([0, 1, 3, 12]) for _ in range(k + (rng.random() < 0.1))]
    layout = rng.choice(["BKT", "BTK"])
    if op in ("apply", "revert"):
        shape = (k, t) if layout == "BKT" else (t, k)
        shape = shape if rng.random() < 0.3 else (rng.randint(0, 3),) + shape
        args = {"codes": small_codes(rng, shape), "delays": delays}
        if op == "apply":
            mode = rng.choice(["extend", "preserve"])
            bos, pad = rng.choice([1024, -1, 5]), rng.choice([1025, 2**40])
            return lambda a: ops.apply_delay_pattern(
                a["codes"], bos, pad, delays=a["delays"], layout=layout, mode=mode
            ), args
        args["start_index"] = rng.choice([0, 1, 3])
        return lambda a: ops.revert_delay_pattern(
            a["codes"], delays=a["delays"], layout=layout, start_index=a["start_index"]
        ), args
    segments = rng.randint(0, 3)
    cuts = sorted(rng.randint(0, t) for _ in range(max(segments - 1, 0)))
    offsets = [0] + cuts + [t] if segments else [0]
    if rng.random() < 0.1:
        offsets = offsets[::-1]
    n = offsets[-1] if offsets else 0
    args = {
        "codes": small_codes(rng, (k, n) if layout == "BKT" else (n, k)),
        "offsets": torch.tensor(offsets, dtype=torch.int64) if rng.random() < 0.7 else offsets,
        "delays": delays,
    }
    bos_eos = rng.random() < 0.5
    if op == "apply_ragged":
        labels = rng.random() < 0.5
        args["no_train"] = rng.choice([None, [rng.random() < 0.5 for _ in range(segments)]])
        if args["no_train"] is not None and rng.random() < 0.5:
            args["no_train"] = (torch.tensor(args["no_train"], dtype=torch.bool),)
        return lambda a: ops.apply_delay_pattern_ragged(
            a["codes"],
            a["offsets"],
            1024,
            1025,
            delays=a["delays"],
            layout=layout,
            stream_bos_eos=bos_eos,
            return_labels=labels,
            no_train=a["no_train"][0] if isinstance(a["no_train"], tuple) else a["no_train"],
        ), args
    return lambda a: ops.revert_delay_pattern_ragged(
        a["codes"], a["offsets"], delays=a["delays"], layout=layout, stream_bos_eos=bos_eos
    ), args


def op_result(value):
    """An op's output (a tensor, a tuple or named tuple of tensors) as a dict assert_same compares."""
    if isinstance(value, Rejected):
        return value
    if isinstance(value, torch.Tensor):
        return {0: torch._C.TensorBase.as_subclass(value, torch.Tensor)}
    return {i: v for i, v in enumerate(value)}


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1), op=st.sampled_from(["labels", "apply", "revert", "apply_ragged", "revert_ragged"])
)
def test_fuzz_hostile_ops(seed, op):
    """The ops run every piece of hostile code (an __index__ in delays, start_index or offsets) in the checks
    both paths share, before the native pass: no storage is freed here (see FREED_ARGS)."""
    trace(seed=seed, op=op)

    def build(hostile):
        fn, args = op_inputs(seed, op)
        if not hostile:
            return (fn, args), None
        # The ops' list arguments (delays, offsets, start_index) are options read through Python's protocols
        # by the checks both paths share: no lying containers there.
        args, injected = inject(args, random.Random(seed + 1), containers=False)
        return (fn, args), injected

    def collate(backend, built):
        fn, args = built
        return op_result(op_on(backend, lambda: fn(args)))

    check(build, collate, live_lists=True)


# ------------------------------------------------------------------------------------------ _core, directly


def hostile_arg(t, rng):
    """A _core argument: as drawn, a lying or wrapper subclass, or (FREED_ARGS) a tensor whose storage was
    freed."""
    if not isinstance(t, torch.Tensor):
        return t
    kind = rng.choice(["plain", "liar", "liar", "wrapper"] + (["freed"] if FREED_ARGS else []))
    if kind == "liar":
        return t.as_subclass(rng.choice(LIARS))
    if kind == "wrapper":
        try:
            return TwoTensor(t, t)
        except Exception:
            return t
    if kind == "freed" and t.untyped_storage().resizable():
        t = t.clone()
        t.untyped_storage().resize_(0)
    return t


@FUZZ
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_fuzz_hostile_core_entry_points(data, seed):
    """The private functions trust nothing: hostile tensors and batches return or raise ValueError/TypeError."""
    trace(seed=seed)
    from fastcollate import _core
    from fastcollate.higgs_boson.native import native_options as boson_options
    from fastcollate.higgs_hf.native import native_options as hf_options
    from fastcollate.rolespan.native import native_spec

    draw = data.draw
    rng = random.Random(seed)
    ints = st.sampled_from([0, 1, -1, 3, 2**31, 2**63 - 1])
    t = lambda: hostile_arg(tensor_like(draw), rng)  # noqa: E731
    delays = draw(st.lists(ints, max_size=4))
    spec = native_spec(presets.llama3())
    name = draw(
        st.sampled_from(
            [
                "delay_apply",
                "delay_revert",
                "delay_apply_ragged",
                "delay_revert_ragged",
                "role_span_labels",
                "collate_rolespan",
                "collate_rolespan_flat",
                "collate_rolespan_chunks",
                "collate_higgs",
                "collate_higgs_hf",
            ]
        )
    )
    calls = {
        **tensor_core_calls(_core, draw, t, ints, delays, spec),
        "collate_rolespan": lambda: _core.rolespan.collate(
            inject([f["input_ids"] if isinstance(f, dict) else f for f in chat_batch(seed)], rng, shrink=True)[0],
            spec,
            0,
            draw(st.booleans()),
            1,
            draw(st.booleans()),
            None,
        ),
        "collate_higgs": lambda: _core.higgs_boson.collate(
            inject(boson_batch(seed, []), rng, shrink=True)[0],
            boson_options(HiggsAudioSampleCollator(whisper_processor=None, **KW, encode_whisper_embed=False).config),
            draw(st.one_of(st.none(), st.lists(ints, max_size=6))),
        ),
        "collate_higgs_hf": lambda: _core.higgs_hf.collate(
            inject(v2_batch(seed, [], False), rng, shrink=True)[0],
            hf_options(HiggsAudioV2Collator(128001).config),
            draw(st.booleans()),
        ),
    }
    outcome(calls[name])  # returns or is Rejected; anything else (a crash, a std::bad_alloc) ends the run
