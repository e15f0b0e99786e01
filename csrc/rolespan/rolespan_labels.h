// Role-span labels of an already padded (B, T) id batch: the rows ChatCollator would have built, labelled
// by the same FC_HD state machine (rolespan_step.h), labels only. Plain C++ over pointers: no pybind11, no
// torch. Errors are std::invalid_argument "{argument}: {problem}".
#pragma once

#include <cstdint>
#include <vector>

#include "common/elem_type.h"
#include "rolespan/rolespan_step.h"

namespace fastcollate {

struct RolespanLabelsIn {
  const void* ids = nullptr;
  bool ids_int64 = true;  // else int32
  int64_t rows = 0, cols = 0;
  int64_t ids_stride[2] = {0, 1};
  const void* mask = nullptr;  // null: every position is a token
  ElemType mask_type = ElemType::kInt64;
  int64_t mask_stride[2] = {0, 1};
  std::vector<int64_t> start_indices;  // empty, or one per row (<= 0: every turn)
};

// The tokens of a row: columns [begin, end) (the one run of 1s of its attention mask).
struct RowSpan {
  int64_t begin = 0, end = 0;
};

// Checks every row's mask (values 0 or 1, one run of 1s touching the start or the end of the row) and
// returns the token span of each row. Runs without the GIL.
std::vector<RowSpan> rolespan_rows(const RolespanLabelsIn& in);

// labels[r * row_stride + c]: -100 outside the row's span, the state machine's labels inside it.
void fill_rolespan_labels(const RolespanLabelsIn& in, const std::vector<RowSpan>& spans, const RolespanSpecView& spec,
                          int64_t* labels, int64_t row_stride);

}  // namespace fastcollate
