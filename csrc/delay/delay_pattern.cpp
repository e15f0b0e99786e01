// Plans and CPU fills of the delay-pattern ops. The fills write whole rows (delay_row_fill.h); with
// per_element they run the one-element kernels of delay_kernels.h for every index instead (the CUDA form).
#include "delay/delay_pattern.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "delay/delay_kernels.h"
#include "delay/delay_params.h"
#include "delay/delay_row_fill.h"

namespace fastcollate {
namespace {

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

// Columns per block when output rows are strided (see fill_delay_apply).
constexpr int64_t kStridedBlock = 64;

template <typename Kernel, typename Params>
void run_grid(int64_t numel, const Params& p, const std::vector<int64_t>& delays, Kernel kernel) {
  for (int64_t i = 0; i < numel; ++i) kernel(i, p, delays.data());
}

RaggedGeometry ragged_geometry(int64_t codebooks, const std::vector<int64_t>& offsets, const DelayRaggedPlan& plan,
                               bool wrap) {
  return RaggedGeometry{codebooks,
                        plan.total,
                        offsets.data(),
                        plan.out_offsets.data(),
                        static_cast<int64_t>(offsets.size()) - 1,
                        wrap,
                        delay_grid(codebooks * plan.total, codebooks, plan.total, false)};
}

// A ragged op: row(k, s) for every codebook k and segment s, or with per_element the one-element kernel for
// every index of the (K, total) output (its size was checked by the plan).
template <typename Params, typename Kernel, typename Row>
void run_ragged(const Params& p, const std::vector<int64_t>& delays, bool per_element, Kernel kernel, Row row) {
  if (per_element) return run_grid(p.g.codebooks * p.g.total, p, delays, kernel);
  for (int64_t k = 0; k < p.g.codebooks; ++k) {
    for (int64_t s = 0; s < p.g.n_segments; ++s) row(k, s);
  }
}

void check_offsets(const std::vector<int64_t>& offsets, int64_t n_cols) {
  if (offsets.empty()) fail("offsets: expected at least one entry (S + 1 for S segments), got none");
  if (offsets.front() != 0) fail("offsets: entry 0 = " + std::to_string(offsets.front()) + ", expected 0");
  for (size_t j = 1; j < offsets.size(); ++j) {
    if (offsets[j] < offsets[j - 1]) {
      fail("offsets: decreases at entry " + std::to_string(j) + " (" + std::to_string(offsets[j - 1]) + " > " +
           std::to_string(offsets[j]) + ")");
    }
  }
  if (offsets.back() != n_cols) {
    fail("offsets: last entry = " + std::to_string(offsets.back()) + ", expected " + std::to_string(n_cols) +
         " (the number of columns)");
  }
}

// Columns every segment gains (ragged apply) or loses (ragged revert): its delays and stream BOS/EOS.
int64_t segment_extra(const std::vector<int64_t>& delays, int64_t codebooks, bool wrap) {
  return checked_add(check_delays(delays, codebooks), wrap ? 2 : 0, "delays: the output width");
}

}  // namespace

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) fail(std::string(what) + " overflows int64");
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) fail(std::string(what) + " overflows int64");
  return r;
}

int64_t check_delays(const std::vector<int64_t>& delays, int64_t codebooks) {
  if (static_cast<int64_t>(delays.size()) != codebooks) {
    fail("delays: expected " + std::to_string(codebooks) + " entries (one per codebook), got " +
         std::to_string(delays.size()));
  }
  int64_t max_delay = 0;
  for (size_t k = 0; k < delays.size(); ++k) {
    if (delays[k] < 0) fail("delays: entry " + std::to_string(k) + " = " + std::to_string(delays[k]) + " is negative");
    max_delay = std::max(max_delay, delays[k]);
  }
  return max_delay;
}

DelayApplyPlan plan_delay_apply(int64_t batch, int64_t codebooks, int64_t length, const std::vector<int64_t>& delays,
                                bool extend) {
  DelayApplyPlan plan;
  plan.max_delay = check_delays(delays, codebooks);
  plan.width = extend ? checked_add(length, plan.max_delay, "delays: the output width") : length;
  plan.numel =
      checked_mul(checked_mul(batch, codebooks, "codes: the output size"), plan.width, "codes: the output size");
  return plan;
}

