"""The compiled delay-pattern ops == their pure-Python twins, bit for bit, on hypothesis-drawn (seeded)
shapes, delays, layouts, modes, dtypes and memory layouts (T = 0, T < max delay, K = 0, 1, 32, zero-length
and zero segments, transposed and strided views, BOS == PAD). Each compiled result is checked three ways:
the public function (eager), the registered torch.library op (what torch.compile calls) and the one-element
kernels run for every index (the CUDA form)."""

import pytest
import torch
from conftest import COMPILED
from hypothesis import given, settings
from ops_inputs import divisor_padded_cases, divisor_ragged_cases, padded_cases, ragged_cases

import fastcollate
from fastcollate.delay import delay_pattern_reference as twin

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
SETTINGS = settings(derandomize=True, max_examples=300, deadline=None)
ops = torch.ops.fastcollate


def assert_equal(got, want, context):
    assert got.dtype == want.dtype and got.shape == want.shape and torch.equal(got, want), context


def delays_of(case_delays, tensor, layout, ragged=False):
    """The delay list an op takes (torch.ops and the compiled functions have no default)."""
    if case_delays is not None:
        return list(case_delays)
    k_dim = -1 if layout == "BTK" else (0 if ragged else -2)
    return list(range(tensor.shape[k_dim]))


def core():
    from fastcollate import _core

    return _core


@SETTINGS
@given(padded_cases())
def test_apply_equals_twin(case):
    codes, bos, pad, delays, layout, mode = case
    before = codes.clone()
    want = twin.apply_delay_pattern(codes, bos, pad, delays=delays, layout=layout, mode=mode)
    got = fastcollate.apply_delay_pattern(codes, bos, pad, delays=delays, layout=layout, mode=mode)
    d = delays_of(delays, codes, layout)
    stacked = ops.apply_delay_pattern(codes, bos, pad, d, layout, mode == "extend")
    per_element = (torch.full_like(want[0], 77), torch.full_like(want[1], 77))
    core().delay.apply(codes, bos, pad, d, layout == "BTK", mode == "extend", *per_element, per_element=True)
    for i in range(2):
        assert_equal(got[i], want[i], case)
        assert got[i].is_contiguous()  # contiguous in the input's layout
        assert_equal(stacked[i], want[i], case)
        assert_equal(per_element[i], want[i], case)
    assert torch.equal(codes, before)


