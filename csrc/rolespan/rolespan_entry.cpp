#include "rolespan/rolespan_entry.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "rolespan/rolespan_compact.h"
#include "rolespan/rolespan_cuda.h"
#include "rolespan/rolespan_labels.h"
#include "runtime/run.h"

namespace fastcollate {
namespace {

// The ids and the optional mask, into the CPU input or the kernel launch (fields of the same names).
template <typename In>
void set_ids_and_mask(In& in, const RolespanLabelsArgs& args) {
  in.ids = args.ids.data;
  in.rows = args.ids.size[0];
  in.cols = args.ids.size[1];
  in.ids_stride[0] = args.ids.stride[0];
  in.ids_stride[1] = args.ids.stride[1];
  if (args.mask.data) {
    in.mask = args.mask.data;
    in.mask_type = args.mask.type;
    in.mask_stride[0] = args.mask.stride[0];
    in.mask_stride[1] = args.mask.stride[1];
  }
}

void labels_on_cpu(const RolespanSpecData& spec, const RolespanLabelsArgs& args) {
  RolespanLabelsIn in;
  set_ids_and_mask(in, args);
  in.ids_int64 = args.ids.type == ElemType::kInt64;
  in.start_indices = args.start_values;
  const std::vector<RowSpan> spans = rolespan_rows(in);
  fill_rolespan_labels(in, spans, spec.view(), static_cast<int64_t*>(args.labels.data), args.labels.stride[0]);
}

void labels_on_kernels(const Target& target, const RolespanLabelsArgs& args) {
  RolespanRowsLaunch a;
  a.spec = args.inline_spec;
  a.source = kRolespanPaddedLabels;
  set_ids_and_mask(a, args);
  a.start_index = args.start_index;
  a.labels = static_cast<int64_t*>(args.labels.data);
  a.labels_row_stride = args.labels.stride[0];
  a.status = args.status;
  // Without a mask every row holds all `cols` tokens; with one, a row may hold none.
  run_rolespan_rows(target, a, args.ids.type == ElemType::kInt64, args.kernel, a.mask ? 0 : a.cols, a.cols,
                    args.stage_limit, "role_span_labels");
}

RolespanKernel kernel_from_environment() {
  const char* name = std::getenv("FASTCOLLATE_ROLESPAN_KERNEL");
  return name && *name ? rolespan_kernel_named(name, "FASTCOLLATE_ROLESPAN_KERNEL") : RolespanKernel::kScan;
}

// The process-wide choice: the environment's on first use (a bad value throws, and throws again next time).
std::atomic<int32_t>& kernel_choice() {
  static std::atomic<int32_t> choice{static_cast<int32_t>(kernel_from_environment())};
  return choice;
}

template <typename Body>
void run_body(const Target& target, const Body& body, const char* op) {
  (void)op;  // names the op in CUDA errors
  run_on(
      target, [&](CpuLauncher& l) { launch_rolespan_rows(l, body); },
      [&](const CudaTarget& t) {
        (void)t;  // unused in a build without CUDA
        FC_ON_CUDA(cuda_rolespan_rows(t, body, op));
      });
}

template <typename T>
void run_rows(const Target& target, RolespanRowsLaunch a, RolespanKernel kernel, int64_t shortest_row,
              int64_t longest_row, int64_t stage_limit, const char* op) {
  if (kernel == RolespanKernel::kCompact) {
    // Rows past the compaction's staging area run the chunk scan from global memory (stage 0) in the same block.
    const int64_t stage = rolespan_compact_stage_tokens(a.spec, shortest_row, longest_row, stage_limit);
    a.stage = 0;
    run_body(target, RolespanCompactBody<T>{RolespanRowsBody<T>{a}, stage}, op);
  } else {
    a.stage = rolespan_stage_tokens(a.spec, shortest_row, longest_row, stage_limit);
    run_body(target, RolespanRowsBody<T>{a}, op);
  }
}

}  // namespace

RolespanKernel rolespan_kernel() { return static_cast<RolespanKernel>(kernel_choice().load()); }

void set_rolespan_kernel(RolespanKernel kernel) { kernel_choice().store(static_cast<int32_t>(kernel)); }

RolespanKernel rolespan_kernel_named(const std::string& name, const char* what) {
  if (name == "scan") return RolespanKernel::kScan;
  if (name == "compact") return RolespanKernel::kCompact;
  throw std::invalid_argument(std::string(what) + ": expected \"scan\" or \"compact\", got \"" + name + "\"");
}

const char* rolespan_kernel_name(RolespanKernel kernel) {
  return kernel == RolespanKernel::kCompact ? "compact" : "scan";
}

void run_rolespan_labels(const Target& target, const RolespanSpecData& spec, const RolespanLabelsArgs& args) {
  if (target.kind == TargetKind::kCpu)
    labels_on_cpu(spec, args);
  else
    labels_on_kernels(target, args);
}

RolespanStage plan_rolespan_stage(const RolespanBatchIn& in) {
  RolespanStage s;
  s.shortest = in.rows.empty() ? 0 : in.rows[0].size;
  for (const IdsView& v : in.rows) {
    s.tokens += v.size;
    s.longest = std::max(s.longest, v.size);
    s.shortest = std::min(s.shortest, v.size);
  }
  s.words = 2 * static_cast<int64_t>(in.rows.size()) + 1 + s.tokens;
  return s;
}

void stage_rolespan_rows(const RolespanBatchIn& in, int64_t* host) {
  const int64_t B = static_cast<int64_t>(in.rows.size());
  int64_t* offsets = host;
  int64_t* starts = offsets + B + 1;
  int64_t* ids = starts + B;
  offsets[0] = 0;
  for (int64_t r = 0; r < B; ++r) {
    const IdsView& v = in.rows[r];
    visit_ids(v, [&](const auto* p) {
      for (int64_t t = 0; t < v.size; ++t) ids[offsets[r] + t] = static_cast<int64_t>(p[t * v.stride]);
    });
    offsets[r + 1] = offsets[r] + v.size;
    starts[r] = in.start_indices[r];
  }
}

void set_collate_launch(RolespanRowsLaunch& a, const RolespanOptions& opt, const RolespanPlan& plan,
                        const int64_t* staged, const RolespanOutputs& out) {
  const int64_t B = plan.batch;
  a.cu_seqlens = out.cu_seqlens;
  a.source = opt.packed ? kRolespanCollatePacked : kRolespanCollatePadded;
  a.rows = B;
  a.row_offsets = staged;
  a.start_index = staged + B + 1;
  a.ids = staged + 2 * B + 1;
  a.labels = out.labels;
  a.out_ids = out.input_ids;
  a.out_aux = out.aux;
  a.num_learned = out.num_learned;
  a.width = plan.width;
  a.pad_left = opt.pad_left;
  a.pad_token_id = opt.pad_token_id;
}

void run_rolespan_rows(const Target& target, RolespanRowsLaunch a, bool ids_int64, RolespanKernel kernel,
                       int64_t shortest_row, int64_t longest_row, int64_t stage_limit, const char* op) {
  if (a.rows <= 0) return;
  if (ids_int64)
    run_rows<int64_t>(target, a, kernel, shortest_row, longest_row, stage_limit, op);
  else
    run_rows<int32_t>(target, a, kernel, shortest_row, longest_row, stage_limit, op);
}

}  // namespace fastcollate
