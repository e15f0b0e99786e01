// _core.delay: the delay-pattern ops (fastcollate/ops). Each entry point reads its tensors once (GIL held),
// plans and checks every output's shape, then runs on its target without the GIL: the CPU fills (apply, ...,
// per_element for tests), or the kernels (kernel_apply, ...: a CUDA device and stream, or device -1 the CPU
// grid runner). Outputs are allocated by the caller (the torch.library op, or the user's out=). Value checks
// that need the tensors' contents on a device (ragged offsets) run inside the kernels and set `status`.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>

#include "delay/delay_entry.h"
#include "delay/delay_views.h"
#include "python/reader.h"

namespace fastcollate {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

// The codes of an apply: an int16/int32/int64 tensor of min_dim to max_dim dimensions that BOS and PAD fit.
TensorArg read_apply_codes(py::handle codes, int min_dim, int max_dim, int64_t bos, int64_t pad, ElemType& type,
                           Keep& keep, int device = -1) {
  const TensorArg c = read_tensor_arg(codes, "codes", min_dim, max_dim, keep, device);
  type = code_type(c, "codes");
  require_fits(bos, type, "bos_token_id", c.dtype_name);
  require_fits(pad, type, "pad_token_id", c.dtype_name);
  return c;
}

void apply_on(const Target& target, py::handle codes, int64_t bos, int64_t pad, const std::vector<int64_t>& delays,
              bool btk, bool extend, py::handle delayed, py::handle generation, bool index64) {
  Keep keep;
  ElemType type;
  const TensorArg c = read_apply_codes(codes, 2, 3, bos, pad, type, keep, target.device);
  const Strided<3> in = padded_view(c, btk);
  const DelayApplyPlan plan = plan_delay_apply(in.size[0], in.size[1], in.size[2], delays, extend);
  const auto shape = padded_shape(c.ndim, in.size[0], in.size[1], plan.width, btk);
  const Strided<3> out =
      padded_view(read_output(delayed, "out[0]", c.type, c.dtype_name, shape, keep, target.device), btk);
  const Strided<3> gen =
      padded_view(read_output(generation, "out[1]", c.type, c.dtype_name, shape, keep, target.device), btk);
  py::gil_scoped_release release;  // only the tensors pinned in `keep` are touched
  run_delay_apply(target, type, in, delays, bos, pad, plan, out, gen, btk, index64);
}

void revert_on(const Target& target, py::handle delayed, const std::vector<int64_t>& delays, bool btk, int64_t start,
               py::handle codes, bool index64) {
  Keep keep;
  const TensorArg d = read_tensor_arg(delayed, "delayed", 2, 3, keep, target.device);
  const ElemType type = code_type(d, "delayed");
  const Strided<3> in = padded_view(d, btk);
  const DelayRevertPlan plan = plan_delay_revert(in.size[0], in.size[1], in.size[2], delays, start);
  const auto shape = padded_shape(d.ndim, in.size[0], in.size[1], plan.length, btk);
  const Strided<3> out = padded_view(read_output(codes, "out", d.type, d.dtype_name, shape, keep, target.device), btk);
  py::gil_scoped_release release;
  run_delay_revert(target, type, in, delays, start, plan, out, btk, index64);
}

// A ragged op's offsets. On the CPU they are read on the host and planned there (any int32/int64 tensor); the
// kernels take S + 1 int64 contiguous on the target and check their values on the device (setting `status`).
struct RaggedOffsets {
  std::vector<int64_t> host;  // kCpu
  DelayRaggedOffsets target;  // kernels
  int64_t segments = 0;
};

DelayRaggedOffsets read_ragged_offsets(py::handle offsets, const std::vector<int64_t>& delays, int64_t codebooks,
                                       bool wrap, Keep& keep, int device) {
  const TensorArg o = read_tensor_arg(offsets, "offsets", 1, 1, keep, device);
  if (o.size[0] < 1) fail("offsets", "expected at least one entry (S + 1 for S segments), got none");
  read_flat_int64(offsets, "offsets", o.size[0], keep, device);
  return plan_delay_ragged_offsets(static_cast<const int64_t*>(o.data), o.size[0] - 1, delays, codebooks, wrap);
}

// The planned new offsets: written here on the CPU; on a kernel target the offsets kernel writes them.
int64_t* new_offsets_of(const Target& target, py::handle value, const DelayRaggedPlan& plan, const RaggedOffsets& r,
                        Keep& keep) {
  if (target.kind != TargetKind::kCpu) {
    return static_cast<int64_t*>(read_flat_int64(value, "new_offsets", r.segments + 1, keep, target.device).data);
  }
  const TensorArg t = read_output(value, "new_offsets", ElemType::kInt64, "torch.int64",
                                  {static_cast<int64_t>(plan.out_offsets.size())}, keep);
  for (size_t s = 0; s < plan.out_offsets.size(); ++s) {
    static_cast<int64_t*>(t.data)[s * t.stride[0]] = plan.out_offsets[s];
  }
  return nullptr;
}

void apply_ragged_on(const Target& target, py::handle codes, py::handle offsets, int64_t bos, int64_t pad,
                     const std::vector<int64_t>& delays, bool btk, bool wrap, py::handle delayed,
                     py::handle new_offsets, py::handle labels, py::handle no_train, py::handle status, bool index64) {
  const bool kernels = target.kind != TargetKind::kCpu;
  const int device = target.device;
  Keep keep;
  ElemType type;
  const TensorArg c = read_apply_codes(codes, 2, 2, bos, pad, type, keep, device);
  const Strided<2> in = ragged_view(c, btk);
  RaggedOffsets r;
  DelayRaggedPlan plan;
  if (kernels) {
    r.target = read_ragged_offsets(offsets, delays, in.size[0], wrap, keep, device);
    r.segments = r.target.segments;
    plan.total = delay_ragged_kernels_total(r.target, in.size[0], in.size[1]);
  } else {
    r.host = read_int_values(offsets, "offsets", keep);
    plan = plan_delay_ragged(in.size[0], in.size[1], r.host, delays, wrap);
    r.segments = static_cast<int64_t>(r.host.size()) - 1;
  }
  const auto shape = ragged_shape(in.size[0], plan.total, btk);
  const Strided<2> out = ragged_view(read_output(delayed, "out", c.type, c.dtype_name, shape, keep, device), btk);
  Strided<2> lab;
  if (!labels.is_none()) {
    lab = ragged_view(read_output(labels, "labels", ElemType::kInt64, "torch.int64", shape, keep, device), btk);
  }
  std::vector<uint8_t> host_flags;
  const uint8_t* flags = nullptr;
  if (!no_train.is_none()) {
    if (labels.is_none()) fail("no_train", "is only read with labels (return_labels=True)");
    const TensorArg f = read_output(no_train, "no_train", ElemType::kBool, "torch.bool", {r.segments}, keep, device);
    if (kernels) {
      if (r.segments > 1 && f.stride[0] != 1) fail("no_train", "expected a contiguous tensor");
      flags = static_cast<const uint8_t*>(f.data);
    } else {
      for (int64_t s = 0; s < r.segments; ++s)
        host_flags.push_back(static_cast<const uint8_t*>(f.data)[s * f.stride[0]]);
    }
  }
  int64_t* out_offsets = new_offsets_of(target, new_offsets, plan, r, keep);
  int32_t* flag = kernels ? read_status(status, keep, device) : nullptr;
  py::gil_scoped_release release;  // only the tensors pinned in `keep` are touched
  if (kernels) {
    run_delay_ragged_kernels(target, type, in, r.target, plan.total, delays, wrap, bos, pad, flags, out, lab,
                             out_offsets, flag, btk, index64);
  } else {
    fill_delay_ragged(type, in, r.host, delays, wrap, bos, pad, host_flags, plan, out, lab, target.per_element);
  }
}

void revert_ragged_on(const Target& target, py::handle delayed, py::handle offsets, const std::vector<int64_t>& delays,
                      bool btk, bool wrap, py::handle codes, py::handle new_offsets, py::handle status, bool index64) {
  const bool kernels = target.kind != TargetKind::kCpu;
  const int device = target.device;
  Keep keep;
  const TensorArg d = read_tensor_arg(delayed, "delayed", 2, 2, keep, device);
  const ElemType type = code_type(d, "delayed");
  const Strided<2> in = ragged_view(d, btk);
  RaggedOffsets r;
  DelayRaggedPlan plan;
  if (kernels) {
    r.target = read_ragged_offsets(offsets, delays, in.size[0], wrap, keep, device);
    r.segments = r.target.segments;
    plan.total = delay_revert_ragged_kernels_total(r.target, in.size[1]);
  } else {
    r.host = read_int_values(offsets, "offsets", keep);
    plan = plan_delay_revert_ragged(in.size[0], in.size[1], r.host, delays, wrap);
    r.segments = static_cast<int64_t>(r.host.size()) - 1;
  }
  const auto shape = ragged_shape(in.size[0], plan.total, btk);
  const Strided<2> out = ragged_view(read_output(codes, "out", d.type, d.dtype_name, shape, keep, device), btk);
  int64_t* out_offsets = new_offsets_of(target, new_offsets, plan, r, keep);
  int32_t* flag = kernels ? read_status(status, keep, device) : nullptr;
  py::gil_scoped_release release;
  if (kernels) {
    run_delay_revert_ragged_kernels(target, type, in, r.target, plan.total, delays, wrap, out, out_offsets, flag, btk,
                                    index64);
  } else {
    fill_delay_revert_ragged(type, in, r.host, delays, wrap, plan, out, target.per_element);
  }
}

py::tuple apply_sizes(int64_t batch, int64_t codebooks, int64_t length, const std::vector<int64_t>& delays,
                      bool extend) {
  const DelayApplyPlan plan = plan_delay_apply(batch, codebooks, length, delays, extend);
  return py::make_tuple(plan.width, plan.numel);
}

}  // namespace

