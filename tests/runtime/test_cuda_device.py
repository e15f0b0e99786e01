"""The CUDA path on a GPU (marker `cuda`; skipped where no device is usable, e.g. every CI machine): every op
and both collators give on the device exactly what they give on the CPU, bit for bit; an op runs under CUDA
graph capture and under torch.compile(fullgraph=True); value errors found by the kernels raise the CPU
path's ValueError; compute-sanitizer (memcheck, racecheck) finds nothing on a small case.

benchmarks/gpu_check.sh runs these, then the benchmarks.
"""

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from higgs_samples import random_batch
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_inputs import padded_cases, ragged_cases
from test_higgs_boson_backends_equal import FLAGS, collate_both
from test_output_tensors import assert_no_overlap, tensors
from test_rolespan_equivalence import batches
from test_rolespan_labels_op import padded_batches

import fastcollate
from fastcollate.delay import delay_pattern_reference as twin

CUDA = fastcollate.backend_info()["cuda"]
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not CUDA["usable"], reason=f"no usable CUDA device: {CUDA['reason']}"),
]
SETTINGS = settings(derandomize=True, max_examples=120, deadline=None)


def on_gpu(t):
    """The same values on the GPU with the same strides (strided and transposed views stay so)."""
    if t is None or not isinstance(t, torch.Tensor):
        return t
    out = torch.empty_strided(t.size(), t.stride(), dtype=t.dtype, device="cuda")
    return out.copy_(t)


def rolespan_kernels():
    """Each role-span row kernel in turn as the process-wide choice (_core.rolespan.set_kernel), then the one
    before: the role-span tests compare both with the CPU path."""
    from fastcollate import _core

    before = _core.rolespan.kernel()
    try:
        for kernel in ("scan", "compact"):
            _core.rolespan.set_kernel(kernel)
            yield kernel
    finally:
        _core.rolespan.set_kernel(before)


def assert_same(got, want, context=None):
    assert got.device.type == "cuda", context
    assert got.dtype == want.dtype and got.shape == want.shape and torch.equal(got.cpu(), want), context


@SETTINGS
@given(padded_cases())
def test_delay_pattern_on_gpu_equals_cpu(case):
    codes, bos, pad, delays, layout, mode = case
    want = fastcollate.apply_delay_pattern(codes, bos, pad, delays=delays, layout=layout, mode=mode)
    got = fastcollate.apply_delay_pattern(on_gpu(codes), bos, pad, delays=delays, layout=layout, mode=mode)
    assert_same(got[0], want[0], case)
    assert_same(got[1], want[1], case)
    out = (torch.full_like(got[0], 7), torch.full_like(got[1], 7))
    fastcollate.apply_delay_pattern(on_gpu(codes), bos, pad, delays=delays, layout=layout, mode=mode, out=out)
    assert_same(out[0], want[0], case)
    for start in (0, 1):
        back = fastcollate.revert_delay_pattern(want[0], delays=delays, layout=layout, start_index=start)
        assert_same(
            fastcollate.revert_delay_pattern(on_gpu(want[0]), delays=delays, layout=layout, start_index=start),
            back,
            case,
        )


@SETTINGS
@given(ragged_cases())
def test_ragged_delay_pattern_on_gpu_equals_cpu(case):
    codes, offsets, bos, pad, delays, layout, wrap, return_labels, no_train = case
    kwargs = dict(delays=delays, layout=layout, stream_bos_eos=wrap, return_labels=return_labels)
    want = fastcollate.apply_delay_pattern_ragged(codes, offsets, bos, pad, no_train=no_train, **kwargs)
    got = fastcollate.apply_delay_pattern_ragged(
        on_gpu(codes), on_gpu(offsets), bos, pad, no_train=on_gpu(no_train), **kwargs
    )
    assert_same(got.codes, want.codes, case)
    assert_same(got.offsets, want.offsets, case)
    if return_labels:
        assert_same(got.labels, want.labels, case)
    back = fastcollate.revert_delay_pattern_ragged(
        want.codes, want.offsets, delays=delays, layout=layout, stream_bos_eos=wrap
    )
    got_back = fastcollate.revert_delay_pattern_ragged(
        on_gpu(want.codes), on_gpu(want.offsets), delays=delays, layout=layout, stream_bos_eos=wrap
    )
    assert_same(got_back.codes, back.codes, case)
    assert_same(got_back.offsets, back.offsets, case)


