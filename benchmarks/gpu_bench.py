"""The GPU benchmark table of benchmarks/gpu_check.sh: every CUDA op against its torch-ops twin on the same
GPU and against a device-to-device copy of the op's output bytes, then end to end, the Higgs TTS batches
(and a text batch) collated on the CPU, pinned and copied, against backend="cuda".

    python3 benchmarks/gpu_bench.py [--out FILE.md] [--quick]

Two times per op, both CUDA-event medians on torch's current stream:
  * eager: the op called as users call it, in a loop; the host's work per call (argument checks, allocation,
    the launch, and for the ragged ops and role_span_labels with a mask the wait for their value check, see
    fastcollate/runtime/backend.py) is in it whenever it exceeds the kernels' time;
  * device: 10 calls captured in one CUDA graph and replayed, so only the kernels' own time counts (what
    the op's bandwidth is; the copy it is compared with is timed the same way).
GB/s counts the bytes an op must move: its inputs read once plus its outputs written once (device time); the
copy moves its output bytes (read + write). "of copy" is copy time / op time, device against device: 1.0
means the op's kernels run as fast as copying its output; "eager of copy" puts the eager time against it.
End to end is wall time on the host until the batch is on the GPU (torch.cuda.synchronize()).
role_span_labels and ChatCollator run with each role-span row kernel ("scan", the default, and "compact", the
specials compaction; set with _core.rolespan.set_kernel, internal, see docs/guide/cuda.md), named in the row.
Every result is checked against the CPU path before it is timed (a mismatch is flagged in the table and makes
the exit status 1).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time

import torch

import fastcollate
from fastcollate import _core, presets
from fastcollate.delay import delay_pattern_reference as twin
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch

DEVICE = torch.device("cuda", 0)
ROLESPAN_KERNELS = ("scan", "compact")


@contextlib.contextmanager
def rolespan_kernel(kernel: str):
    """`kernel` as the role-span row kernel of every call inside (eager loops and graph captures alike), the one
    before restored after."""
    before = _core.rolespan.set_kernel(kernel)
    try:
        yield
    finally:
        _core.rolespan.set_kernel(before)


def gpu_time(fn, *, repeat: int = 7, min_seconds: float = 0.02) -> float:
    """Median seconds per call, from CUDA events around a loop of calls sized to run min_seconds."""
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    once = max(start.elapsed_time(end) / 1e3, 1e-6)
    loops = max(1, min(1000, int(min_seconds / once)))
    times = []
    for _ in range(repeat):
        start.record()
        for _ in range(loops):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / loops)
    return statistics.median(times)


def graph_time(fn, *, calls: int = 10, repeat: int = 7) -> float:
    """Median device seconds per call of fn's kernels alone: `calls` calls captured in one CUDA graph, whose
    replays gpu_time() times (no host work and no launch gaps between the calls)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up off the default stream, as torch.cuda.graph's documentation asks
        fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(calls):
            fn()
    return gpu_time(graph.replay, repeat=repeat) / calls


