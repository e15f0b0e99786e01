// The delay-pattern ops as kernels of one output element: each function computes the element at linear
// index `i` (row-major over the logical output shape) from `i` and a params struct only, so a CUDA kernel
// runs it one element per thread and a CPU "grid runner" runs it for every index (delay_pattern.cpp does,
// for the tests). Tensors are strided views in logical order, whatever the user's layout: padded ops see
// (B, K, T), ragged ops (K, N); "BTK" inputs only swap strides.
#pragma once

#include <cstdint>

#include "common/host_device.h"
#include "ops/delay_layout.h"

namespace fastcollate {

// Segment s with offsets[s] <= col < offsets[s + 1] (offsets non-decreasing, n_segments + 1 entries, col in
// range): a binary search, so empty segments (equal offsets) are skipped.
FC_HD int64_t segment_of(int64_t col, const int64_t* offsets, int64_t n_segments) {
  int64_t lo = 0, hi = n_segments;  // invariant: offsets[lo] <= col < offsets[hi]
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (offsets[mid] <= col) lo = mid;
    else hi = mid;
  }
  return lo;
}

// apply, padded: delayed and generation mask (B, K, width) from codes (B, K, length).
template <typename T>
struct DelayApplyParams {
  const T* codes;
  int64_t codebooks, length, width;
  int64_t codes_stride[3];
  const int64_t* delays;  // codebooks entries
  T* delayed;
  int64_t delayed_stride[3];
  T* generation;
  int64_t generation_stride[3];
  int64_t bos, pad;
};

template <typename T>
FC_HD void delay_apply_element(int64_t i, const DelayApplyParams<T>& p) {
  const int64_t col = i % p.width, row = i / p.width, k = row % p.codebooks, b = row / p.codebooks;
  const DelayRow r = delay_row(p.length, p.delays[k], false, p.width);
  const DelayCell cell = delay_cell(col, r);
  const int64_t code = cell == kCode ? static_cast<int64_t>(p.codes[b * p.codes_stride[0] + k * p.codes_stride[1] +
                                                                    (col - r.code_begin) * p.codes_stride[2]])
                                     : 0;
  p.delayed[b * p.delayed_stride[0] + k * p.delayed_stride[1] + col * p.delayed_stride[2]] =
      static_cast<T>(delay_value(cell, code, delay_ids_fill(p.bos, p.pad)));
  p.generation[b * p.generation_stride[0] + k * p.generation_stride[1] + col * p.generation_stride[2]] =
      static_cast<T>(delay_value(cell, code, delay_generation_fill(p.bos, p.pad)));
}

// revert, padded: codes (B, K, length) from delayed (B, K, width), starting at code `start`.
template <typename T>
struct DelayRevertParams {
  const T* delayed;
  int64_t codebooks, length, start;
  int64_t delayed_stride[3];
  const int64_t* delays;
  T* codes;
  int64_t codes_stride[3];
};

template <typename T>
FC_HD void delay_revert_element(int64_t i, const DelayRevertParams<T>& p) {
  const int64_t t = i % p.length, row = i / p.length, k = row % p.codebooks, b = row / p.codebooks;
  const int64_t col = delayed_column(p.start + t, p.delays[k], false);
  p.codes[b * p.codes_stride[0] + k * p.codes_stride[1] + t * p.codes_stride[2]] =
      p.delayed[b * p.delayed_stride[0] + k * p.delayed_stride[1] + col * p.delayed_stride[2]];
}

// Where the segments of a ragged op are: segment s is input columns in_offsets[s]..in_offsets[s + 1] and
// output columns out_offsets[s]..out_offsets[s + 1] (n_segments + 1 entries each) of a (codebooks, total)
// output.
struct RaggedGeometry {
  int64_t codebooks, total;
  const int64_t* in_offsets;
  const int64_t* out_offsets;
  int64_t n_segments;
  const int64_t* delays;
  bool wrap;  // stream BOS / EOS around every segment
};

// apply, ragged: every segment of codes (K, N) delayed into delayed (K, total) and, when asked, the int64
// labels.
template <typename T>
struct DelayRaggedParams {
  RaggedGeometry g;
  const T* codes;
  int64_t codes_stride[2];
  T* delayed;
  int64_t delayed_stride[2];
  int64_t* labels;  // null: not asked
  int64_t labels_stride[2];
  const uint8_t* no_train;  // null: every segment is trained
  int64_t bos, pad;
};

template <typename T>
FC_HD void delay_ragged_element(int64_t i, const DelayRaggedParams<T>& p) {
  const RaggedGeometry& g = p.g;
  const int64_t col = i % g.total, k = i / g.total;
  const int64_t s = segment_of(col, g.out_offsets, g.n_segments);
  const int64_t length = g.in_offsets[s + 1] - g.in_offsets[s], width = g.out_offsets[s + 1] - g.out_offsets[s];
  const DelayRow r = delay_row(length, g.delays[k], g.wrap, width);
  const int64_t c = col - g.out_offsets[s];
  const DelayCell cell = delay_cell(c, r);
  const int64_t code =
      cell == kCode ? static_cast<int64_t>(
                          p.codes[k * p.codes_stride[0] + (g.in_offsets[s] + c - r.code_begin) * p.codes_stride[1]])
                    : 0;
  p.delayed[k * p.delayed_stride[0] + col * p.delayed_stride[1]] =
      static_cast<T>(delay_value(cell, code, delay_ids_fill(p.bos, p.pad)));
  if (p.labels) {
    const bool no_train = p.no_train && p.no_train[s];
    p.labels[k * p.labels_stride[0] + col * p.labels_stride[1]] =
        delay_value(cell, code, delay_labels_fill(p.pad, no_train));
  }
}

// revert, ragged: every delayed segment of delayed (K, N') back to its codes in codes (K, total), the stream
// BOS / EOS dropped when wrapped.
template <typename T>
struct DelayRevertRaggedParams {
  RaggedGeometry g;
  const T* delayed;
  int64_t delayed_stride[2];
  T* codes;
  int64_t codes_stride[2];
};

template <typename T>
FC_HD void delay_revert_ragged_element(int64_t i, const DelayRevertRaggedParams<T>& p) {
  const RaggedGeometry& g = p.g;
  const int64_t col = i % g.total, k = i / g.total;
  const int64_t s = segment_of(col, g.out_offsets, g.n_segments);
  const int64_t src = g.in_offsets[s] + delayed_column(col - g.out_offsets[s], g.delays[k], g.wrap);
  p.codes[k * p.codes_stride[0] + col * p.codes_stride[1]] =
      p.delayed[k * p.delayed_stride[0] + src * p.delayed_stride[1]];
}

}  // namespace fastcollate
