"""The CUDA kernels' bodies on the CPU grid runner (csrc/runtime/grid.h): every CUDA kernel runs
here, on every CI machine, through the very launch sequences the GPU runs (the _core kernel_* functions with device=-1),
and must equal the CPU path and the Python twins bit for bit over the existing hypothesis strategies.

Each case runs its threads in ascending or descending order within a phase (`reverse`): a body that read,
within one phase, what another thread writes in it (a race on the GPU) would differ between the two.
The parallel role-span forms, both row kernels (KERNELS: the chunk scan of csrc/rolespan/rolespan_scan.h and
the specials compaction of csrc/rolespan/rolespan_compact.h), are compared with the sequential state machine
(the compiled CPU path, rolespan_fill_row) and the Python reference, on rows of every length: a row of under 256
tokens puts one token per thread (every state crosses a chunk boundary), longer rows put many; rows of over
256 specials give the compaction's lanes several specials each.
"""

import pytest
import torch
from conftest import COMPILED
from higgs_samples import KW, random_batch
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_inputs import divisor_padded_cases, divisor_ragged_cases, padded_cases, ragged_cases
from test_delay_equivalence import assert_equal, delays_of
from test_higgs_boson_backends_equal import FLAGS as HIGGS_FLAGS
from test_rolespan_equivalence import assert_same, batches, completion_specs, conversation, role_specs
from test_rolespan_labels_op import padded_batches

import fastcollate
from fastcollate.delay import delay_pattern_reference as twin
from fastcollate.rolespan import rolespan_labels_reference as labels_twin
from fastcollate.rolespan.reference import collate_text_reference

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
SETTINGS = settings(derandomize=True, max_examples=300, deadline=None)
GRID = dict(device=-1)  # the CPU grid runner
KERNELS = ("scan", "compact")  # the role-span row kernels (_core.rolespan kernel_* `kernel=`)


def core():
    from fastcollate import _core

    return _core


def spec_of(spec):
    from fastcollate.rolespan.native import native_spec

    return native_spec(spec)


def check_padded_kernels(case, reverse, index64):
    codes, bos, pad, delays, layout, mode = case
    d = delays_of(delays, codes, layout)
    want = twin.apply_delay_pattern(codes, bos, pad, delays=delays, layout=layout, mode=mode)
    got = (torch.full_like(want[0], 77), torch.full_like(want[1], 77))
    core().delay.kernel_apply(
        codes, bos, pad, d, layout == "BTK", mode == "extend", *got, reverse=reverse, index64=index64, **GRID
    )
    assert_equal(got[0], want[0], (case, index64))
    assert_equal(got[1], want[1], (case, index64))
    for start in (0, 1):
        codes_back = twin.revert_delay_pattern(want[0], delays=delays, layout=layout, start_index=start)
        out = torch.full_like(codes_back, 77)
        core().delay.kernel_revert(want[0], d, layout == "BTK", start, out, reverse=reverse, index64=index64, **GRID)
        assert_equal(out, codes_back, (case, start, index64))


# index64: the kernels divide indices in 64 bits, as for outputs of over 2^32 elements, instead of the 32-bit
# multiply-high division (csrc/common/fast_div.h) every smaller output takes.
@SETTINGS
@given(padded_cases(), st.booleans(), st.booleans())
def test_delay_apply_and_revert_kernels(case, reverse, index64):
    check_padded_kernels(case, reverse, index64)


@settings(SETTINGS, max_examples=150)
@given(divisor_padded_cases(), st.booleans())
def test_delay_kernels_divide_by_any_size(case, index64):
    """Codebooks and widths of 1, primes, powers of two and their neighbours, up to 131071 columns."""
    check_padded_kernels(case, False, index64)


def ragged_outputs(shape, dtype, segments, labels):
    return (
        torch.full(shape, 77, dtype=dtype),
        torch.full((segments + 1,), 77, dtype=torch.int64),
        torch.full(shape, 77, dtype=torch.int64) if labels else None,
        torch.zeros(1, dtype=torch.int32),
    )