def wall_time(fn, *, repeat: int = 15) -> float:
    """Median wall seconds of fn() plus torch.cuda.synchronize()."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def nbytes(*tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


def copy_time(out_bytes: int) -> float:
    """Device seconds of a device-to-device copy of `out_bytes` (graph replay, as the ops' device time)."""
    src = torch.empty(out_bytes, dtype=torch.uint8, device=DEVICE)
    dst = torch.empty_like(src)
    return graph_time(lambda: dst.copy_(src))


MISMATCHES = []  # cases whose CUDA result differs from the CPU path: timed anyway, flagged, exit status 1


def same(got, want, case: str) -> bool:
    got = got if isinstance(got, (tuple, list)) else (got,)
    want = want if isinstance(want, (tuple, list)) else (want,)
    for g, w in zip(got, want, strict=True):
        if g is None and w is None:
            continue
        if g is None or w is None or g.shape != w.shape or not torch.equal(g.cpu(), w.cpu()):
            MISMATCHES.append(case)
            print(f"gpu_bench: {case}: the CUDA result differs from the CPU path", file=sys.stderr)
            return False
    return True


def failed_row(name: str, exc: Exception, **fields) -> dict:
    MISMATCHES.append(f"{name}: {exc!r}")
    print(f"gpu_bench: {name}: {exc!r}", file=sys.stderr)
    return {"op": f"{name} (ERROR: {type(exc).__name__})", **fields}


def op_row(name: str, op, reference, reference_name: str, inputs, outputs_cpu) -> dict:
    try:
        return measure_op(name, op, reference, reference_name, inputs, outputs_cpu)
    except Exception as exc:  # noqa: BLE001 - reported in the table and the exit status; the other rows still run
        nan = float("nan")
        return failed_row(
            name,
            exc,
            op_us=nan,
            device_us=nan,
            ref_name=reference_name,
            ref_us=None,
            copy_us=nan,
            op_gbs=nan,
            copy_gbs=nan,
            of_copy=nan,
            eager_of_copy=nan,
        )


def measure_op(name: str, op, reference, reference_name: str, inputs, outputs_cpu) -> dict:
    outputs = op()
    ok = same(outputs, outputs_cpu, name)
    out = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    moved = nbytes(*inputs) + nbytes(*out)
    t_op = gpu_time(op)
    t_device = graph_time(op)
    t_ref = gpu_time(reference, repeat=3, min_seconds=0.0) if reference is not None else None
    t_copy = copy_time(nbytes(*out))
    return {
        "op": name if ok else f"{name} (MISMATCH)",
        "op_us": t_op * 1e6,
        "device_us": t_device * 1e6,
        "ref_name": reference_name,
        "ref_us": None if t_ref is None else t_ref * 1e6,
        "copy_us": t_copy * 1e6,
        "op_gbs": moved / t_device / 1e9,
        "copy_gbs": 2 * nbytes(*out) / t_copy / 1e9,
        "of_copy": t_copy / t_device,
        "eager_of_copy": t_copy / t_op,
    }


def op_rows(quick: bool) -> list:
    rows = []
    g = torch.Generator().manual_seed(0)
    shapes = [(16, 8, 750), (256, 8, 4096)] if not quick else [(16, 8, 750)]
    for shape in shapes:
        codes_cpu = torch.randint(0, 1024, shape, generator=g)
        codes = codes_cpu.to(DEVICE)
        want = fastcollate.apply_delay_pattern(codes_cpu, 1024, 1025)
        rows.append(
            op_row(
                f"apply_delay_pattern {shape}",
                lambda c=codes: fastcollate.apply_delay_pattern(c, 1024, 1025),
                lambda c=codes: twin.apply_delay_pattern(c, 1024, 1025),
                "torch-ops twin",
                [codes],
                want,
            )
        )
        btk_cpu = codes_cpu.transpose(1, 2).contiguous()
        btk = btk_cpu.to(DEVICE)
        want_btk = fastcollate.apply_delay_pattern(btk_cpu, 1024, 1025, layout="BTK")
        rows.append(
            op_row(
                f"apply_delay_pattern {tuple(btk.shape)} BTK",
                lambda c=btk: fastcollate.apply_delay_pattern(c, 1024, 1025, layout="BTK"),
                lambda c=btk: twin.apply_delay_pattern(c, 1024, 1025, layout="BTK"),
                "torch-ops twin",
                [btk],
                want_btk,
            )
        )
        delayed = want[0].to(DEVICE)
        rows.append(
            op_row(
                f"revert_delay_pattern {tuple(delayed.shape)}",
                lambda d=delayed: fastcollate.revert_delay_pattern(d),
                lambda d=delayed: twin.revert_delay_pattern(d),
                "torch-ops twin",
                [delayed],
                fastcollate.revert_delay_pattern(want[0]),
            )
        )
    # Ragged: audio-out segments of 2-30 s at 25 frames/s, 8 codebooks, stream BOS/EOS and labels (Higgs).
    for segments in [32] if quick else [32, 1024]:
        lengths = torch.randint(50, 750, (segments,), generator=g)
        offsets_cpu = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)])
        packed_cpu = torch.randint(0, 1024, (8, int(offsets_cpu[-1])), generator=g)
        packed, offsets = packed_cpu.to(DEVICE), offsets_cpu.to(DEVICE)
        want = fastcollate.apply_delay_pattern_ragged(
            packed_cpu, offsets_cpu, 1024, 1025, stream_bos_eos=True, return_labels=True
        )
        kwargs = dict(stream_bos_eos=True, return_labels=True)
        rows.append(
            op_row(
                f"apply_delay_pattern_ragged {segments} x 8, BOS/EOS + labels",
                lambda: tuple(fastcollate.apply_delay_pattern_ragged(packed, offsets, 1024, 1025, **kwargs)),
                (lambda: twin.apply_delay_pattern_ragged(packed, offsets, 1024, 1025, **kwargs))
                if segments <= 64
                else None,
                "torch-ops twin",
                [packed, offsets],
                tuple(want),
            )
        )
    # role_span_labels on a left-padded llama3 batch: the twin is a Python loop, far too slow at these sizes, so the
    # reference here is the compiled CPU op on the same batch, plus its copy to the GPU.
    # Each size with each row kernel; the reference (the same for both) is timed once.
    spec = presets.llama3()
    for rows_, length in [(32, 2048)] if quick else [(32, 2048), (512, 4096), (2048, 4096)]:
        texts = [s.input_ids for s in synthetic_text_batch(rows_, length, seed=2)]
        batch = fastcollate.ChatCollator(spec, 128001, pad_left=True, backend="cpu")(texts)
        ids_cpu, mask_cpu = batch["input_ids"], batch["attention_mask"]
        ids, mask = ids_cpu.to(DEVICE), mask_cpu.to(DEVICE)
        want, want_unmasked = batch["labels"], fastcollate.role_span_labels(ids_cpu, spec)
        for kernel in ROLESPAN_KERNELS:
            first = kernel == ROLESPAN_KERNELS[0]
            with rolespan_kernel(kernel):
                rows.append(
                    op_row(
                        f"role_span_labels ({rows_}, {length}), mask, {kernel}",
                        lambda: fastcollate.role_span_labels(ids, spec, attention_mask=mask),
                        (lambda: fastcollate.role_span_labels(ids_cpu, spec, attention_mask=mask_cpu).to(DEVICE))
                        if first
                        else None,
                        "cpu op + copy" if first else "",
                        [ids, mask],
                        want,
                    )
                )
                rows.append(
                    op_row(
                        f"role_span_labels ({rows_}, {length}), no mask, {kernel}",
                        lambda: fastcollate.role_span_labels(ids, spec),
                        None,
                        "",
                        [ids],
                        want_unmasked,
                    )
                )
    return rows


