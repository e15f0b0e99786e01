#include "rolespan/rolespan_labels.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fastcollate {
namespace {

template <typename M>
RowSpan mask_span(const M* mask, int64_t stride, int64_t cols, int64_t row) {
  RowSpan span{cols, cols};
  bool seen_zero_after = false;
  for (int64_t c = 0; c < cols; ++c) {
    const int64_t v = static_cast<int64_t>(mask[c * stride]);
    if (v != 0 && v != 1) {
      throw std::invalid_argument("attention_mask: row " + std::to_string(row) + " has " + std::to_string(v) +
                                  " at column " + std::to_string(c) + ", expected 0 or 1");
    }
    if (v == 1) {
      if (span.begin == cols)
        span.begin = c;
      else if (seen_zero_after)
        span.begin = -1;  // a second run of 1s
      span.end = c + 1;
    } else if (span.begin != cols) {
      seen_zero_after = true;
    }
  }
  if (span.begin == cols) return RowSpan{0, 0};  // no token: the whole row is padding
  if (span.begin < 0 || (span.begin != 0 && span.end != cols)) {
    throw std::invalid_argument("attention_mask: row " + std::to_string(row) +
                                " is not one run of 1s at the start (right padding) or the end (left padding)");
  }
  return span;
}

// The same span from one branch-free pass the compiler vectorizes (unit stride, the usual case; no compare,
// which baseline x86-64 cannot vectorize on int64): a valid row has values 0/1 and at most one change of
// value, and then its 1s are its first or last `ones` columns.
// Anything else goes back to mask_span, which finds the first problem for the message.
template <typename M>
RowSpan mask_span_fast(const M* mask, int64_t cols, int64_t row) {
  if (cols == 0) return RowSpan{0, 0};
  uint64_t not_binary = static_cast<uint64_t>(mask[0]) & ~uint64_t{1};
  int64_t changes = 0, ones = static_cast<int64_t>(mask[0]);
  for (int64_t c = 1; c < cols; ++c) {
    const int64_t v = static_cast<int64_t>(mask[c]);
    not_binary |= static_cast<uint64_t>(v) & ~uint64_t{1};
    ones += v;
    changes += v ^ static_cast<int64_t>(mask[c - 1]);  // the number of changes when every value is 0 or 1
  }
  if (not_binary != 0 || changes > 1) return mask_span(mask, 1, cols, row);
  if (ones == 0) return RowSpan{0, 0};
  return mask[0] != 0 ? RowSpan{0, ones} : RowSpan{cols - ones, cols};
}

template <typename M>
RowSpan row_mask_span(const M* mask, int64_t stride, int64_t cols, int64_t row) {
  return stride == 1 ? mask_span_fast(mask, cols, row) : mask_span(mask, stride, cols, row);
}

}  // namespace

std::vector<RowSpan> rolespan_rows(const RolespanLabelsIn& in) {
  std::vector<RowSpan> spans(in.rows, RowSpan{0, in.cols});
  if (!in.mask) return spans;
  for (int64_t r = 0; r < in.rows; ++r) {
    const int64_t first = r * in.mask_stride[0], stride = in.mask_stride[1];
    switch (in.mask_type) {
      case ElemType::kBool:
        spans[r] = row_mask_span(static_cast<const uint8_t*>(in.mask) + first, stride, in.cols, r);
        break;
      case ElemType::kInt32:
        spans[r] = row_mask_span(static_cast<const int32_t*>(in.mask) + first, stride, in.cols, r);
        break;
      default:
        spans[r] = row_mask_span(static_cast<const int64_t*>(in.mask) + first, stride, in.cols, r);
    }
  }
  return spans;
}

void fill_rolespan_labels(const RolespanLabelsIn& in, const std::vector<RowSpan>& spans, const RolespanSpecView& spec,
                          int64_t* labels, int64_t row_stride) {
  for (int64_t r = 0; r < in.rows; ++r) {
    int64_t* row = labels + r * row_stride;
    const RowSpan span = spans[r];
    std::fill(row, row + span.begin, kIgnoreIndex);
    std::fill(row + span.end, row + in.cols, kIgnoreIndex);
    const int64_t start = in.start_indices.empty() ? 0 : in.start_indices[r];
    const RowOut out{nullptr, row + span.begin, nullptr};
    const int64_t first = r * in.ids_stride[0] + span.begin * in.ids_stride[1];
    if (in.ids_int64) {
      const RowIn<int64_t> ids{static_cast<const int64_t*>(in.ids) + first, in.ids_stride[1], span.end - span.begin};
      rolespan_fill_row<int64_t, false, false>(spec, ids, start, out);
    } else {
      const RowIn<int32_t> ids{static_cast<const int32_t*>(in.ids) + first, in.ids_stride[1], span.end - span.begin};
      rolespan_fill_row<int32_t, false, false>(spec, ids, start, out);
    }
  }
}

}  // namespace fastcollate