@SETTINGS
@given(padded_batches())
def test_role_span_labels_on_gpu_equals_cpu(case):
    spec, ids, mask, starts = case
    want = fastcollate.role_span_labels(ids, spec, attention_mask=mask, start_index=starts)
    for kernel in rolespan_kernels():
        got = fastcollate.role_span_labels(on_gpu(ids), spec, attention_mask=on_gpu(mask), start_index=on_gpu(starts))
        assert_same(got, want, (case, kernel))


def test_value_errors_found_on_the_gpu_raise_the_cpu_message():
    codes = torch.arange(12, device="cuda").reshape(2, 6)
    with pytest.raises(ValueError, match=r"^offsets: decreases at entry 2 \(4 > 3\)$"):
        fastcollate.apply_delay_pattern_ragged(codes, torch.tensor([0, 4, 3, 6], device="cuda"), 1024, 1025)
    with pytest.raises(ValueError, match=r"^offsets: segment 0 has 2 columns, fewer than the 3 its delays"):
        fastcollate.revert_delay_pattern_ragged(
            torch.zeros((2, 10), dtype=torch.int64, device="cuda"),
            torch.tensor([0, 2, 10], device="cuda"),
            stream_bos_eos=True,
        )
    ids = torch.zeros((2, 3), dtype=torch.int64, device="cuda")
    with pytest.raises(ValueError, match=r"^attention_mask: row 1 has 2 at column 2, expected 0 or 1$"):
        fastcollate.role_span_labels(
            ids, fastcollate.presets.llama3(), attention_mask=torch.tensor([[1, 1, 0], [0, 1, 2]], device="cuda")
        )


def test_tensors_on_two_devices_are_a_value_error():
    codes = torch.zeros((2, 6), dtype=torch.int64, device="cuda")
    with pytest.raises(ValueError, match=r"^offsets: expected a tensor on cuda:0 like codes, got one on cpu$"):
        fastcollate.apply_delay_pattern_ragged(codes, torch.tensor([0, 6]), 1024, 1025)
    ids = torch.zeros((1, 3), dtype=torch.int64, device="cuda")
    with pytest.raises(ValueError, match=r"^attention_mask: expected a tensor on cuda:0 like input_ids, got one on "):
        fastcollate.role_span_labels(ids, fastcollate.presets.llama3(), attention_mask=torch.ones((1, 3)).long())
    with pytest.raises(ValueError, match=r"^out\[0\]: expected a tensor on cuda:0 like the inputs, got cpu$"):
        fastcollate.apply_delay_pattern(
            torch.zeros((2, 3, 4), dtype=torch.int64, device="cuda"),
            1,
            2,
            out=(torch.empty((2, 3, 6), dtype=torch.int64),) * 2,
        )


def test_ops_run_on_the_current_stream():
    codes = torch.randint(0, 1024, (16, 8, 750))
    want = fastcollate.apply_delay_pattern(codes, 1024, 1025)[0]
    stream = torch.cuda.Stream()
    gpu = on_gpu(codes)
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        got = fastcollate.apply_delay_pattern(gpu, 1024, 1025)[0]
    stream.synchronize()
    assert_same(got, want)


