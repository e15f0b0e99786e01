// The Higgs Audio batch assembled on the GPU from its staging buffer (csrc/higgs_boson/higgs_boson_bodies.h).
#include "higgs_boson/higgs_boson_cuda.h"
#include "runtime/launch.cuh"

namespace fastcollate {

void cuda_higgs(const CudaTarget& t, const HiggsLaunch& a) {
  CudaLauncher l(t, "HiggsAudioSampleCollator(backend='cuda')");
  launch_higgs(l, a);
}

}  // namespace fastcollate