def to_device(batch):
    """Every tensor of a batch pinned and copied (non_blocking): the DataLoader's pin_memory, then .to()."""
    if isinstance(batch, dict):
        return {
            k: v.pin_memory().to(DEVICE, non_blocking=True) if isinstance(v, torch.Tensor) else v
            for k, v in batch.items()
        }
    return type(batch)(
        **{
            k: v.pin_memory().to(DEVICE, non_blocking=True) if isinstance(v, torch.Tensor) else v
            for k, v in vars(batch).items()
        }
    )


def end_to_end_rows(quick: bool) -> list:
    rows = []
    try:
        rows += higgs_rows(quick)
    except Exception as exc:  # noqa: BLE001 - as in op_row
        nan = float("nan")
        row = failed_row("Higgs TTS batches", exc, cpu_ms=nan, cpu_copy_ms=nan, cuda_ms=nan, speedup=nan)
        row["case"] = row.pop("op")
        rows.append(row)
    for kernel in ROLESPAN_KERNELS:
        try:
            with rolespan_kernel(kernel):
                rows.append(chat_row(kernel))
        except Exception as exc:  # noqa: BLE001 - as in op_row
            nan = float("nan")
            name = f"ChatCollator 32 x 2048, {kernel}"
            row = failed_row(name, exc, cpu_ms=nan, cpu_copy_ms=nan, cuda_ms=nan, speedup=nan)
            row["case"] = row.pop("op")
            rows.append(row)
    return rows


def higgs_rows(quick: bool) -> list:
    rows = []
    for size in [16] if quick else [16, 64]:
        samples = synthetic_tts_batch(size, seed=size)
        cpu = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cpu")
        cuda = fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cuda")
        want, got = cpu(samples), cuda(samples)
        case = f"Higgs TTS batch of {size}"
        ok = all(same(getattr(got, name), w, f"{case}: {name}") for name, w in vars(want).items() if w is not None)
        rows.append(
            end_to_end(
                case if ok else f"{case} (MISMATCH)",
                lambda: cpu(samples),
                lambda: to_device(cpu(samples)),
                lambda: cuda(samples),
            )
        )
    return rows


