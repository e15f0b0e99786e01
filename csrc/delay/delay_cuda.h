// The delay-pattern launches on a CUDA device (csrc/delay/delay.cu), as plain C++ declarations (no CUDA
// headers), so host-compiled code can call them. Only in a CUDA build (FASTCOLLATE_WITH_CUDA). Each runs on the
// given device and stream, never synchronises, and throws std::runtime_error "{op}: CUDA error: {message}"
// when a launch fails.
#pragma once

#include <cstdint>

#include "delay/delay_bodies.h"
#include "runtime/target.h"

namespace fastcollate {

template <typename T>
void cuda_delay_apply(const CudaTarget& t, const DelayApplyLaunch<T>& a, int64_t numel);
template <typename T>
void cuda_delay_revert(const CudaTarget& t, const DelayRevertLaunch<T>& a, int64_t numel);
template <typename T>
void cuda_delay_ragged(const CudaTarget& t, const RaggedOffsetsLaunch& offsets, const DelayRaggedLaunch<T>& a);
template <typename T>
void cuda_delay_revert_ragged(const CudaTarget& t, const RaggedOffsetsLaunch& offsets,
                              const DelayRevertRaggedLaunch<T>& a);

}  // namespace fastcollate
