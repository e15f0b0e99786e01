// The delay-pattern ops as launches of element bodies (csrc/runtime/grid.h): what the CUDA kernels run
// (csrc/delay/delay.cu) and what the CPU grid runner runs in the tests (csrc/delay/delay_entry.cpp),
// both through the launch sequences at the end of this file. The per-element work is delay_kernels.h.
//
// Everything a kernel reads besides the tensors travels by value in its parameters (delays inline, up to
// kMaxCodebooksInline), so a launch needs no host-to-device copy: safe under CUDA graph capture. Offsets stay
// on the device: the ragged ops first run a small kernel over the S + 1 offsets that writes the new offsets
// and checks the given ones (start at 0, never decrease, end at N, and for revert every segment holds its
// delays); a problem raises `status`, and the fill kernel then writes nothing (it never reads out of bounds).
#pragma once

#include <cstdint>

#include "delay/delay_kernels.h"
#include "runtime/grid.h"

namespace fastcollate {

// Codebooks a CUDA launch takes (delays travel in the kernel parameters: 128 x 8 bytes of the 4 KiB).
constexpr int64_t kMaxCodebooksInline = 128;

// The element bodies read the params and the delays straight from the launch (in the kernel's parameter
// space on the GPU), copying nothing per element; the order of the elements is the params' DelayGrid.
template <typename T>
struct DelayApplyLaunch {
  DelayApplyParams<T> p;
  int64_t delays[kMaxCodebooksInline];
};

template <typename T>
struct DelayApplyBody {
  FC_HD static void run(int64_t i, const DelayApplyLaunch<T>& a) { delay_apply_element(i, a.p, a.delays); }
};

template <typename T>
struct DelayRevertLaunch {
  DelayRevertParams<T> p;
  int64_t delays[kMaxCodebooksInline];
};

template <typename T>
struct DelayRevertBody {
  FC_HD static void run(int64_t i, const DelayRevertLaunch<T>& a) { delay_revert_element(i, a.p, a.delays); }
};

// Kernel 1 of a ragged op: out[s] = in[s] + s * step (step = the columns each segment gains, negative for
// revert), and the checks of the given offsets (csrc/delay/delay_pattern.cpp check_offsets / plan_ragged).
struct RaggedOffsetsLaunch {
  const int64_t* in;  // n_segments + 1 entries, on the kernel's device
  int64_t* out;
  int64_t n_segments;
  int64_t n_cols;  // the input's columns: in[n_segments] must equal it
  int64_t step;
  int64_t min_width;  // revert: every segment's columns (its delays and stream BOS/EOS), else 0
  int32_t* status;
};

struct RaggedOffsetsBody {
  FC_HD static void run(int64_t s, const RaggedOffsetsLaunch& a) {
    const int64_t v = a.in[s];
    bool ok = s > 0 || v == 0;
    if (s > 0) ok = ok && v >= a.in[s - 1] && v - a.in[s - 1] >= a.min_width;
    if (s == a.n_segments) ok = ok && v == a.n_cols;
    if (!ok) fc_raise(a.status);
    a.out[s] = v + s * a.step;
  }
};

// The fill of a ragged op: geometry offsets point at kernel 1's input and output (device memory).
template <typename T>
struct DelayRaggedLaunch {
  DelayRaggedParams<T> p;
  const int32_t* status;
  int64_t delays[kMaxCodebooksInline];
};

template <typename T>
struct DelayRaggedBody {
  FC_HD static void run(int64_t i, const DelayRaggedLaunch<T>& a) {
    if (*a.status) return;  // invalid offsets: nothing is read or written
    delay_ragged_element(i, a.p, a.delays);
  }
};

template <typename T>
struct DelayRevertRaggedLaunch {
  DelayRevertRaggedParams<T> p;
  const int32_t* status;
  int64_t delays[kMaxCodebooksInline];
};

template <typename T>
struct DelayRevertRaggedBody {
  FC_HD static void run(int64_t i, const DelayRevertRaggedLaunch<T>& a) {
    if (*a.status) return;
    delay_revert_ragged_element(i, a.p, a.delays);
  }
};

// The launch sequences, for any launcher L with `template <class Body, class P> void elements(int64_t n,
// const P&)` (csrc/runtime/launch.cuh on a stream; CpuLauncher below on the host).
template <typename L, typename T>
void launch_delay_apply(L& l, const DelayApplyLaunch<T>& a, int64_t numel) {
  l.template elements<DelayApplyBody<T>>(numel, a);
}

template <typename L, typename T>
void launch_delay_revert(L& l, const DelayRevertLaunch<T>& a, int64_t numel) {
  l.template elements<DelayRevertBody<T>>(numel, a);
}

template <typename L, typename T>
void launch_delay_ragged(L& l, const RaggedOffsetsLaunch& offsets, const DelayRaggedLaunch<T>& a) {
  l.template elements<RaggedOffsetsBody>(offsets.n_segments + 1, offsets);
  l.template elements<DelayRaggedBody<T>>(a.p.g.codebooks * a.p.g.total, a);
}

template <typename L, typename T>
void launch_delay_revert_ragged(L& l, const RaggedOffsetsLaunch& offsets, const DelayRevertRaggedLaunch<T>& a) {
  l.template elements<RaggedOffsetsBody>(offsets.n_segments + 1, offsets);
  l.template elements<DelayRevertRaggedBody<T>>(a.p.g.codebooks * a.p.g.total, a);
}

}  // namespace fastcollate
