// The role_span_labels op and the role-span row kernels on a target (csrc/runtime/target.h), after the bindings
// have read the tensors: the CPU state machine (kCpu), or a parallel row kernel on the CPU grid runner
// (kGrid) or a CUDA device (kCuda). Plain C++: no pybind11, no Python, no torch; call without the GIL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor_arg.h"
#include "rolespan/rolespan.h"
#include "rolespan/rolespan_scan.h"
#include "runtime/target.h"

namespace fastcollate {

// The two row kernels, until a GPU has timed them side by side: the chunk scan (rolespan_scan.h, the default)
// and the specials compaction (rolespan_compact.h). Internal, for A/B runs: both are bit-equal to the CPU path.
enum class RolespanKernel : int32_t { kScan = 0, kCompact = 1 };

// The kernel of calls that name none: FASTCOLLATE_ROLESPAN_KERNEL ("scan" or "compact"), read on first use,
// else the chunk scan, until set_rolespan_kernel. Throws std::invalid_argument for any other value.
RolespanKernel rolespan_kernel();
void set_rolespan_kernel(RolespanKernel kernel);
// "scan" / "compact"; std::invalid_argument "{what}: expected \"scan\" or \"compact\", got ..." otherwise.
RolespanKernel rolespan_kernel_named(const std::string& name, const char* what);
const char* rolespan_kernel_name(RolespanKernel kernel);

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
  RolespanKernel kernel = RolespanKernel::kScan;
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
// The collate launch over the staged rows (`staged`: the buffer on the target) into `out` (on the target).
void set_collate_launch(RolespanRowsLaunch& a, const RolespanOptions& opt, const RolespanPlan& plan,
                        const int64_t* staged, const RolespanOutputs& out);

// A row kernel's launch on kGrid or kCuda, its ids int64 or int32 (`ids_int64`), its rows between
// `shortest_row` and `longest_row` tokens (what it stages in shared memory; stage_limit (tests): see
// RolespanLabelsArgs); `op` names the caller in CUDA errors.
void run_rolespan_rows(const Target& target, RolespanRowsLaunch a, bool ids_int64, RolespanKernel kernel,
                       int64_t shortest_row, int64_t longest_row, int64_t stage_limit, const char* op);

}  // namespace fastcollate
