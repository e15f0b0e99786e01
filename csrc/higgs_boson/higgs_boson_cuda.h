// The Higgs Audio (boson format) launches on a CUDA device (csrc/higgs_boson/higgs_boson.cu), as a plain C++
// declaration (no CUDA headers). Only in a CUDA build (FASTCOLLATE_WITH_CUDA). Runs on the given device and
// stream, never synchronises, and throws std::runtime_error "{op}: CUDA error: {message}" when a launch fails.
#pragma once

#include "higgs_boson/higgs_boson_bodies.h"
#include "runtime/target.h"

namespace fastcollate {

void cuda_higgs(const CudaTarget& t, const HiggsLaunch& a);

}  // namespace fastcollate
