// The delay-pattern ops on the GPU: the launch sequences of csrc/delay/delay_bodies.h on a CUDA stream.
#include "delay/delay_cuda.h"
#include "runtime/launch.cuh"

namespace fastcollate {

template <typename T>
void cuda_delay_apply(const CudaTarget& t, const DelayApplyLaunch<T>& a, int64_t numel) {
  CudaLauncher l(t, "apply_delay_pattern");
  launch_delay_apply(l, a, numel);
}

template <typename T>
void cuda_delay_revert(const CudaTarget& t, const DelayRevertLaunch<T>& a, int64_t numel) {
  CudaLauncher l(t, "revert_delay_pattern");
  launch_delay_revert(l, a, numel);
}

template <typename T>
void cuda_delay_ragged(const CudaTarget& t, const RaggedOffsetsLaunch& offsets, const DelayRaggedLaunch<T>& a) {
  CudaLauncher l(t, "apply_delay_pattern_ragged");
  launch_delay_ragged(l, offsets, a);
}

template <typename T>
void cuda_delay_revert_ragged(const CudaTarget& t, const RaggedOffsetsLaunch& offsets,
                              const DelayRevertRaggedLaunch<T>& a) {
  CudaLauncher l(t, "revert_delay_pattern_ragged");
  launch_delay_revert_ragged(l, offsets, a);
}

#define FASTCOLLATE_DELAY_OPS(T)                                                                                  \
  template void cuda_delay_apply<T>(const CudaTarget&, const DelayApplyLaunch<T>&, int64_t);                      \
  template void cuda_delay_revert<T>(const CudaTarget&, const DelayRevertLaunch<T>&, int64_t);                    \
  template void cuda_delay_ragged<T>(const CudaTarget&, const RaggedOffsetsLaunch&, const DelayRaggedLaunch<T>&); \
  template void cuda_delay_revert_ragged<T>(const CudaTarget&, const RaggedOffsetsLaunch&,                        \
                                            const DelayRevertRaggedLaunch<T>&);
FASTCOLLATE_DELAY_OPS(int16_t)
FASTCOLLATE_DELAY_OPS(int32_t)
FASTCOLLATE_DELAY_OPS(int64_t)
#undef FASTCOLLATE_DELAY_OPS

}  // namespace fastcollate
