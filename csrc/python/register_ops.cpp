// Python entry points of the token-tensor ops (fastcollate/ops): read the tensors (GIL held), plan and
// check every output's shape, then fill with the GIL released. Outputs are allocated by the caller (the
// torch.library op allocates them, or the user passes out=), so one function serves both.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>

#include "delay/delay_pattern.h"
#include "rolespan/rolespan_labels.h"
#include "python/op_args.h"
#include "python/op_tensors.h"
#include "rolespan/rolespan.h"

namespace fastcollate {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

void write_offsets(py::handle value, const std::string& name, const std::vector<int64_t>& offsets, Keep& keep) {
  const TensorArg t = read_output(value, name, ArgType::I64, "torch.int64", {static_cast<int64_t>(offsets.size())}, keep);
  for (size_t s = 0; s < offsets.size(); ++s) static_cast<int64_t*>(t.data)[s * t.stride[0]] = offsets[s];
}

void apply(py::handle codes, int64_t bos, int64_t pad, const std::vector<int64_t>& delays, bool btk, bool extend,
           py::handle delayed, py::handle generation, bool per_element) {
  Keep keep;
  OpIntType type;
  const TensorArg c = read_apply_codes(codes, 2, 3, bos, pad, type, keep);
  const Strided<3> in = padded_view(c, btk);
  const DelayApplyPlan plan = plan_delay_apply(in.size[0], in.size[1], in.size[2], delays, extend);
  const auto shape = padded_shape(c.ndim, in.size[0], in.size[1], plan.width, btk);
  const Strided<3> out = padded_view(read_output(delayed, "out[0]", c.type, c.dtype_name, shape, keep), btk);
  const Strided<3> gen = padded_view(read_output(generation, "out[1]", c.type, c.dtype_name, shape, keep), btk);
  py::gil_scoped_release release;  // only the tensors pinned in `keep` are touched
  fill_delay_apply(type, in, delays, bos, pad, plan, out, gen, per_element);
}

void revert(py::handle delayed, const std::vector<int64_t>& delays, bool btk, int64_t start, py::handle codes,
            bool per_element) {
  Keep keep;
  const TensorArg d = read_tensor_arg(delayed, "delayed", 2, 3, keep);
  const OpIntType type = code_type(d, "delayed");
  const Strided<3> in = padded_view(d, btk);
  const DelayRevertPlan plan = plan_delay_revert(in.size[0], in.size[1], in.size[2], delays, start);
  const auto shape = padded_shape(d.ndim, in.size[0], in.size[1], plan.length, btk);
  const Strided<3> out = padded_view(read_output(codes, "out", d.type, d.dtype_name, shape, keep), btk);
  py::gil_scoped_release release;
  fill_delay_revert(type, in, delays, start, plan, out, per_element);
}

void apply_ragged(py::handle codes, py::handle offsets, int64_t bos, int64_t pad, const std::vector<int64_t>& delays,
                  bool btk, bool wrap, py::handle delayed, py::handle new_offsets, py::handle labels,
                  py::handle no_train, bool per_element) {
  Keep keep;
  OpIntType type;
  const TensorArg c = read_apply_codes(codes, 2, 2, bos, pad, type, keep);
  const Strided<2> in = ragged_view(c, btk);
  const std::vector<int64_t> starts = read_int_values(offsets, "offsets", keep);
  const DelayRaggedPlan plan = plan_delay_ragged(in.size[0], in.size[1], starts, delays, wrap);
  const auto shape = ragged_shape(in.size[0], plan.total, btk);
  const Strided<2> out = ragged_view(read_output(delayed, "out", c.type, c.dtype_name, shape, keep), btk);
  Strided<2> lab;
  if (!labels.is_none()) lab = ragged_view(read_output(labels, "labels", ArgType::I64, "torch.int64", shape, keep), btk);
  std::vector<uint8_t> flags;
  if (!no_train.is_none()) {
    if (labels.is_none()) fail("no_train", "is only read with labels (return_labels=True)");
    const int64_t n_segments = static_cast<int64_t>(starts.size()) - 1;
    const TensorArg f = read_output(no_train, "no_train", ArgType::Bool, "torch.bool", {n_segments}, keep);
    for (int64_t s = 0; s < n_segments; ++s) flags.push_back(static_cast<const uint8_t*>(f.data)[s * f.stride[0]]);
  }
  write_offsets(new_offsets, "new_offsets", plan.out_offsets, keep);
  py::gil_scoped_release release;
  fill_delay_ragged(type, in, starts, delays, wrap, bos, pad, flags, plan, out, lab, per_element);
}

void revert_ragged(py::handle delayed, py::handle offsets, const std::vector<int64_t>& delays, bool btk, bool wrap,
                   py::handle codes, py::handle new_offsets, bool per_element) {
  Keep keep;
  const TensorArg d = read_tensor_arg(delayed, "delayed", 2, 2, keep);
  const OpIntType type = code_type(d, "delayed");
  const Strided<2> in = ragged_view(d, btk);
  const std::vector<int64_t> starts = read_int_values(offsets, "offsets", keep);
  const DelayRaggedPlan plan = plan_delay_revert_ragged(in.size[0], in.size[1], starts, delays, wrap);
  const auto shape = ragged_shape(in.size[0], plan.total, btk);
  const Strided<2> out = ragged_view(read_output(codes, "out", d.type, d.dtype_name, shape, keep), btk);
  write_offsets(new_offsets, "new_offsets", plan.out_offsets, keep);
  py::gil_scoped_release release;
  fill_delay_revert_ragged(type, in, starts, delays, wrap, plan, out, per_element);
}

void rolespan_labels(py::handle input_ids, py::handle attention_mask, py::handle start_index,
                      const RolespanSpecData& spec, py::handle labels) {
  Keep keep;
  const TensorArg ids = read_tensor_arg(input_ids, "input_ids", 2, 2, keep);
  if (ids.type != ArgType::I32 && ids.type != ArgType::I64) {
    fail("input_ids", "expected dtype torch.int32 or torch.int64, got " + ids.dtype_name);
  }
  const std::vector<int64_t> shape(ids.size, ids.size + 2);
  RolespanLabelsIn in;
  in.ids = ids.data;
  in.ids_int64 = ids.type == ArgType::I64;
  in.rows = ids.size[0];
  in.cols = ids.size[1];
  in.ids_stride[0] = ids.stride[0];
  in.ids_stride[1] = ids.stride[1];
  if (!attention_mask.is_none()) {
    const TensorArg m = read_tensor_arg(attention_mask, "attention_mask", 2, 2, keep);
    if (m.type != ArgType::Bool && m.type != ArgType::I32 && m.type != ArgType::I64) {
      fail("attention_mask", "expected dtype torch.bool, torch.int32 or torch.int64, got " + m.dtype_name);
    }
    require_shape(m, "attention_mask", shape);
    in.mask = m.data;
    in.mask_type = m.type == ArgType::Bool ? MaskType::Bool : m.type == ArgType::I32 ? MaskType::I32 : MaskType::I64;
    in.mask_stride[0] = m.stride[0];
    in.mask_stride[1] = m.stride[1];
  }
  if (!start_index.is_none()) {
    in.start_indices = read_int_values(start_index, "start_index", keep);
    if (static_cast<int64_t>(in.start_indices.size()) != in.rows) {
      fail("start_index", "expected " + std::to_string(in.rows) + " entries (one per row), got " +
                              std::to_string(in.start_indices.size()));
    }
  }
  const TensorArg out = read_output(labels, "out", ArgType::I64, "torch.int64", shape, keep);
  if (out.size[1] > 1 && out.stride[1] != 1) fail("out", "expected rows of unit stride (out.stride(1) == 1)");
  py::gil_scoped_release release;
  const std::vector<RowSpan> spans = rolespan_rows(in);
  fill_rolespan_labels(in, spans, spec.view(), static_cast<int64_t*>(out.data), out.stride[0]);
}

py::tuple apply_sizes(int64_t batch, int64_t codebooks, int64_t length, const std::vector<int64_t>& delays,
                      bool extend) {
  const DelayApplyPlan plan = plan_delay_apply(batch, codebooks, length, delays, extend);
  return py::make_tuple(plan.width, plan.numel);
}

}  // namespace