def check_ragged_kernels(case, reverse, index64):
    codes, offsets, bos, pad, delays, layout, wrap, return_labels, no_train = case
    d = delays_of(delays, codes, layout, ragged=True)
    want = twin.apply_delay_pattern_ragged(
        codes,
        offsets,
        bos,
        pad,
        delays=delays,
        layout=layout,
        stream_bos_eos=wrap,
        return_labels=return_labels,
        no_train=no_train,
    )
    delayed, new_offsets, labels, status = ragged_outputs(
        want.codes.shape, codes.dtype, len(offsets) - 1, return_labels
    )
    core().delay.kernel_apply_ragged(
        codes,
        offsets.long(),
        bos,
        pad,
        d,
        layout == "BTK",
        wrap,
        delayed,
        new_offsets,
        labels,
        no_train,
        status,
        reverse=reverse,
        index64=index64,
        **GRID,
    )
    assert status.item() == 0
    assert_equal(delayed, want.codes, (case, index64))
    assert_equal(new_offsets, want.offsets, (case, index64))
    if return_labels:
        assert_equal(labels, want.labels, (case, index64))
    back = twin.revert_delay_pattern_ragged(want.codes, want.offsets, delays=delays, layout=layout, stream_bos_eos=wrap)
    codes_out, offsets_out, _, status = ragged_outputs(back.codes.shape, codes.dtype, len(offsets) - 1, False)
    core().delay.kernel_revert_ragged(
        want.codes,
        want.offsets,
        d,
        layout == "BTK",
        wrap,
        codes_out,
        offsets_out,
        status,
        reverse=reverse,
        index64=index64,
        **GRID,
    )
    assert status.item() == 0
    assert_equal(codes_out, back.codes, (case, index64))
    assert_equal(offsets_out, back.offsets, (case, index64))


@SETTINGS
@given(ragged_cases(), st.booleans(), st.booleans())
def test_delay_ragged_kernels(case, reverse, index64):
    check_ragged_kernels(case, reverse, index64)


@settings(SETTINGS, max_examples=150)
@given(divisor_ragged_cases(), st.booleans())
def test_delay_ragged_kernels_divide_by_any_size(case, index64):
    """Codebooks and packed widths of 1, primes, powers of two and their neighbours, up to 131071 columns."""
    check_ragged_kernels(case, False, index64)


@pytest.mark.parametrize("offsets", [[1, 3, 6], [0, 4, 3, 6], [0, 3, 5]])
def test_ragged_kernel_refuses_bad_offsets_without_touching_memory(offsets):
    """Offsets that do not start at 0, decrease or miss the end: status is raised, nothing is read or written
    (the fill kernel returns at once); runtime.backend.check_status then raises the CPU check's ValueError."""
    codes = torch.arange(12).reshape(2, 6)
    segments = len(offsets) - 1
    delayed, new_offsets, labels, status = ragged_outputs((2, 6 + segments * 3), codes.dtype, segments, True)
    core().delay.kernel_apply_ragged(
        codes,
        torch.tensor(offsets),
        1024,
        1025,
        [0, 1],
        False,
        True,
        delayed,
        new_offsets,
        labels,
        None,
        status,
        **GRID,
    )
    assert status.item() == 1
    assert (delayed == 77).all() and (labels == 77).all()
    # Revert: a segment narrower than its delays and stream BOS/EOS is refused too.
    wide = torch.arange(20).reshape(2, 10)
    out, offsets_out, _, status = ragged_outputs((2, 10 - 2 * 4), codes.dtype, 2, False)
    core().delay.kernel_revert_ragged(
        wide, torch.tensor([0, 2, 10]), [0, 2], False, True, out, offsets_out, status, **GRID
    )
    assert status.item() == 1 and (out == 77).all()


# Rows of up to `stage_limit` tokens run from shared memory (one coalesced read, keep flags, one coalesced write
# per output), longer ones from global memory (csrc/rolespan/rolespan_scan.h): -1 is the default (every row of
# these tests is staged), 0 stages none, a small limit mixes the two in one batch.
STAGE_LIMITS = st.sampled_from([-1, -1, 0, 4])