void bind_delay(py::module_& m) {
  const char* per_element = "per_element: run the one-element kernel for every index (the CUDA form), for tests";
  m.def(
      "apply",
      [](py::handle codes, int64_t bos, int64_t pad, const std::vector<int64_t>& delays, bool btk, bool extend,
         py::handle delayed, py::handle generation, bool per_element) {
        apply_on(Target::cpu(per_element), codes, bos, pad, delays, btk, extend, delayed, generation, false);
      },
      py::arg("codes"), py::arg("bos_token_id"), py::arg("pad_token_id"), py::arg("delays"), py::arg("btk"),
      py::arg("extend"), py::arg("delayed"), py::arg("generation_mask"), py::arg("per_element") = false,
      (std::string("Delay pattern into the given outputs (fastcollate.ops.apply_delay_pattern). ") + per_element)
          .c_str());
  m.def(
      "revert",
      [](py::handle delayed, const std::vector<int64_t>& delays, bool btk, int64_t start, py::handle codes,
         bool per_element) { revert_on(Target::cpu(per_element), delayed, delays, btk, start, codes, false); },
      py::arg("delayed"), py::arg("delays"), py::arg("btk"), py::arg("start_index"), py::arg("out"),
      py::arg("per_element") = false, "Undo the delay pattern into `out`.");
  m.def(
      "apply_ragged",
      [](py::handle codes, py::handle offsets, int64_t bos, int64_t pad, const std::vector<int64_t>& delays, bool btk,
         bool wrap, py::handle delayed, py::handle new_offsets, py::handle labels, py::handle no_train,
         bool per_element) {
        apply_ragged_on(Target::cpu(per_element), codes, offsets, bos, pad, delays, btk, wrap, delayed, new_offsets,
                        labels, no_train, py::none(), false);
      },
      py::arg("codes"), py::arg("offsets"), py::arg("bos_token_id"), py::arg("pad_token_id"), py::arg("delays"),
      py::arg("btk"), py::arg("stream_bos_eos"), py::arg("out"), py::arg("new_offsets"), py::arg("labels"),
      py::arg("no_train"), py::arg("per_element") = false, "Delay pattern of packed segments into the given outputs.");
  m.def(
      "revert_ragged",
      [](py::handle delayed, py::handle offsets, const std::vector<int64_t>& delays, bool btk, bool wrap,
         py::handle codes, py::handle new_offsets, bool per_element) {
        revert_ragged_on(Target::cpu(per_element), delayed, offsets, delays, btk, wrap, codes, new_offsets, py::none(),
                         false);
      },
      py::arg("delayed"), py::arg("offsets"), py::arg("delays"), py::arg("btk"), py::arg("stream_bos_eos"),
      py::arg("out"), py::arg("new_offsets"), py::arg("per_element") = false,
      "Undo the delay pattern of packed segments.");
  m.def("apply_sizes", &apply_sizes, py::arg("batch"), py::arg("codebooks"), py::arg("length"), py::arg("delays"),
        py::arg("extend"),
        "(width, numel) of apply's outputs, overflow-checked: the size arithmetic without any allocation.");
  m.def(
      "kernel_apply",
      [](py::handle codes, int64_t bos, int64_t pad, const std::vector<int64_t>& delays, bool btk, bool extend,
         py::handle delayed, py::handle generation, int device, uintptr_t stream, bool reverse, bool index64) {
        apply_on(Target::kernels(device, stream, reverse), codes, bos, pad, delays, btk, extend, delayed, generation,
                 index64);
      },
      py::arg("codes"), py::arg("bos_token_id"), py::arg("pad_token_id"), py::arg("delays"), py::arg("btk"),
      py::arg("extend"), py::arg("delayed"), py::arg("generation_mask"), py::arg("device"), py::arg("stream") = 0,
      py::arg("reverse") = false, py::arg("index64") = false,
      "apply_delay_pattern's kernel: on CUDA device `device` and `stream`, or (device -1) the CPU grid runner. "
      "index64 (tests): divide indices in 64 bits as for outputs of over 2^32 elements.");
  m.def(
      "kernel_revert",
      [](py::handle delayed, const std::vector<int64_t>& delays, bool btk, int64_t start, py::handle codes, int device,
         uintptr_t stream, bool reverse, bool index64) {
        revert_on(Target::kernels(device, stream, reverse), delayed, delays, btk, start, codes, index64);
      },
      py::arg("delayed"), py::arg("delays"), py::arg("btk"), py::arg("start_index"), py::arg("out"), py::arg("device"),
      py::arg("stream") = 0, py::arg("reverse") = false, py::arg("index64") = false,
      "revert_delay_pattern's kernel (see kernel_apply).");
  m.def(
      "kernel_apply_ragged",
      [](py::handle codes, py::handle offsets, int64_t bos, int64_t pad, const std::vector<int64_t>& delays, bool btk,
         bool wrap, py::handle delayed, py::handle new_offsets, py::handle labels, py::handle no_train,
         py::handle status, int device, uintptr_t stream, bool reverse, bool index64) {
        apply_ragged_on(Target::kernels(device, stream, reverse), codes, offsets, bos, pad, delays, btk, wrap, delayed,
                        new_offsets, labels, no_train, status, index64);
      },
      py::arg("codes"), py::arg("offsets"), py::arg("bos_token_id"), py::arg("pad_token_id"), py::arg("delays"),
      py::arg("btk"), py::arg("stream_bos_eos"), py::arg("out"), py::arg("new_offsets"), py::arg("labels"),
      py::arg("no_train"), py::arg("status"), py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false,
      py::arg("index64") = false,
      "apply_delay_pattern_ragged's kernels; offsets int64 contiguous; status (int32, 1) is set to 1 when the "
      "offsets are invalid (nothing is then written).");
  m.def(
      "kernel_revert_ragged",
      [](py::handle delayed, py::handle offsets, const std::vector<int64_t>& delays, bool btk, bool wrap,
         py::handle codes, py::handle new_offsets, py::handle status, int device, uintptr_t stream, bool reverse,
         bool index64) {
        revert_ragged_on(Target::kernels(device, stream, reverse), delayed, offsets, delays, btk, wrap, codes,
                         new_offsets, status, index64);
      },
      py::arg("delayed"), py::arg("offsets"), py::arg("delays"), py::arg("btk"), py::arg("stream_bos_eos"),
      py::arg("out"), py::arg("new_offsets"), py::arg("status"), py::arg("device"), py::arg("stream") = 0,
      py::arg("reverse") = false, py::arg("index64") = false,
      "revert_delay_pattern_ragged's kernels (see kernel_apply_ragged).");
}

}  // namespace fastcollate