void register_ops(py::module_& m) {
  const char* per_element = "per_element: run the one-element kernel for every index (the CUDA form), for tests";
  m.def("delay_apply", &apply, py::arg("codes"), py::arg("bos_token_id"), py::arg("pad_token_id"), py::arg("delays"),
        py::arg("btk"), py::arg("extend"), py::arg("delayed"), py::arg("generation_mask"),
        py::arg("per_element") = false,
        (std::string("Delay pattern into the given outputs (fastcollate.ops.apply_delay_pattern). ") + per_element)
            .c_str());
  m.def("delay_revert", &revert, py::arg("delayed"), py::arg("delays"), py::arg("btk"), py::arg("start_index"),
        py::arg("out"), py::arg("per_element") = false, "Undo the delay pattern into `out`.");
  m.def("delay_apply_ragged", &apply_ragged, py::arg("codes"), py::arg("offsets"), py::arg("bos_token_id"),
        py::arg("pad_token_id"), py::arg("delays"), py::arg("btk"), py::arg("stream_bos_eos"), py::arg("out"),
        py::arg("new_offsets"), py::arg("labels"), py::arg("no_train"), py::arg("per_element") = false,
        "Delay pattern of packed segments into the given outputs.");
  m.def("delay_revert_ragged", &revert_ragged, py::arg("delayed"), py::arg("offsets"), py::arg("delays"),
        py::arg("btk"), py::arg("stream_bos_eos"), py::arg("out"), py::arg("new_offsets"),
        py::arg("per_element") = false, "Undo the delay pattern of packed segments.");
  m.def("delay_apply_sizes", &apply_sizes, py::arg("batch"), py::arg("codebooks"), py::arg("length"),
        py::arg("delays"), py::arg("extend"),
        "(width, numel) of apply's outputs, overflow-checked: the size arithmetic without any allocation.");
  m.def("role_span_labels", &rolespan_labels, py::arg("input_ids"), py::arg("attention_mask"),
        py::arg("start_index"), py::arg("spec"), py::arg("out"),
        "Role-span labels of a padded (B, T) batch into `out` (int64, rows of unit stride).");
}

}  // namespace fastcollate