@SETTINGS
@given(padded_batches(), st.booleans(), STAGE_LIMITS)
def test_role_span_labels_kernel(case, reverse, stage_limit):
    spec, ids, mask, starts = case
    want = labels_twin.role_span_labels(ids, spec, attention_mask=mask, start_index=starts)
    assert_equal(fastcollate.role_span_labels(ids, spec, attention_mask=mask, start_index=starts), want, case)
    if isinstance(starts, list):
        starts = torch.tensor([0 if s is None else s for s in starts], dtype=torch.int64)  # [] too
    want_unmasked = labels_twin.role_span_labels(ids, spec, start_index=starts)
    for kernel in KERNELS:
        out, status = torch.full(ids.shape, 5, dtype=torch.int64), torch.zeros(1, dtype=torch.int32)
        run = dict(reverse=reverse, stage_limit=stage_limit, kernel=kernel, **GRID)
        core().rolespan.kernel_labels(ids, mask, starts, spec_of(spec), out, status, **run)
        assert status.item() == 0
        assert_equal(out, want, (case, kernel))
        out.fill_(5)
        # Without a mask nothing can be invalid: the CUDA op passes no status (and never waits for one).
        core().rolespan.kernel_labels(ids, None, starts, spec_of(spec), out, None, **run)
        assert_equal(out, want_unmasked, (case, kernel))


def test_role_span_labels_kernel_needs_a_status_with_a_mask():
    from fastcollate.presets import llama3

    ids, out = torch.zeros((2, 3), dtype=torch.int64), torch.full((2, 3), 5, dtype=torch.int64)
    with pytest.raises(ValueError, match="status: .*an attention_mask is given"):
        core().rolespan.kernel_labels(ids, torch.ones((2, 3)).long(), None, spec_of(llama3()), out, None, **GRID)
    assert (out == 5).all()


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("stage_limit", [-1, 0])
@pytest.mark.parametrize("row", [[1, 0, 1], [0, 1, 2], [0, 1, 0], [2, 1, 1]])
def test_role_span_labels_kernel_flags_bad_masks(row, stage_limit, kernel):
    from fastcollate.presets import llama3

    ids = torch.zeros((2, 3), dtype=torch.int64)
    mask = torch.tensor([[1, 1, 0], row])
    out, status = torch.full((2, 3), 5, dtype=torch.int64), torch.zeros(1, dtype=torch.int32)
    core().rolespan.kernel_labels(
        ids, mask, None, spec_of(llama3()), out, status, stage_limit=stage_limit, kernel=kernel, **GRID
    )
    assert status.item() == 1
    assert (out[1] == -100).all()  # the bad row: every label masked, no position outside the row written


def collate_kernel(rows, spec, starts, layout, reverse, stage_limit=-1, kernel=None):
    from fastcollate.rolespan.native import _result

    out = core().rolespan.kernel_collate(
        rows,
        spec_of(spec),
        layout["pad_token_id"],
        layout["pad_left"],
        layout["pad_to_multiple_of"],
        layout["packed"],
        starts,
        reverse=reverse,
        stage_limit=stage_limit,
        kernel=kernel,
        **GRID,
    )
    return _result(*out, packed=layout["packed"])


@SETTINGS
@given(batches(), st.booleans(), STAGE_LIMITS)
def test_collate_rolespan_kernel_equals_state_machine(case, reverse, stage_limit):
    """Short rows: one token per thread, so every state and marker crosses chunk boundaries."""
    from fastcollate.rolespan.native import collate_text_native

    spec, rows, starts, layout, dtype, _ = case
    tensors = [torch.tensor(r, dtype=dtype) for r in rows]
    want = collate_text_native(tensors, spec, start_indices=starts, **layout)  # rolespan_fill_row, row by row
    assert_same(want, collate_text_reference(rows, spec, start_indices=starts, **layout), case)
    for kernel in KERNELS:
        assert_same(want, collate_kernel(tensors, spec, starts, layout, reverse, stage_limit, kernel), (case, kernel))


