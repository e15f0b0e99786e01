#include "rolespan/rolespan_entry.h"

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
  a.stage = rolespan_stage_tokens(a.spec, a.mask ? 0 : a.cols, a.cols, args.stage_limit);
  auto run = [&](auto zero) { run_rolespan_rows(target, RolespanRowsBody<decltype(zero)>{a}, "role_span_labels"); };
  if (args.ids.type == ElemType::kInt64) run(int64_t{});
  else run(int32_t{});
}

}  // namespace

void run_rolespan_labels(const Target& target, const RolespanSpecData& spec, const RolespanLabelsArgs& args) {
  if (target.kind == TargetKind::kCpu) labels_on_cpu(spec, args);
  else labels_on_kernels(target, args);
}

template <typename T>
void run_rolespan_rows(const Target& target, const RolespanRowsBody<T>& body, const char* op) {
  (void)op;  // names the op in CUDA errors
  run_on(
      target, [&](CpuLauncher& l) { launch_rolespan_rows(l, body); },
      [&](const CudaTarget& t) { FC_ON_CUDA(cuda_rolespan_rows(t, body, op)); });
}
template void run_rolespan_rows<int32_t>(const Target&, const RolespanRowsBody<int32_t>&, const char*);
template void run_rolespan_rows<int64_t>(const Target&, const RolespanRowsBody<int64_t>&, const char*);

}  // namespace fastcollate
