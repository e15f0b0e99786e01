#include "delay/delay_entry.h"

#include <stdexcept>
#include <string>

#include "delay/delay_bodies.h"
#include "delay/delay_cuda.h"
#include "delay/delay_params.h"
#include "runtime/run.h"

namespace fastcollate {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

// Delays travel inside the kernel parameters.
template <typename Launch>
void set_delays(Launch& a, const std::vector<int64_t>& delays) {
  if (static_cast<int64_t>(delays.size()) > kMaxCodebooksInline) {
    fail("delays",
         std::to_string(delays.size()) + " codebooks; the kernels take at most " + std::to_string(kMaxCodebooksInline));
  }
  for (size_t k = 0; k < delays.size(); ++k) a.delays[k] = delays[k];
}

// The geometry of a ragged launch over a (codebooks, total) output (its size was checked).
RaggedGeometry ragged_geometry(int64_t codebooks, int64_t total, const DelayRaggedOffsets& r,
                               const int64_t* out_offsets, bool wrap, bool btk, bool index64) {
  return RaggedGeometry{codebooks,
                        total,
                        r.offsets,
                        out_offsets,
                        r.segments,
                        wrap,
                        delay_grid(codebooks * total, codebooks, total, btk, index64)};
}

}  // namespace

void run_delay_apply(const Target& target, ElemType type, const Strided<3>& in, const std::vector<int64_t>& delays,
                     int64_t bos, int64_t pad, const DelayApplyPlan& plan, const Strided<3>& out, const Strided<3>& gen,
                     bool btk, bool index64) {
  if (target.kind == TargetKind::kCpu) {
    fill_delay_apply(type, in, delays, bos, pad, plan, out, gen, target.per_element);
    return;
  }
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    DelayApplyLaunch<T> a{};
    a.p = delay_apply_params<T>(in, bos, pad, plan, out, gen, btk, index64);
    set_delays(a, delays);
    run_on(
        target, [&](CpuLauncher& l) { launch_delay_apply(l, a, plan.numel); },
        [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_apply(t, a, plan.numel)); });
  });
}

void run_delay_revert(const Target& target, ElemType type, const Strided<3>& in, const std::vector<int64_t>& delays,
                      int64_t start, const DelayRevertPlan& plan, const Strided<3>& out, bool btk, bool index64) {
  if (target.kind == TargetKind::kCpu) {
    fill_delay_revert(type, in, delays, start, plan, out, target.per_element);
    return;
  }
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    DelayRevertLaunch<T> a{};
    a.p = delay_revert_params<T>(in, start, plan, out, btk, index64);
    set_delays(a, delays);
    run_on(
        target, [&](CpuLauncher& l) { launch_delay_revert(l, a, plan.numel); },
        [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_revert(t, a, plan.numel)); });
  });
}

DelayRaggedOffsets plan_delay_ragged_offsets(const int64_t* offsets, int64_t segments,
                                             const std::vector<int64_t>& delays, int64_t codebooks, bool wrap) {
  DelayRaggedOffsets r;
  r.segments = segments;
  r.extra = checked_add(check_delays(delays, codebooks), wrap ? 2 : 0, "delays: the output width");
  r.offsets = offsets;
  return r;
}

int64_t delay_ragged_kernels_total(const DelayRaggedOffsets& r, int64_t codebooks, int64_t n_cols) {
  const int64_t total =
      checked_add(n_cols, checked_mul(r.segments, r.extra, "codes: the output size"), "codes: the output size");
  checked_mul(codebooks, total, "codes: the output size");
  return total;
}

int64_t delay_revert_ragged_kernels_total(const DelayRaggedOffsets& r, int64_t n_cols) {
  const int64_t total = n_cols - checked_mul(r.segments, r.extra, "delayed: the output size");
  if (total < 0) {
    fail("offsets", std::to_string(r.segments) + " segments need at least " + std::to_string(r.extra) +
                        " columns each, but delayed has " + std::to_string(n_cols) + " in all");
  }
  return total;
}

void run_delay_ragged_kernels(const Target& target, ElemType type, const Strided<2>& in, const DelayRaggedOffsets& r,
                              int64_t total, const std::vector<int64_t>& delays, bool wrap, int64_t bos, int64_t pad,
                              const uint8_t* flags, const Strided<2>& out, const Strided<2>& lab, int64_t* out_offsets,
                              int32_t* status, bool btk, bool index64) {
  const RaggedOffsetsLaunch off{r.offsets, out_offsets, r.segments, in.size[1], r.extra, 0, status};
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    DelayRaggedLaunch<T> a{};
    a.p = DelayRaggedParams<T>{ragged_geometry(in.size[0], total, r, out_offsets, wrap, btk, index64),
                               static_cast<const T*>(in.data),
                               {in.stride[0], in.stride[1]},
                               static_cast<T*>(out.data),
                               {out.stride[0], out.stride[1]},
                               static_cast<int64_t*>(lab.data),
                               {lab.stride[0], lab.stride[1]},
                               flags,
                               bos,
                               pad};
    a.status = status;
    set_delays(a, delays);
    run_on(
        target, [&](CpuLauncher& l) { launch_delay_ragged(l, off, a); },
        [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_ragged(t, off, a)); });
  });
}

void run_delay_revert_ragged_kernels(const Target& target, ElemType type, const Strided<2>& in,
                                     const DelayRaggedOffsets& r, int64_t total, const std::vector<int64_t>& delays,
                                     bool wrap, const Strided<2>& out, int64_t* out_offsets, int32_t* status, bool btk,
                                     bool index64) {
  const RaggedOffsetsLaunch off{r.offsets, out_offsets, r.segments, in.size[1], -r.extra, r.extra, status};
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    DelayRevertRaggedLaunch<T> a{};
    a.p = DelayRevertRaggedParams<T>{ragged_geometry(in.size[0], total, r, out_offsets, wrap, btk, index64),
                                     static_cast<const T*>(in.data),
                                     {in.stride[0], in.stride[1]},
                                     static_cast<T*>(out.data),
                                     {out.stride[0], out.stride[1]}};
    a.status = status;
    set_delays(a, delays);
    run_on(
        target, [&](CpuLauncher& l) { launch_delay_revert_ragged(l, off, a); },
        [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_revert_ragged(t, off, a)); });
  });
}

}  // namespace fastcollate