@st.composite
def long_batches(draw):
    """Rows of 300 to ~1,300 tokens from the same tiny alphabet (several tokens per thread): conversations
    drawn by hypothesis, strung together by a seeded generator (the health check wants small draws)."""
    import random

    spec = draw(st.one_of(role_specs(), completion_specs()))
    pool = [c for c in draw(st.lists(conversation(spec), min_size=1, max_size=6)) if c] or [[0]]
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    rows = []
    for _ in range(rng.randint(1, 3)):
        row, target = [], rng.randint(300, 1200)
        while len(row) < target:
            row += rng.choice(pool)
        rows.append(row)
    starts = None
    if spec.unread_start_index_reason() is None and draw(st.booleans()):
        starts = [rng.choice([None, -1, 0, 3, 20, 60]) for _ in rows]
    layout = dict(
        pad_token_id=rng.randint(0, 9),
        pad_left=rng.random() < 0.5,
        pad_to_multiple_of=rng.choice([1, 8]),
        packed=rng.random() < 0.5,
    )
    if layout["packed"]:
        layout["pad_to_multiple_of"] = 1
    return spec, rows, starts, layout


@settings(derandomize=True, max_examples=60, deadline=None)
@given(long_batches(), st.booleans(), st.sampled_from([-1, 0, 700]))
def test_collate_rolespan_kernel_long_rows(case, reverse, stage_limit):
    from fastcollate.rolespan.native import collate_text_native

    spec, rows, starts, layout = case
    want = collate_text_native(rows, spec, start_indices=starts, **layout)
    for kernel in KERNELS:
        got = collate_kernel(rows, spec, starts, layout, reverse, stage_limit, kernel)
        assert_same(want, got, (spec, starts, layout, kernel))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("preset", ["llama3", "chatml"])
@pytest.mark.parametrize("packed", [False, True])
def test_collate_rolespan_kernel_presets(preset, packed, kernel):
    from fastcollate import presets
    from fastcollate.rolespan.native import collate_text_native
    from fastcollate.synthetic import synthetic_text_batch

    spec = getattr(presets, preset)()
    rows = [s.input_ids for s in synthetic_text_batch(8, 3000, seed=1, exchanges=4)]
    layout = dict(pad_token_id=128001, pad_left=not packed, pad_to_multiple_of=1, packed=packed)
    starts = [None, 0, 1, 2, 3, 4, 5, None] if spec.unread_start_index_reason() is None else None
    want = collate_text_native(rows, spec, start_indices=starts, **layout)
    for reverse, stage_limit in ((False, -1), (True, -1), (False, 0)):  # staged rows, then global memory
        assert_same(want, collate_kernel(rows, spec, starts, layout, reverse, stage_limit, kernel), (preset, reverse))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("masked", [False, True])
def test_role_span_labels_kernel_rows_longer_than_the_staging_area(masked, kernel):
    """Rows of more than 4096 tokens (csrc/rolespan/rolespan_scan.h kRolespanStageTokens) run from global memory;
    with a mask, the shorter rows of the same batch are staged."""
    from fastcollate.presets import llama3

    from fastcollate.synthetic import synthetic_text_batch

    spec = llama3()
    rows = [s.input_ids[:n] for s, n in zip(synthetic_text_batch(3, 5000, seed=4), (5000, 4100, 1500))]
    batch = fastcollate.ChatCollator(spec, 128001, pad_left=True, backend="cpu")(rows)
    ids, mask = batch["input_ids"], batch["attention_mask"] if masked else None
    out, status = torch.full(ids.shape, 5, dtype=torch.int64), torch.zeros(1, dtype=torch.int32)
    core().rolespan.kernel_labels(
        ids, mask, None, spec_of(spec), out, status if masked else None, kernel=kernel, **GRID
    )
    assert_equal(out, labels_twin.role_span_labels(ids, spec, attention_mask=mask), spec)


@pytest.mark.parametrize("kernel", KERNELS)
def test_token_id_minus_100_is_counted_as_the_reference_counts(kernel):
    """num_learned counts the labels that are not -100, as the Python reference does, even when an id inside
    a learned turn is -100 itself."""
    from fastcollate import presets

    spec = presets.llama3()
    rows = [[128000, 128006, 78191, 128007, 271, 5, -100, 6, 128009]]
    layout = dict(pad_token_id=0, pad_left=False, pad_to_multiple_of=1, packed=False)
    want = collate_text_reference(rows, spec, **layout)
    assert want["num_learned"].tolist() == [3]
    assert_same(want, collate_kernel(rows, spec, None, layout, False, kernel=kernel), rows)


