// The delay-pattern ops over raw buffers: plan (validate, size every output with overflow-checked int64
// arithmetic), then fill. Plain C++: no pybind11, no Python, no torch. Errors are std::invalid_argument
// "{argument}: {problem}" (raised as ValueError), with the messages of fastcollate/delay/checks.py.
#pragma once

#include <cstdint>
#include <vector>

#include "common/elem_type.h"

namespace fastcollate {

// Calls f(T{}) with the C++ type of the op's integer dtype.
template <typename F>
void visit_type(ElemType type, F&& f) {
  switch (type) {
    case ElemType::kInt16:
      return f(int16_t{});
    case ElemType::kInt32:
      return f(int32_t{});
    default:
      return f(int64_t{});
  }
}

// A strided tensor in the op's logical order (padded: B, K, T; ragged: K, N). Strides in elements.
template <int N>
struct Strided {
  void* data = nullptr;
  int64_t size[N] = {};
  int64_t stride[N] = {};
};

// a * b and a + b, or std::invalid_argument "{what}: ... overflows int64".
int64_t checked_mul(int64_t a, int64_t b, const char* what);
int64_t checked_add(int64_t a, int64_t b, const char* what);

// Every delay >= 0, one per codebook; returns the largest (0 without codebooks).
int64_t check_delays(const std::vector<int64_t>& delays, int64_t codebooks);

struct DelayApplyPlan {
  int64_t max_delay = 0;
  int64_t width = 0;  // columns of every output row
  int64_t numel = 0;  // elements of each output (batch * codebooks * width)
};
DelayApplyPlan plan_delay_apply(int64_t batch, int64_t codebooks, int64_t length, const std::vector<int64_t>& delays,
                                bool extend);

struct DelayRevertPlan {
  int64_t length = 0;  // codes per row of the output: max(0, width - max(delays) - start)
  int64_t numel = 0;
};
DelayRevertPlan plan_delay_revert(int64_t batch, int64_t codebooks, int64_t width, const std::vector<int64_t>& delays,
                                  int64_t start);

struct DelayRaggedPlan {
  std::vector<int64_t> out_offsets;  // n_segments + 1
  int64_t total = 0;                 // columns of the output
};
// Checks the offsets (start at 0, non-decreasing, end at n_cols) and sizes the delayed segments.
DelayRaggedPlan plan_delay_ragged(int64_t codebooks, int64_t n_cols, const std::vector<int64_t>& offsets,
                                  const std::vector<int64_t>& delays, bool wrap);
// The same checks, then every delayed segment must hold at least its delays (and stream BOS/EOS).
DelayRaggedPlan plan_delay_revert_ragged(int64_t codebooks, int64_t n_cols, const std::vector<int64_t>& offsets,
                                         const std::vector<int64_t>& delays, bool wrap);

// Fills: `per_element` runs the one-element kernels of delay_kernels.h for every index (the CUDA form, on the
// CPU; the tests compare it with the row form). Outputs have the shapes their plan gives.
void fill_delay_apply(ElemType type, const Strided<3>& codes, const std::vector<int64_t>& delays, int64_t bos,
                      int64_t pad, const DelayApplyPlan& plan, const Strided<3>& delayed, const Strided<3>& generation,
                      bool per_element);

void fill_delay_revert(ElemType type, const Strided<3>& delayed, const std::vector<int64_t>& delays, int64_t start,
                       const DelayRevertPlan& plan, const Strided<3>& codes, bool per_element);

// `labels` (int64) is written when its data is not null; no_train (n_segments flags) may be empty.
void fill_delay_ragged(ElemType type, const Strided<2>& codes, const std::vector<int64_t>& offsets,
                       const std::vector<int64_t>& delays, bool wrap, int64_t bos, int64_t pad,
                       const std::vector<uint8_t>& no_train, const DelayRaggedPlan& plan, const Strided<2>& delayed,
                       const Strided<2>& labels, bool per_element);

void fill_delay_revert_ragged(ElemType type, const Strided<2>& delayed, const std::vector<int64_t>& offsets,
                              const std::vector<int64_t>& delays, bool wrap, const DelayRaggedPlan& plan,
                              const Strided<2>& codes, bool per_element);

}  // namespace fastcollate
