"""Shared benchmark plumbing: single-threaded torch, and a ratio table printed at the end of the run.

Run: pytest benchmarks --benchmark-enable   (see README.md "Benchmarks")
"""

import ctypes
import ctypes.util
import statistics
import sys
import time

import pytest
import torch

torch.set_num_threads(1)  # every implementation measured single-threaded

_MEDIANS = {}  # (group, name) -> median seconds
_ITEMS = {}  # (group, name) -> tokens handled per call
_PAIRED = {}  # group -> (median seconds of the call, median seconds of its copy floor), timed round by round


@pytest.fixture
def record(benchmark):
    """Run `benchmark` and remember its median for the ratio table."""

    def run(group, name, fn, *, setup=None, rounds=None, items=None, out_bytes=None):
        benchmark.group = group
        if setup is None:
            result = benchmark(fn)
        else:
            result = benchmark.pedantic(fn, setup=setup, rounds=rounds or 20, iterations=1, warmup_rounds=1)
        stats = benchmark.stats.stats if benchmark.stats else None
        if stats is not None:
            _MEDIANS[(group, name)] = stats.median
            if items:
                _ITEMS[(group, name)] = items
                benchmark.extra_info["tokens_per_s"] = items / stats.median
            if out_bytes:
                benchmark.extra_info["out_GB_per_s"] = out_bytes / stats.median / 1e9
        return result

    return run


def pin_malloc_thresholds():
    """Fix glibc's mmap and trim thresholds at the values a long-running process converges to (32 MiB, twice that).

    With glibc's starting values a freed MB-sized buffer is sometimes handed back to the OS and faulted in again
    on the next round (about 1 us per 4 KiB page), sometimes not, depending on what the process allocated
    before: the copy floor of a 1.45 MB batch then takes 100 us in one run and 460 us in the next, below the
    collator it bounds."""
    if not sys.platform.startswith("linux") or not ctypes.util.find_library("c"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if hasattr(libc, "mallopt"):
        m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
        libc.mallopt(m_mmap_threshold, 32 << 20)
        libc.mallopt(m_trim_threshold, 64 << 20)


@pytest.fixture
def record_paired(benchmark):
    """Time `fn` round by round, each round right after one timed call of `floor`, and remember both medians.

    On a shared machine the medians of two separate benchmarks (a second or so each) can differ by 1.5x with no
    change in either: a neighbour's load comes and goes. Paired rounds see the same machine, so their ratio is
    the one to quote; `floor` runs in pedantic's untimed setup and is timed here. The allocator's thresholds are
    pinned first (pin_malloc_thresholds), for the rest of the run."""

    def run(group, fn, floor, rounds=1500):
        pin_malloc_thresholds()
        floor_times = []

        def setup():
            t = time.perf_counter()
            floor()
            floor_times.append(time.perf_counter() - t)

        benchmark.group = group
        result = benchmark.pedantic(fn, setup=setup, rounds=rounds, iterations=1, warmup_rounds=50)
        floor_times = floor_times[-rounds:]  # the timed rounds' floors, not the warm-up's
        floor_median = statistics.median(floor_times)
        benchmark.extra_info["copy_floor_median_s"] = floor_median
        if benchmark.stats:
            _PAIRED[group] = (benchmark.stats.stats.median, floor_median)
        return result

    return run


def pytest_terminal_summary(terminalreporter):
    if not _MEDIANS and not _PAIRED:
        return
    tr = terminalreporter
    tr.section("fastcollate ratios (medians, this run)")
    for group in sorted({g for g, _ in _MEDIANS}):
        m = {name: t for (g, name), t in _MEDIANS.items() if g == group}

        def part(name, t):
            rate = _ITEMS.get((group, name))
            return f"{name} {t * 1e6:,.0f} us" + (f" ({rate / t / 1e6:,.1f} M tokens/s)" if rate else "")

        parts = [part(name, t) for name, t in sorted(m.items(), key=lambda kv: kv[1])]
        tr.write_line(f"{group}: " + ", ".join(parts))
        # Input forms and peers: everything relative to the compiled collator on tensors and on lists.
        for base in ("fastcollate_tensors", "fastcollate_lists"):
            if base in m:
                others = [
                    f"{name} {t / m[base]:.2f}x" for name, t in sorted(m.items(), key=lambda kv: kv[1]) if name != base
                ]
                tr.write_line(f"    relative to {base}: " + ", ".join(others))
        if "sequential_pair" in m and "two_threads" in m:
            tr.write_line(f"    two_threads / sequential_pair = {m['two_threads'] / m['sequential_pair']:.2f}x")
        native = m.get("cpu") or m.get("native")
        if native:
            for base in ("upstream", "processor", "fallback", "reference", "numpy"):
                if base in m:
                    tr.write_line(f"    {base} / native = {m[base] / native:,.1f}x")
            if "copy_floor" in m:
                tr.write_line(f"    native / copy_floor = {native / m['copy_floor']:.2f}x")
    for group, (call, floor) in sorted(_PAIRED.items()):
        tr.write_line(
            f"{group} (paired rounds): native {call * 1e6:,.0f} us, copy_floor {floor * 1e6:,.0f} us, "
            f"native / copy_floor = {call / floor:.2f}x"
        )
