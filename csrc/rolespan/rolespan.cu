// Role-span labels and ChatCollator's padded/packed rows on the GPU: the block bodies of
// csrc/rolespan/rolespan_scan.h (the chunk scan) and csrc/rolespan/rolespan_compact.h (the specials
// compaction), one block per row, on a CUDA stream.
#include "rolespan/rolespan_cuda.h"
#include "runtime/launch.cuh"

namespace fastcollate {

template <typename T>
void cuda_rolespan_rows(const CudaTarget& t, const RolespanRowsBody<T>& body, const char* op) {
  CudaLauncher l(t, op);
  launch_rolespan_rows(l, body);
}

template <typename T>
void cuda_rolespan_rows(const CudaTarget& t, const RolespanCompactBody<T>& body, const char* op) {
  CudaLauncher l(t, op);
  launch_rolespan_rows(l, body);
}

template void cuda_rolespan_rows<int32_t>(const CudaTarget&, const RolespanRowsBody<int32_t>&, const char*);
template void cuda_rolespan_rows<int64_t>(const CudaTarget&, const RolespanRowsBody<int64_t>&, const char*);
template void cuda_rolespan_rows<int32_t>(const CudaTarget&, const RolespanCompactBody<int32_t>&, const char*);
template void cuda_rolespan_rows<int64_t>(const CudaTarget&, const RolespanCompactBody<int64_t>&, const char*);

}  // namespace fastcollate