@pytest.mark.parametrize("kernel", KERNELS)
def test_spec_past_the_kernel_limits_is_a_value_error(kernel):
    from fastcollate import RoleSpanSpec

    spec = RoleSpanSpec(turn_start=tuple(range(30)), header_end=(1,), roles={"assistant": (2,)})
    layout = dict(pad_token_id=0, pad_left=False, pad_to_multiple_of=1, packed=False)
    with pytest.raises(
        ValueError,
        match=r"^spec: turn_start of 30 tokens, header_end of 1 and a role of 1: the "
        r"CUDA kernels take turn_start up to 21 tokens",
    ):
        collate_kernel([[1, 2, 3]], spec, None, layout, False, kernel=kernel)


def llama3_rows(lengths, seed):
    """Rows of the given lengths: all specials (every id can change the state), none (plain ids only), or a chat
    (synthetic llama3 turns, cut), in turn; the specials include markers that start, end and break turns."""
    import random

    from fastcollate.synthetic import synthetic_text_batch

    rng = random.Random(seed)
    specials = [128006, 271, 128009, 128008]  # turn_start, header_end's last id, the end-of-turn ids
    chat = synthetic_text_batch(1, 6000, seed=seed, exchanges=40)[0].input_ids.tolist()
    rows = []
    for j, n in enumerate(lengths):
        kind = j % 3
        if kind == 0:
            rows.append([rng.choice(specials) for _ in range(n)])
        elif kind == 1:
            rows.append([rng.randrange(0, 128000) for _ in range(n)])
        else:
            start = rng.randrange(0, len(chat) - n + 1)
            rows.append(chat[start : start + n])
    return rows


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("turns", ["all", "last", "from_start_index"])
def test_rolespan_kernels_all_specials_none_and_many(turns, kernel):
    """Rows that are all specials, rows with none, and chats, of 1 to 5,000 tokens: up to 256 specials give each
    compaction lane at most one, more give lanes several (up to 20 at 5,000), and past 4,096 tokens a row runs
    the chunk scan from global memory in the same launch."""
    from fastcollate import presets
    from fastcollate.rolespan.native import collate_text_native

    spec = presets.llama3(turns=turns)
    lengths = [1, 2, 255, 256, 257, 300, 513, 1000, 3000, 4096, 4097, 5000]
    rows = llama3_rows(lengths, seed=len(turns))
    starts = [(7 * j) % 5 - 1 for j in range(len(rows))] if turns == "from_start_index" else None
    for packed in (False, True):
        layout = dict(pad_token_id=128001, pad_left=not packed, pad_to_multiple_of=1, packed=packed)
        want = collate_text_native(rows, spec, start_indices=starts, **layout)
        assert_same(want, collate_text_reference(rows, spec, start_indices=starts, **layout), (turns, packed))
        got = collate_kernel(rows, spec, starts, layout, packed, kernel=kernel)
        assert_same(want, got, (turns, packed, kernel))
    # role_span_labels: the same rows left-padded, with and without their attention mask, int64 and int32 ids
    # (the int32 ones a column-strided view).
    batch = collate_text_native(rows, spec, 128001, pad_left=True, start_indices=starts)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    start_index = None if starts is None else torch.tensor(starts, dtype=torch.int64)
    ids32 = ids.to(torch.int32).t().contiguous().t()
    for m in (mask, None):
        want = labels_twin.role_span_labels(ids, spec, attention_mask=m, start_index=starts)
        for x in (ids, ids32):
            out, status = torch.full(ids.shape, 5, dtype=torch.int64), torch.zeros(1, dtype=torch.int32)
            core().rolespan.kernel_labels(
                x, m, start_index, spec_of(spec), out, None if m is None else status, kernel=kernel, **GRID
            )
            assert status.item() == 0
            assert_equal(out, want, (turns, m is None, x.dtype, kernel))


