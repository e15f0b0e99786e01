// Role-span labels and ChatCollator's padded/packed rows on the GPU: the block body of
// csrc/rolespan/rolespan_scan.h, one block per row, on a CUDA stream.
#include "cuda/launch.cuh"

namespace fastcollate {

template <typename T>
void cuda_role_span_rows(const CudaTarget& t, const RsRowsBody<T>& body, const char* op) {
  CudaLauncher l(t, op);
  launch_role_span_rows(l, body);
}

template void cuda_role_span_rows<int32_t>(const CudaTarget&, const RsRowsBody<int32_t>&, const char*);
template void cuda_role_span_rows<int64_t>(const CudaTarget&, const RsRowsBody<int64_t>&, const char*);

}  // namespace fastcollate
