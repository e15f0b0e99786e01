// The delay-pattern ops as kernels of one output element: each function computes the element at linear
// index `i` (in the output's memory order, see DelayGrid) from `i`, a params struct and the delays only, so a
// CUDA kernel runs it one element per thread and a CPU "grid runner" runs it for every index (delay_pattern.cpp
// does, for the tests). Tensors are strided views in logical order, whatever the user's layout: padded ops see
// (B, K, T), ragged ops (K, N); "BTK" inputs only swap strides. The delays (one per codebook) are an argument
// of their own: a CUDA launch carries them inline in its parameters (delay_bodies.h).
#pragma once

#include <cstdint>

#include "common/fast_div.h"
#include "common/host_device.h"
#include "delay/delay_layout.h"

namespace fastcollate {

// Segment s with offsets[s] <= col < offsets[s + 1] (offsets non-decreasing, n_segments + 1 entries, col in
// range): a binary search, so empty segments (equal offsets) are skipped.
FC_HD int64_t segment_of(int64_t col, const int64_t* offsets, int64_t n_segments) {
  int64_t lo = 0, hi = n_segments;  // invariant: offsets[lo] <= col < offsets[hi]
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (offsets[mid] <= col)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

// Where an output element lies: batch row b (0 in the ragged ops), codebook k, column col.
struct DelayPos {
  int64_t b, k, col;
};

// How linear indices walk an output of (B, K, cols) elements ((K, cols) for the ragged ops): with k_fastest
// (the "BTK" layout, codebooks the fast dimension in memory) i walks (b, col, k), so consecutive threads
// write consecutive addresses; otherwise (b, k, col). The dividers by K and by cols are made once per launch
// on the host (delay_grid), so finding an element's position takes no division instruction.
struct DelayGrid {
  FastDivider codebooks, cols;
  bool k_fastest;
};

// The grid of an output of `numel` elements: 32-bit division when numel <= 2^32 (every index and divisor
// then fits), else 64-bit. `index64` forces the 64-bit form (the tests' way to run it on small tensors).
// Host code.
inline DelayGrid delay_grid(int64_t numel, int64_t codebooks, int64_t cols, bool k_fastest, bool index64 = false) {
  const int64_t bound = index64 ? INT64_MAX : numel;
  return DelayGrid{make_fast_divider(codebooks, bound), make_fast_divider(cols, bound), k_fastest};
}

// Position of element i of a (B, K, cols) output.
FC_HD DelayPos delay_pos(int64_t i, const DelayGrid& g) {
  if (g.k_fastest) {
    const DivMod k = g.codebooks.divmod(i), col = g.cols.divmod(k.quot);
    return DelayPos{col.quot, k.rem, col.rem};
  }
  const DivMod col = g.cols.divmod(i), k = g.codebooks.divmod(col.quot);
  return DelayPos{k.quot, k.rem, col.rem};
}

// Position of element i of a (K, cols) output (b = 0): one division.
FC_HD DelayPos delay_pos_2d(int64_t i, const DelayGrid& g) {
  if (g.k_fastest) {
    const DivMod k = g.codebooks.divmod(i);
    return DelayPos{0, k.rem, k.quot};
  }
  const DivMod col = g.cols.divmod(i);
  return DelayPos{0, col.quot, col.rem};
}

// apply, padded: delayed and generation mask (B, K, width) from codes (B, K, length).
template <typename T>
struct DelayApplyParams {
  const T* codes;
  int64_t codebooks, length, width;
  int64_t codes_stride[3];
  T* delayed;
  int64_t delayed_stride[3];
  T* generation;
  int64_t generation_stride[3];
  int64_t bos, pad;
  DelayGrid grid;  // of the (B, codebooks, width) output
};

template <typename T>
FC_HD void delay_apply_element(int64_t i, const DelayApplyParams<T>& p, const int64_t* delays) {
  const DelayPos at = delay_pos(i, p.grid);
  const DelayRow r = delay_row(p.length, delays[at.k], false, p.width);
  const DelayCell cell = delay_cell(at.col, r);
  const int64_t code = cell == kCode
                           ? static_cast<int64_t>(p.codes[at.b * p.codes_stride[0] + at.k * p.codes_stride[1] +
                                                          (at.col - r.code_begin) * p.codes_stride[2]])
                           : 0;
  p.delayed[at.b * p.delayed_stride[0] + at.k * p.delayed_stride[1] + at.col * p.delayed_stride[2]] =
      static_cast<T>(delay_value(cell, code, delay_ids_fill(p.bos, p.pad)));
  p.generation[at.b * p.generation_stride[0] + at.k * p.generation_stride[1] + at.col * p.generation_stride[2]] =
      static_cast<T>(delay_value(cell, code, delay_generation_fill(p.bos, p.pad)));
}

// revert, padded: codes (B, K, length) from delayed (B, K, width), starting at code `start`.
template <typename T>
struct DelayRevertParams {
  const T* delayed;
  int64_t codebooks, length, start;
  int64_t delayed_stride[3];
  T* codes;
  int64_t codes_stride[3];
  DelayGrid grid;  // of the (B, codebooks, length) output
};

template <typename T>
FC_HD void delay_revert_element(int64_t i, const DelayRevertParams<T>& p, const int64_t* delays) {
  const DelayPos at = delay_pos(i, p.grid);
  const int64_t col = delayed_column(p.start + at.col, delays[at.k], false);
  p.codes[at.b * p.codes_stride[0] + at.k * p.codes_stride[1] + at.col * p.codes_stride[2]] =
      p.delayed[at.b * p.delayed_stride[0] + at.k * p.delayed_stride[1] + col * p.delayed_stride[2]];
}

// Where the segments of a ragged op are: segment s is input columns in_offsets[s]..in_offsets[s + 1] and
// output columns out_offsets[s]..out_offsets[s + 1] (n_segments + 1 entries each) of a (codebooks, total)
// output.
struct RaggedGeometry {
  int64_t codebooks, total;
  const int64_t* in_offsets;
  const int64_t* out_offsets;
  int64_t n_segments;
  bool wrap;       // stream BOS / EOS around every segment
  DelayGrid grid;  // of the (codebooks, total) output
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
FC_HD void delay_ragged_element(int64_t i, const DelayRaggedParams<T>& p, const int64_t* delays) {
  const RaggedGeometry& g = p.g;
  const DelayPos at = delay_pos_2d(i, g.grid);
  const int64_t s = segment_of(at.col, g.out_offsets, g.n_segments);
  const int64_t length = g.in_offsets[s + 1] - g.in_offsets[s], width = g.out_offsets[s + 1] - g.out_offsets[s];
  const DelayRow r = delay_row(length, delays[at.k], g.wrap, width);
  const int64_t c = at.col - g.out_offsets[s];
  const DelayCell cell = delay_cell(c, r);
  const int64_t code =
      cell == kCode ? static_cast<int64_t>(
                          p.codes[at.k * p.codes_stride[0] + (g.in_offsets[s] + c - r.code_begin) * p.codes_stride[1]])
                    : 0;
  p.delayed[at.k * p.delayed_stride[0] + at.col * p.delayed_stride[1]] =
      static_cast<T>(delay_value(cell, code, delay_ids_fill(p.bos, p.pad)));
  if (p.labels) {
    const bool no_train = p.no_train && p.no_train[s];
    p.labels[at.k * p.labels_stride[0] + at.col * p.labels_stride[1]] =
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
FC_HD void delay_revert_ragged_element(int64_t i, const DelayRevertRaggedParams<T>& p, const int64_t* delays) {
  const RaggedGeometry& g = p.g;
  const DelayPos at = delay_pos_2d(i, g.grid);
  const int64_t s = segment_of(at.col, g.out_offsets, g.n_segments);
  const int64_t src = g.in_offsets[s] + delayed_column(at.col - g.out_offsets[s], delays[at.k], g.wrap);
  p.codes[at.k * p.codes_stride[0] + at.col * p.codes_stride[1]] =
      p.delayed[at.k * p.delayed_stride[0] + src * p.delayed_stride[1]];
}

}  // namespace fastcollate
