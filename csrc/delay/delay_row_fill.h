// The CPU form of the delay layout: a row (or a block of its columns) written as three runs (head, codes,
// tail) instead of one delay_cell() per column, so the code run is a plain copy the compiler vectorizes (or
// a memcpy). Columns outside the code run go through delay_cell()/delay_value(), the same functions the
// per-element kernels use, so both forms place every column identically (the tests run both).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "delay/delay_layout.h"

namespace fastcollate {

// dst[c * dst_stride] for the columns c in [first, last) of the row; code number t is src[t * src_stride]
// (S and D are int16/int32/int64; codes are converted as static_cast does, which never narrows for the ops:
// D is S or int64). `dst` and `src` point at the row's column 0 and code 0.
template <typename S, typename D>
inline void fill_delay_columns(D* dst, int64_t dst_stride, const DelayRow& r, const DelayFill& f, const S* src,
                               int64_t src_stride, int64_t first, int64_t last) {
  const int64_t code_begin = std::min(std::max(r.code_begin, first), last);
  const int64_t code_end = std::max(std::min(r.code_end, last), code_begin);
  for (int64_t c = first; c < code_begin; ++c)
    dst[c * dst_stride] = static_cast<D>(delay_value(delay_cell(c, r), 0, f));
  const int64_t n = code_end - code_begin;
  D* out = dst + code_begin * dst_stride;
  const S* in = n > 0 ? src + (code_begin - r.code_begin) * src_stride : src;
  if (f.codes_ignored) {
    for (int64_t t = 0; t < n; ++t) out[t * dst_stride] = static_cast<D>(kIgnoreIndex);
  } else if (std::is_same<S, D>::value && dst_stride == 1 && src_stride == 1) {
    if (n > 0) std::memcpy(out, in, static_cast<size_t>(n) * sizeof(D));
  } else if (dst_stride == 1 && src_stride == 1) {
    for (int64_t t = 0; t < n; ++t) out[t] = static_cast<D>(in[t]);
  } else {
    for (int64_t t = 0; t < n; ++t) out[t * dst_stride] = static_cast<D>(in[t * src_stride]);
  }
  for (int64_t c = code_end; c < last; ++c) dst[c * dst_stride] = static_cast<D>(delay_value(delay_cell(c, r), 0, f));
}

// The whole row.
template <typename S, typename D>
inline void fill_delay_row(D* dst, int64_t dst_stride, const DelayRow& r, const DelayFill& f, const S* src,
                           int64_t src_stride) {
  fill_delay_columns(dst, dst_stride, r, f, src, src_stride, 0, r.width);
}

// n codes copied as they are: a row with no delay, no stream tokens and no fill (what revert writes).
template <typename S, typename D>
inline void copy_code_row(D* dst, int64_t dst_stride, const S* src, int64_t src_stride, int64_t n) {
  fill_delay_row(dst, dst_stride, delay_row(n, 0, false, n), delay_ids_fill(0, 0), src, src_stride);
}

}  // namespace fastcollate