DelayRevertPlan plan_delay_revert(int64_t batch, int64_t codebooks, int64_t width, const std::vector<int64_t>& delays,
                                  int64_t start) {
  if (start < 0) fail("start_index: expected an int >= 0, got " + std::to_string(start));
  const int64_t available = width - check_delays(delays, codebooks);  // both >= 0: no overflow
  DelayRevertPlan plan;
  plan.length = available > start ? available - start : 0;
  plan.numel =
      checked_mul(checked_mul(batch, codebooks, "delayed: the output size"), plan.length, "delayed: the output size");
  return plan;
}

namespace {

// Ragged apply: every segment gains its delays and stream BOS/EOS (`extra` columns); ragged revert loses them,
// so each delayed segment must hold them.
DelayRaggedPlan plan_ragged(int64_t codebooks, int64_t n_cols, const std::vector<int64_t>& offsets,
                            const std::vector<int64_t>& delays, bool wrap, bool revert) {
  const int64_t extra = segment_extra(delays, codebooks, wrap);
  check_offsets(offsets, n_cols);
  DelayRaggedPlan plan;
  plan.out_offsets.assign(offsets.size(), 0);
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int64_t width = offsets[s + 1] - offsets[s];
    if (revert && width < extra) {
      fail("offsets: segment " + std::to_string(s) + " has " + std::to_string(width) + " columns, fewer than the " +
           std::to_string(extra) + " its delays and stream BOS/EOS add");
    }
    const int64_t out_width = revert ? width - extra : checked_add(width, extra, "delays: the output width");
    plan.out_offsets[s + 1] = checked_add(plan.out_offsets[s], out_width, "codes: the output size");
  }
  plan.total = plan.out_offsets.back();
  checked_mul(codebooks, plan.total, "codes: the output size");
  return plan;
}

}  // namespace

DelayRaggedPlan plan_delay_ragged(int64_t codebooks, int64_t n_cols, const std::vector<int64_t>& offsets,
                                  const std::vector<int64_t>& delays, bool wrap) {
  return plan_ragged(codebooks, n_cols, offsets, delays, wrap, false);
}

DelayRaggedPlan plan_delay_revert_ragged(int64_t codebooks, int64_t n_cols, const std::vector<int64_t>& offsets,
                                         const std::vector<int64_t>& delays, bool wrap) {
  return plan_ragged(codebooks, n_cols, offsets, delays, wrap, true);
}

void fill_delay_apply(ElemType type, const Strided<3>& codes, const std::vector<int64_t>& delays, int64_t bos,
                      int64_t pad, const DelayApplyPlan& plan, const Strided<3>& delayed, const Strided<3>& generation,
                      bool per_element) {
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    const DelayApplyParams<T> p = delay_apply_params<T>(codes, bos, pad, plan, delayed, generation, false);
    if (per_element) return run_grid(plan.numel, p, delays, delay_apply_element<T>);
    const DelayFill ids = delay_ids_fill(bos, pad), gen = delay_generation_fill(bos, pad);
    // Rows of unit stride are written whole. Otherwise ("BTK": codebooks are the fast dimension) every
    // codebook's row is written a block of columns at a time, so the block's cache lines, which all the
    // codebooks share, are filled while they are in L1 instead of once per codebook pass over the tensor.
    const bool unit = p.delayed_stride[2] == 1 && p.generation_stride[2] == 1;
    const int64_t block = unit ? std::max<int64_t>(plan.width, 1) : kStridedBlock;
    for (int64_t b = 0; b < codes.size[0]; ++b) {
      for (int64_t first = 0; first < plan.width; first += block) {
        const int64_t last = std::min(plan.width, first + block);
        for (int64_t k = 0; k < p.codebooks; ++k) {
          const DelayRow row = delay_row(p.length, delays[k], false, plan.width);
          const T* src = p.codes + b * p.codes_stride[0] + k * p.codes_stride[1];
          fill_delay_columns(p.delayed + b * p.delayed_stride[0] + k * p.delayed_stride[1], p.delayed_stride[2], row,
                             ids, src, p.codes_stride[2], first, last);
          fill_delay_columns(p.generation + b * p.generation_stride[0] + k * p.generation_stride[1],
                             p.generation_stride[2], row, gen, src, p.codes_stride[2], first, last);
        }
      }
    }
  });
}