@SETTINGS
@given(padded_cases())
def test_revert_equals_twin_and_undoes_apply(case):
    codes, bos, pad, delays, layout, mode = case
    delayed, _ = fastcollate.apply_delay_pattern(codes, bos, pad, delays=delays, layout=layout, mode=mode)
    d = delays_of(delays, codes, layout)
    t_dim = -2 if layout == "BTK" else -1
    length = codes.shape[t_dim]
    kept = length if mode == "extend" else max(0, length - max(d, default=0))  # "preserve" lost the tail
    for start in (0, 1, length // 2):
        want = twin.revert_delay_pattern(delayed, delays=delays, layout=layout, start_index=start)
        got = fastcollate.revert_delay_pattern(delayed, delays=delays, layout=layout, start_index=start)
        assert_equal(got, want, (case, start))
        assert_equal(ops.revert_delay_pattern(delayed, d, layout, start), want, (case, start))
        per_element = torch.full_like(want, 77)
        core().delay.revert(delayed, d, layout == "BTK", start, per_element, per_element=True)
        assert_equal(per_element, want, (case, start))
        # revert(apply(x)) == x: every code, or (preserve) the codes every codebook kept.
        assert_equal(got, codes.narrow(t_dim, min(start, kept), max(0, kept - start)).contiguous(), (case, start))


@SETTINGS
@given(ragged_cases())
def test_apply_ragged_equals_twin(case):
    codes, offsets, bos, pad, delays, layout, wrap, return_labels, no_train = case
    kwargs = dict(delays=delays, layout=layout, stream_bos_eos=wrap, return_labels=return_labels, no_train=no_train)
    want = twin.apply_delay_pattern_ragged(codes, offsets, bos, pad, **kwargs)
    got = fastcollate.apply_delay_pattern_ragged(codes, offsets, bos, pad, **kwargs)
    assert_equal(got.codes, want.codes, case)
    assert_equal(got.offsets, want.offsets, case)
    assert (got.labels is None) == (want.labels is None) == (not return_labels)
    if return_labels:
        assert_equal(got.labels, want.labels, case)
    d = delays_of(delays, codes, layout, ragged=True)
    op = ops.apply_delay_pattern_ragged(codes, offsets, bos, pad, d, layout, wrap, return_labels, no_train)
    assert_equal(op[0], want.codes, case)
    assert_equal(op[1], want.offsets, case)
    if return_labels:
        assert_equal(op[2], want.labels, case)
    per_element = torch.full_like(want.codes, 77), torch.empty_like(want.offsets)
    labels = torch.full_like(want.labels, 77) if return_labels else None
    core().delay.apply_ragged(
        codes, offsets, bos, pad, d, layout == "BTK", wrap, *per_element, labels, no_train, per_element=True
    )
    assert_equal(per_element[0], want.codes, case)
    assert_equal(per_element[1], want.offsets, case)
    if return_labels:
        assert_equal(labels, want.labels, case)


@SETTINGS
@given(ragged_cases())
def test_revert_ragged_equals_twin_and_undoes_apply(case):
    codes, offsets, bos, pad, delays, layout, wrap, _, _ = case
    delayed = fastcollate.apply_delay_pattern_ragged(
        codes, offsets, bos, pad, delays=delays, layout=layout, stream_bos_eos=wrap
    )
    want = twin.revert_delay_pattern_ragged(
        delayed.codes, delayed.offsets, delays=delays, layout=layout, stream_bos_eos=wrap
    )
    got = fastcollate.revert_delay_pattern_ragged(
        delayed.codes, delayed.offsets, delays=delays, layout=layout, stream_bos_eos=wrap
    )
    assert_equal(got.codes, want.codes, case)
    assert_equal(got.offsets, want.offsets, case)
    assert_equal(got.codes, codes.contiguous(), case)  # the round trip
    assert_equal(got.offsets, offsets.long(), case)
    d = delays_of(delays, codes, layout, ragged=True)
    op = ops.revert_delay_pattern_ragged(delayed.codes, delayed.offsets, d, layout, wrap)
    assert_equal(op[0], want.codes, case)
    per_element = torch.full_like(want.codes, 77), torch.empty_like(want.offsets)
    core().delay.revert_ragged(delayed.codes, delayed.offsets, d, layout == "BTK", wrap, *per_element, per_element=True)
    assert_equal(per_element[0], want.codes, case)
    assert_equal(per_element[1], want.offsets, case)


@settings(SETTINGS, max_examples=100)
@given(divisor_padded_cases())
def test_one_element_kernels_divide_by_any_size(case):
    """The one-element kernels find each element by dividing its index by the codebooks and the width
    (csrc/common/fast_div.h): sizes of 1, primes, powers of two and their neighbours, up to 131071 columns."""
    codes, bos, pad, delays, layout, mode = case
    want = twin.apply_delay_pattern(codes, bos, pad, delays=delays, layout=layout, mode=mode)
    per_element = (torch.full_like(want[0], 77), torch.full_like(want[1], 77))
    core().delay.apply(codes, bos, pad, delays, layout == "BTK", mode == "extend", *per_element, per_element=True)
    assert_equal(per_element[0], want[0], case)
    assert_equal(per_element[1], want[1], case)
    back = twin.revert_delay_pattern(want[0], delays=delays, layout=layout)
    per_element = torch.full_like(back, 77)
    core().delay.revert(want[0], delays, layout == "BTK", 0, per_element, per_element=True)
    assert_equal(per_element, back, case)


@settings(SETTINGS, max_examples=100)
@given(divisor_ragged_cases())
def test_one_element_ragged_kernels_divide_by_any_size(case):
    codes, offsets, bos, pad, delays, layout, wrap, return_labels, _ = case
    want = twin.apply_delay_pattern_ragged(
        codes, offsets, bos, pad, delays=delays, layout=layout, stream_bos_eos=wrap, return_labels=return_labels
    )
    per_element = torch.full_like(want.codes, 77), torch.empty_like(want.offsets)
    labels = torch.full_like(want.labels, 77) if return_labels else None
    core().delay.apply_ragged(
        codes, offsets, bos, pad, delays, layout == "BTK", wrap, *per_element, labels, None, per_element=True
    )
    assert_equal(per_element[0], want.codes, case)
    if return_labels:
        assert_equal(labels, want.labels, case)
    back = twin.revert_delay_pattern_ragged(want.codes, want.offsets, delays=delays, layout=layout, stream_bos_eos=wrap)
    per_element = torch.full_like(back.codes, 77), torch.empty_like(back.offsets)
    core().delay.revert_ragged(want.codes, want.offsets, delays, layout == "BTK", wrap, *per_element, per_element=True)
    assert_equal(per_element[0], back.codes, case)


def test_fill_releases_the_gil_and_is_thread_safe():
    from concurrent.futures import ThreadPoolExecutor

    codes = torch.randint(0, 1024, (16, 8, 750))
    want = fastcollate.apply_delay_pattern(codes, 1024, 1025)
    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(lambda _: fastcollate.apply_delay_pattern(codes, 1024, 1025), range(16)):
            assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