def chat_row(kernel: str) -> dict:
    """ChatCollator(backend="cuda") end to end, with the row kernel the caller has set (named in the row)."""
    texts = [s.input_ids for s in synthetic_text_batch(32, 2048, seed=5)]
    spec = presets.llama3()
    cpu_chat = fastcollate.ChatCollator(spec, 128001, backend="cpu", on_empty="keep")
    cuda_chat = fastcollate.ChatCollator(spec, 128001, backend="cuda", on_empty="keep")
    want, got = cpu_chat(texts), cuda_chat(texts)
    case = f"ChatCollator 32 x 2048 (llama3), {kernel}"
    ok = all(same(got[k], v, f"{case}: {k}") for k, v in want.items() if isinstance(v, torch.Tensor))
    return end_to_end(
        case if ok else f"{case} (MISMATCH)",
        lambda: cpu_chat(texts),
        lambda: to_device(cpu_chat(texts)),
        lambda: cuda_chat(texts),
    )


def end_to_end(name, cpu_only, cpu_then_copy, cuda) -> dict:
    try:
        t_cpu, t_copy, t_cuda = wall_time(cpu_only), wall_time(cpu_then_copy), wall_time(cuda)
    except Exception as exc:  # noqa: BLE001 - as in op_row
        nan = float("nan")
        row = failed_row(name, exc, cpu_ms=nan, cpu_copy_ms=nan, cuda_ms=nan, speedup=nan)
        row["case"] = row.pop("op")
        return row
    return {
        "case": name,
        "cpu_ms": t_cpu * 1e3,
        "cpu_copy_ms": t_copy * 1e3,
        "cuda_ms": t_cuda * 1e3,
        "speedup": t_copy / t_cuda,
    }


def table(op_results, e2e_results) -> str:
    name = torch.cuda.get_device_name(DEVICE)
    lines = [
        f"GPU: {name}, torch {torch.__version__}, CUDA {torch.version.cuda}, fastcollate "
        f"{fastcollate.__version__} ({', '.join(fastcollate.backend_info()['cuda']['architectures'])})",
        "",
        "| op | CUDA op, eager | CUDA op, device | reference | reference time | D2D copy of the output, "
        "device | op GB/s | copy GB/s | of copy | eager of copy | reference / op (eager) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in op_results:
        ref = "" if r["ref_us"] is None else f"{r['ref_us']:,.1f} us"
        ratio = "" if r["ref_us"] is None else f"{r['ref_us'] / r['op_us']:,.1f}x"
        lines.append(
            f"| {r['op']} | {r['op_us']:,.1f} us | {r['device_us']:,.1f} us | {r['ref_name']} | {ref} | "
            f"{r['copy_us']:,.1f} us | {r['op_gbs']:,.0f} | {r['copy_gbs']:,.0f} | {r['of_copy']:.2f} | "
            f"{r['eager_of_copy']:.2f} | {ratio} |"
        )
    lines += [
        "",
        "| end to end (host wall time until the batch is on the GPU) | CPU collate | CPU collate + pin + "
        'copy | backend="cuda" | speed-up |',
        "|---|---|---|---|---|",
    ]
    for r in e2e_results:
        lines.append(
            f"| {r['case']} | {r['cpu_ms']:.3f} ms | {r['cpu_copy_ms']:.3f} ms | {r['cuda_ms']:.3f} ms | "
            f"{r['speedup']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the table (markdown) here")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    args = parser.parse_args(argv)
    if not fastcollate.backend_info()["cuda"]["usable"]:
        print(f"gpu_bench: no usable CUDA device: {fastcollate.backend_info()['cuda']['reason']}", file=sys.stderr)
        return 2
    torch.set_num_threads(1)  # the CPU paths single-threaded, as in the CPU benchmarks
    text = table(op_rows(args.quick), end_to_end_rows(args.quick))
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    if MISMATCHES:
        print(f"gpu_bench: {len(MISMATCHES)} CUDA result(s) differ from the CPU path: {MISMATCHES}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
