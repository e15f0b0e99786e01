// The role_span_labels op and the role-span row kernel on a target (csrc/runtime/target.h), after the bindings
// have read the tensors: the CPU state machine (kCpu), or the parallel scan kernel on the CPU grid runner
// (kGrid) or a CUDA device (kCuda). Plain C++: no pybind11, no Python, no torch; call without the GIL.
#pragma once

#include <cstdint>
#include <vector>

#include "common/tensor_arg.h"
#include "rolespan/rolespan.h"
#include "rolespan/rolespan_scan.h"
#include "runtime/target.h"

namespace fastcollate {

// role_span_labels' arguments: ids (B, T) int32/int64, an optional attention mask (data null when absent),
// start indices (kCpu: values, empty for none; kernels: B int64 on the target, or null), the (B, T) int64
// labels, and (kernels, with a mask) the int32 status set to 1 on an invalid mask row.
struct RolespanLabelsArgs {
  TensorArg ids, mask, labels;
  RolespanInlineSpec inline_spec;  // kernels: rolespan_inline_spec(spec), made when the ids are read
  std::vector<int64_t> start_values;
  const int64_t* start_index = nullptr;
  int32_t* status = nullptr;
  int64_t stage_limit = -1;  // kernels (tests): rows of more tokens are not staged in shared memory
};

void run_rolespan_labels(const Target& target, const RolespanSpecData& spec, const RolespanLabelsArgs& args);

// ChatCollator on the kernels: the rows staged in one int64 buffer as offsets (B + 1) | start indices (B) |
// ids (every row's, concatenated), copied to the target once.
struct RolespanStage {
  int64_t words = 0;  // 2B + 1 + tokens
  int64_t tokens = 0, shortest = 0, longest = 0;
};
RolespanStage plan_rolespan_stage(const RolespanBatchIn& in);
void stage_rolespan_rows(const RolespanBatchIn& in, int64_t* host);
// The collate launch over the staged rows (`staged`: the buffer on the target) into `out` (on the target);
// stage_limit (tests): see RolespanLabelsArgs.
void set_collate_launch(RolespanRowsLaunch& a, const RolespanOptions& opt, const RolespanPlan& plan,
                        const RolespanStage& stage, const int64_t* staged, const RolespanOutputs& out,
                        int64_t stage_limit);

// The row kernel's launch on kGrid or kCuda; `op` names the caller in CUDA errors.
template <typename T>
void run_rolespan_rows(const Target& target, const RolespanRowsBody<T>& body, const char* op);

}  // namespace fastcollate