def completion_preset(turns):
    from fastcollate import presets

    # llama3's assistant header as the response template, its user header as the instruction template.
    return presets.completion_only((128006, 78191, 128007, 271), (128006, 882, 128007, 271), turns=turns)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("turns", ["all", "last", "from_start_index"])
@pytest.mark.parametrize("preset", ["llama3", "chatml", "completion_only"])
def test_rolespan_kernels_every_preset_and_turns(preset, turns, kernel):
    """Every preset with every `turns`, staged and from global memory, padded left and right and packed."""
    from fastcollate import presets
    from fastcollate.rolespan.native import collate_text_native
    from fastcollate.synthetic import synthetic_text_batch

    if preset == "completion_only":
        spec = completion_preset(turns)
    else:
        spec = getattr(presets, preset)(turns=turns)
    rows = [s.input_ids[: 300 + 500 * j] for j, s in enumerate(synthetic_text_batch(5, 2500, seed=3, exchanges=6))]
    if preset == "chatml":  # llama3's ids as ChatML's: the same structure, other ids
        ids = {128006: 151644, 128009: 151645, 128007: 198, 271: 198, 9125: 8948, 882: 872, 78191: 77091}
        rows = [r.apply_(lambda v: ids.get(v, v)) for r in rows]
    starts = [None, 0, 2, 5, -1] if spec.unread_start_index_reason() is None else None
    for packed, pad_left in ((False, False), (False, True), (True, False)):
        layout = dict(pad_token_id=0, pad_left=pad_left, pad_to_multiple_of=8 if not packed else 1, packed=packed)
        want = collate_text_native(rows, spec, start_indices=starts, **layout)
        for stage_limit in (-1, 0, 1000):
            got = collate_kernel(rows, spec, starts, layout, pad_left, stage_limit, kernel)
            assert_same(want, got, (preset, turns, layout, stage_limit, kernel))


def test_rolespan_kernel_switch():
    """The kernel of calls that name none: set_kernel returns the previous one; a bad name is a ValueError."""
    from fastcollate.presets import llama3

    rolespan = core().rolespan
    rows = llama3_rows([40, 300, 700], seed=5)
    layout = dict(pad_token_id=0, pad_left=False, pad_to_multiple_of=1, packed=False)
    want = collate_kernel(rows, llama3(), None, layout, False, kernel="scan")
    before = rolespan.kernel()
    assert before in KERNELS
    try:
        for kernel in KERNELS:
            rolespan.set_kernel(kernel)
            assert rolespan.kernel() == kernel
            assert_same(want, collate_kernel(rows, llama3(), None, layout, False), kernel)
        assert rolespan.set_kernel("scan") == "compact"
        with pytest.raises(ValueError, match=r'^kernel: expected "scan" or "compact", got "fast"$'):
            rolespan.set_kernel("fast")
        with pytest.raises(ValueError, match=r'^kernel: expected "scan" or "compact", got "Compact"$'):
            collate_kernel(rows, llama3(), None, layout, False, kernel="Compact")
        assert rolespan.kernel() == "scan"
    finally:
        rolespan.set_kernel(before)


@pytest.mark.parametrize(
    "value, printed",
    [
        ("compact", "compact"),
        ("fast", 'ValueError FASTCOLLATE_ROLESPAN_KERNEL: expected "scan" or "compact", got "fast"'),
    ],
)
def test_rolespan_kernel_from_the_environment(value, printed, tmp_path):
    """FASTCOLLATE_ROLESPAN_KERNEL, read on first use, picks the default kernel; a bad value is a ValueError
    at that use."""
    import os
    import subprocess
    import sys

    code = (
        "from fastcollate import _core\n"
        "try:\n"
        "    print(_core.rolespan.kernel())\n"
        "except ValueError as exc:\n"
        "    print('ValueError', exc)\n"
    )
    env = dict(os.environ, FASTCOLLATE_ROLESPAN_KERNEL=value)
    # From tmp_path, so that the installed fastcollate (with its extension) is imported, not the source tree.
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == printed


