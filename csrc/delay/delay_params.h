// The kernel params of the padded ops from their logical views and plan: the CPU fills (delay_pattern.cpp) and
// the kernels' launches (delay_entry.cpp) build them the same way. `k_fastest`: the grid walks codebooks fastest
// (the user's "BTK" layout); index64 (tests): 64-bit index division.
#pragma once

#include "delay/delay_kernels.h"
#include "delay/delay_pattern.h"

namespace fastcollate {

template <typename T>
DelayApplyParams<T> delay_apply_params(const Strided<3>& codes, int64_t bos, int64_t pad, const DelayApplyPlan& plan,
                                       const Strided<3>& delayed, const Strided<3>& generation, bool k_fastest,
                                       bool index64 = false) {
  return DelayApplyParams<T>{static_cast<const T*>(codes.data),
                             codes.size[1],
                             codes.size[2],
                             plan.width,
                             {codes.stride[0], codes.stride[1], codes.stride[2]},
                             static_cast<T*>(delayed.data),
                             {delayed.stride[0], delayed.stride[1], delayed.stride[2]},
                             static_cast<T*>(generation.data),
                             {generation.stride[0], generation.stride[1], generation.stride[2]},
                             bos,
                             pad,
                             delay_grid(plan.numel, codes.size[1], plan.width, k_fastest, index64)};
}

template <typename T>
DelayRevertParams<T> delay_revert_params(const Strided<3>& delayed, int64_t start, const DelayRevertPlan& plan,
                                         const Strided<3>& codes, bool k_fastest, bool index64 = false) {
  return DelayRevertParams<T>{static_cast<const T*>(delayed.data),
                              delayed.size[1],
                              plan.length,
                              start,
                              {delayed.stride[0], delayed.stride[1], delayed.stride[2]},
                              static_cast<T*>(codes.data),
                              {codes.stride[0], codes.stride[1], codes.stride[2]},
                              delay_grid(plan.numel, delayed.size[1], plan.length, k_fastest, index64)};
}

}  // namespace fastcollate
