// The delay-pattern ops on a target (csrc/runtime/target.h), after the bindings have read the tensors: the CPU
// fills (kCpu), or the kernels' launches on the CPU grid runner (kGrid) or a CUDA device (kCuda). Plain C++:
// no pybind11, no Python, no torch; call without the GIL. Errors are std::invalid_argument "{argument}: ...".
#pragma once

#include <cstdint>
#include <vector>

#include "common/elem_type.h"
#include "delay/delay_pattern.h"
#include "runtime/target.h"

namespace fastcollate {

// Padded ops: `in` and the outputs are logical (B, K, T) views of the planned shapes; btk: the user's layout is
// (B, T, K) (the kernels then walk codebooks fastest); index64 (tests): 64-bit index division.
void run_delay_apply(const Target& target, ElemType type, const Strided<3>& in, const std::vector<int64_t>& delays,
                     int64_t bos, int64_t pad, const DelayApplyPlan& plan, const Strided<3>& delayed,
                     const Strided<3>& generation, bool btk, bool index64);
void run_delay_revert(const Target& target, ElemType type, const Strided<3>& in, const std::vector<int64_t>& delays,
                      int64_t start, const DelayRevertPlan& plan, const Strided<3>& codes, bool btk, bool index64);

// The ragged kernels' offsets: S + 1 int64 on the target (their values are checked by the offsets kernel,
// which sets *status to 1 when they are invalid), and the columns each segment gains (apply) or loses (revert).
struct DelayRaggedOffsets {
  const int64_t* offsets = nullptr;
  int64_t segments = 0;
  int64_t extra = 0;  // max(delays) (+ 2 with stream BOS/EOS)
};
DelayRaggedOffsets plan_delay_ragged_offsets(const int64_t* offsets, int64_t segments,
                                             const std::vector<int64_t>& delays, int64_t codebooks, bool wrap);
// Output columns: n_cols + segments * extra (apply), n_cols - segments * extra (revert; at least 0, else
// "offsets: ... segments need at least ..."). Overflow-checked.
int64_t delay_ragged_kernels_total(const DelayRaggedOffsets& r, int64_t codebooks, int64_t n_cols);
int64_t delay_revert_ragged_kernels_total(const DelayRaggedOffsets& r, int64_t n_cols);

// Ragged ops on kGrid or kCuda: `labels` written when its data is not null; no_train: S flags or null.
void run_delay_ragged_kernels(const Target& target, ElemType type, const Strided<2>& in, const DelayRaggedOffsets& r,
                              int64_t total, const std::vector<int64_t>& delays, bool wrap, int64_t bos, int64_t pad,
                              const uint8_t* no_train, const Strided<2>& delayed, const Strided<2>& labels,
                              int64_t* out_offsets, int32_t* status, bool btk, bool index64);
void run_delay_revert_ragged_kernels(const Target& target, ElemType type, const Strided<2>& in,
                                     const DelayRaggedOffsets& r, int64_t total, const std::vector<int64_t>& delays,
                                     bool wrap, const Strided<2>& codes, int64_t* out_offsets, int32_t* status,
                                     bool btk, bool index64);

}  // namespace fastcollate