void fill_delay_revert(ElemType type, const Strided<3>& delayed, const std::vector<int64_t>& delays, int64_t start,
                       const DelayRevertPlan& plan, const Strided<3>& codes, bool per_element) {
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    const DelayRevertParams<T> p = delay_revert_params<T>(delayed, start, plan, codes, false);
    if (per_element) return run_grid(plan.numel, p, delays, delay_revert_element<T>);
    if (plan.length == 0) return;  // the first column below may not exist
    for (int64_t b = 0; b < delayed.size[0]; ++b) {
      for (int64_t k = 0; k < p.codebooks; ++k) {
        const T* src = p.delayed + b * p.delayed_stride[0] + k * p.delayed_stride[1] +
                       delayed_column(start, delays[k], false) * p.delayed_stride[2];
        copy_code_row(p.codes + b * p.codes_stride[0] + k * p.codes_stride[1], p.codes_stride[2], src,
                      p.delayed_stride[2], plan.length);
      }
    }
  });
}

void fill_delay_ragged(ElemType type, const Strided<2>& codes, const std::vector<int64_t>& offsets,
                       const std::vector<int64_t>& delays, bool wrap, int64_t bos, int64_t pad,
                       const std::vector<uint8_t>& no_train, const DelayRaggedPlan& plan, const Strided<2>& delayed,
                       const Strided<2>& labels, bool per_element) {
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    const DelayRaggedParams<T> p{ragged_geometry(codes.size[0], offsets, plan, wrap),
                                 static_cast<const T*>(codes.data),
                                 {codes.stride[0], codes.stride[1]},
                                 static_cast<T*>(delayed.data),
                                 {delayed.stride[0], delayed.stride[1]},
                                 static_cast<int64_t*>(labels.data),
                                 {labels.stride[0], labels.stride[1]},
                                 no_train.empty() ? nullptr : no_train.data(),
                                 bos,
                                 pad};
    const DelayFill ids = delay_ids_fill(bos, pad);
    run_ragged(p, delays, per_element, delay_ragged_element<T>, [&](int64_t k, int64_t s) {
      const int64_t col = plan.out_offsets[s];
      const DelayRow row = delay_row(offsets[s + 1] - offsets[s], delays[k], wrap, plan.out_offsets[s + 1] - col);
      const T* src = p.codes + k * p.codes_stride[0] + offsets[s] * p.codes_stride[1];
      fill_delay_row(p.delayed + k * p.delayed_stride[0] + col * p.delayed_stride[1], p.delayed_stride[1], row, ids,
                     src, p.codes_stride[1]);
      if (!p.labels) return;
      const DelayFill fill = delay_labels_fill(pad, p.no_train && p.no_train[s]);
      fill_delay_row(p.labels + k * p.labels_stride[0] + col * p.labels_stride[1], p.labels_stride[1], row, fill, src,
                     p.codes_stride[1]);
    });
  });
}

void fill_delay_revert_ragged(ElemType type, const Strided<2>& delayed, const std::vector<int64_t>& offsets,
                              const std::vector<int64_t>& delays, bool wrap, const DelayRaggedPlan& plan,
                              const Strided<2>& codes, bool per_element) {
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    const DelayRevertRaggedParams<T> p{ragged_geometry(delayed.size[0], offsets, plan, wrap),
                                       static_cast<const T*>(delayed.data),
                                       {delayed.stride[0], delayed.stride[1]},
                                       static_cast<T*>(codes.data),
                                       {codes.stride[0], codes.stride[1]}};
    run_ragged(p, delays, per_element, delay_revert_ragged_element<T>, [&](int64_t k, int64_t s) {
      const int64_t length = plan.out_offsets[s + 1] - plan.out_offsets[s];
      if (length == 0) return;  // its first delayed column may not exist
      const T* src =
          p.delayed + k * p.delayed_stride[0] + (offsets[s] + delayed_column(0, delays[k], wrap)) * p.delayed_stride[1];
      copy_code_row(p.codes + k * p.codes_stride[0] + plan.out_offsets[s] * p.codes_stride[1], p.codes_stride[1], src,
                    p.delayed_stride[1], length);
    });
  });
}

}  // namespace fastcollate