def test_cuda_graph_capture_of_the_ops():
    """Captured once, replayed on new inputs: the kernels launch inside the graph (no host synchronisation,
    no host-to-device copy of their parameters)."""
    from fastcollate.presets import llama3

    codes = torch.randint(0, 1024, (4, 8, 50), device="cuda")
    packed = torch.randint(0, 1024, (8, 60), device="cuda")
    offsets = torch.tensor([0, 10, 10, 60], device="cuda")
    ids = torch.randint(0, 200000, (4, 64), device="cuda")
    # With a mask, the op's value check is skipped under capture (runtime.backend.check_status).
    attention = torch.ones_like(ids)
    torch.cuda.synchronize()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm up outside the capture (allocator, lazy module loading)
        for _ in range(2):
            fastcollate.apply_delay_pattern(codes, 1024, 1025)
            fastcollate.apply_delay_pattern_ragged(packed, offsets, 1024, 1025, stream_bos_eos=True, return_labels=True)
            fastcollate.role_span_labels(ids, llama3())
            fastcollate.role_span_labels(ids, llama3(), attention_mask=attention)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        delayed, mask = fastcollate.apply_delay_pattern(codes, 1024, 1025)
        ragged = fastcollate.apply_delay_pattern_ragged(
            packed, offsets, 1024, 1025, stream_bos_eos=True, return_labels=True
        )
        labels = fastcollate.role_span_labels(ids, llama3())
        labels_masked = fastcollate.role_span_labels(ids, llama3(), attention_mask=attention)
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        codes.copy_(torch.randint(0, 1024, codes.shape, generator=g))
        packed.copy_(torch.randint(0, 1024, packed.shape, generator=g))
        ids.copy_(torch.randint(0, 200000, ids.shape, generator=g))
        graph.replay()
        torch.cuda.synchronize()
        want = twin.apply_delay_pattern(codes.cpu(), 1024, 1025)
        assert torch.equal(delayed.cpu(), want[0]) and torch.equal(mask.cpu(), want[1])
        want_ragged = twin.apply_delay_pattern_ragged(
            packed.cpu(), offsets.cpu(), 1024, 1025, stream_bos_eos=True, return_labels=True
        )
        assert torch.equal(ragged.codes.cpu(), want_ragged.codes)
        assert torch.equal(ragged.labels.cpu(), want_ragged.labels)
        assert torch.equal(labels.cpu(), fastcollate.role_span_labels(ids.cpu(), llama3()))
        assert torch.equal(labels_masked.cpu(), labels.cpu())


def set_sync_debug_mode(mode: str) -> None:
    with warnings.catch_warnings():  # torch warns that the mode is a prototype (an error under our filters)
        warnings.simplefilter("ignore")
        torch.cuda.set_sync_debug_mode(mode)


def test_ops_without_value_checks_never_wait_for_the_device():
    """The padded delay-pattern ops and role_span_labels without a mask read nothing that can be invalid: they
    launch and return, with no status to copy back (torch's sync debug mode raises on any wait)."""
    ids = torch.randint(0, 200000, (4, 64), device="cuda")
    codes = torch.randint(0, 1024, (4, 8, 50), device="cuda")
    spec = fastcollate.presets.llama3()
    torch.cuda.synchronize()
    try:
        set_sync_debug_mode("error")
        labels = fastcollate.role_span_labels(ids, spec)
        delayed, _ = fastcollate.apply_delay_pattern(codes, 1024, 1025)
        back = fastcollate.revert_delay_pattern(delayed)
    finally:
        set_sync_debug_mode("default")
    assert torch.equal(labels.cpu(), fastcollate.role_span_labels(ids.cpu(), spec))
    assert torch.equal(back.cpu(), codes.cpu())


def test_torch_compile_without_graph_breaks_on_gpu():
    from test_torch_compile import inputs, pipeline

    torch._dynamo.reset()
    cpu_inputs = inputs()
    gpu_inputs = [on_gpu(t) if isinstance(t, torch.Tensor) else tuple(on_gpu(x) for x in t) for t in inputs()]
    want = pipeline(*cpu_inputs)
    got = torch.compile(pipeline, fullgraph=True)(*gpu_inputs)
    for g, w in zip(got, want, strict=True):
        assert_same(g, w)


def assert_batches_same(got, want):
    for name, w in vars(want).items():
        g = getattr(got, name)
        if w is None:
            assert g is None, name
        else:
            assert_same(g, w, name)


@pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning")
@settings(derandomize=True, max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), flags=FLAGS, with_labels=st.booleans())
def test_higgs_collator_on_gpu_equals_cpu(seed, flags, with_labels):
    batch = random_batch(seed, audio_num_codebooks=flags["audio_num_codebooks"], with_labels=with_labels)
    want, got = collate_both(batch, backends=("cpu", "cuda"), **flags)
    if isinstance(want, ValueError) or isinstance(got, ValueError):
        assert str(want) == str(got)
        return
    assert_batches_same(got, want)


@pytest.mark.parametrize("size", [16, 64])
def test_higgs_tts_batch_on_gpu(size):
    from fastcollate.synthetic import higgs_collator_kwargs, synthetic_tts_batch

    batch = synthetic_tts_batch(size, seed=size)
    want = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cpu")(batch)
    got = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cuda", device="cuda:0")(batch)
    assert_batches_same(got, want)


@SETTINGS
@given(batches())
def test_chat_collator_on_gpu_equals_cpu(case):
    spec, rows, starts, layout, dtype, _ = case
    features = [
        {"input_ids": torch.tensor(r, dtype=dtype), "start_index": s}
        for r, s in zip(rows, starts or [None] * len(rows))
    ]
    if spec.unread_start_index_reason() is not None:
        features = [{"input_ids": f["input_ids"]} for f in features]
    kwargs = dict(
        pad_left=layout["pad_left"],
        packed=layout["packed"],
        on_empty="keep",
        return_num_learned=True,
        pad_to_multiple_of=None if layout["packed"] else layout["pad_to_multiple_of"],
    )
    want = fastcollate.ChatCollator(spec, layout["pad_token_id"], backend="cpu", **kwargs)(features)
    for kernel in rolespan_kernels():
        got = fastcollate.ChatCollator(spec, layout["pad_token_id"], backend="cuda", **kwargs)(features)
        assert want.keys() == got.keys()
        for k, w in want.items():
            if isinstance(w, torch.Tensor):
                assert_same(got[k], w, (k, kernel))
            else:
                assert got[k] == w, (k, kernel)


@pytest.mark.parametrize("packed", [False, True])
def test_device_outputs_do_not_overlap(packed):
    """A batch's device outputs are views of one torch.empty of bytes (csrc/python/output_arena.cpp)."""
    from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

    rows = [s.input_ids for s in synthetic_text_batch(6, 90, seed=11)]
    chat = fastcollate.ChatCollator(fastcollate.presets.llama3(), 128001, packed=packed, backend="cuda")(rows)
    higgs = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cuda", device="cuda:0")(
        synthetic_tts_batch(5, seed=12, audio_seconds=(0, 2))
    )
    for batch in (chat, vars(higgs)):
        got = tensors(batch)
        assert all(t.is_cuda and t.is_contiguous() for t in got.values())
        assert_no_overlap(got)


def find_sanitizer():
    found = shutil.which("compute-sanitizer")
    if found:
        return found
    for root in sorted(Path("/usr/local").glob("cuda*"), reverse=True):
        for candidate in (root / "bin" / "compute-sanitizer", root / "compute-sanitizer" / "compute-sanitizer"):
            if candidate.is_file():
                return str(candidate)
    return None


@pytest.mark.parametrize("tool", ["memcheck", "racecheck"])
def test_compute_sanitizer_is_clean(tool):
    """Every kernel on a small case (tests/cuda_sanitizer_case.py) under compute-sanitizer: no error."""
    sanitizer = find_sanitizer()
    if sanitizer is None:
        pytest.skip("compute-sanitizer not found (PATH, /usr/local/cuda*/)")
    case = Path(__file__).resolve().parents[1] / "cuda_sanitizer_case.py"
    command = [sanitizer, "--tool", tool, "--error-exitcode", "9", sys.executable, str(case)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    report = result.stdout[-4000:] + result.stderr[-4000:]
    assert result.returncode == 0, report
    assert "sanitizer case ok" in result.stdout, report
    assert "0 errors" in result.stdout + result.stderr, report