def higgs_both(batch, options, chunk_counts=None, reverse=False):
    outcomes = []
    for run in (
        lambda: core().higgs_boson.collate(batch, options, chunk_counts),
        lambda: core().higgs_boson.kernel_collate(batch, options, chunk_counts, reverse=reverse, **GRID),
    ):
        try:
            outcomes.append(run())
        except ValueError as exc:
            outcomes.append(exc)
    return outcomes


def assert_higgs_equal(want, got, context):
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert str(want) == str(got), context
        return
    for field, (w, g) in enumerate(zip(want, got, strict=True)):
        if isinstance(w, torch.Tensor):
            assert_equal(g, w, (context, field))
        else:
            assert w == g, (context, field)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    flags=HIGGS_FLAGS,
    with_labels=st.booleans(),
    with_audio_labels=st.booleans(),
    reverse=st.booleans(),
)
def test_higgs_kernels_equal_cpu_fill(seed, flags, with_labels, with_audio_labels, reverse):
    batch = random_batch(
        seed,
        audio_num_codebooks=flags["audio_num_codebooks"],
        with_labels=with_labels,
        with_audio_labels=with_audio_labels,
    )
    collator = fastcollate.HiggsAudioSampleCollator(None, **KW, encode_whisper_embed=False, backend="cpu", **flags)
    want, got = higgs_both(batch, collator._native_options, reverse=reverse)
    assert_higgs_equal(want, got, (seed, flags))


@pytest.mark.parametrize("label_spec", [False, True])
def test_higgs_kernels_tts_batch_with_long_audio_repeats(label_spec):
    """A TTS batch, the whisper path's repeated <|audio_bos|><|AUDIO|><|audio_eos|> triples, and label_spec."""
    from fastcollate import presets
    from fastcollate.synthetic import synthetic_tts_batch

    batch = synthetic_tts_batch(16, seed=4)
    collator = fastcollate.HiggsAudioSampleCollator(
        None,
        **KW,
        encode_whisper_embed=False,
        backend="cpu",
        use_delay_pattern=True,
        return_audio_in_tokens=False,
        label_spec=presets.llama3() if label_spec else None,
    )
    audio_in = [int((s.input_ids == KW["audio_in_token_id"]).sum()) for s in batch]
    chunk_counts = [1 + (i + j) % 3 for i, n in enumerate(audio_in) for j in range(n)]
    assert sum(audio_in) > 0 and max(chunk_counts) > 1
    for counts in (None, chunk_counts):
        want, got = higgs_both(batch, collator._native_options, counts, reverse=label_spec)
        assert_higgs_equal(want, got, counts)


def test_tensors_on_two_devices_are_a_value_error():
    """An op runs where its main input is; another device for any other tensor is a ValueError (shown with
    meta tensors here; tests/runtime/test_cuda_device.py checks CPU tensors given with CUDA ones)."""
    from fastcollate.presets import llama3

    codes = torch.zeros((2, 6), dtype=torch.int64)
    with pytest.raises(ValueError, match=r"^offsets: expected a tensor on cpu like codes, got one on meta$"):
        fastcollate.apply_delay_pattern_ragged(codes, torch.tensor([0, 6], device="meta"), 1024, 1025)
    with pytest.raises(ValueError, match=r"^no_train: expected a tensor on cpu like codes, got one on meta$"):
        fastcollate.apply_delay_pattern_ragged(
            codes, [0, 6], 1024, 1025, return_labels=True, no_train=torch.zeros(1, dtype=torch.bool, device="meta")
        )
    with pytest.raises(ValueError, match=r"^offsets: expected a tensor on cpu like delayed, got one on meta$"):
        fastcollate.revert_delay_pattern_ragged(codes, torch.tensor([0, 6], device="meta"))
    ids = torch.zeros((1, 3), dtype=torch.int64)
    with pytest.raises(ValueError, match=r"^attention_mask: expected a tensor on cpu like input_ids, got one on meta$"):
        fastcollate.role_span_labels(ids, llama3(), attention_mask=torch.ones((1, 3), dtype=torch.int64, device="meta"))
    with pytest.raises(ValueError, match=r"^start_index: expected a tensor on cpu like input_ids, got one on meta$"):
        fastcollate.role_span_labels(ids, llama3(), start_index=torch.zeros(1, dtype=torch.int64, device="meta"))
