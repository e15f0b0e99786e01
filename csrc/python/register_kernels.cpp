// Python entry points of the kernel bodies (csrc/delay/delay_bodies.h, csrc/rolespan/rolespan_scan.h): the same
// functions launch them on a CUDA device (fastcollate/cuda, device >= 0, on the given stream) or run them
// with the CPU grid runner (device -1: the tests, on CPU tensors). Read the tensors (GIL held), plan and
// check every output's shape, build the launch, then launch with the GIL released. Value checks that need
// the tensors' contents (offsets, attention masks) run inside the kernels and raise `status`.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "delay/delay_pattern.h"
#include "python/int_input.h"
#include "python/kernel_target.h"
#include "python/op_args.h"
#include "python/output_arena.h"
#include "rolespan/rolespan.h"

namespace fastcollate {

#if defined(FASTCOLLATE_WITH_CUDA)
#define FC_ON_CUDA(call) call
#else
#define FC_ON_CUDA(call) throw std::runtime_error("fastcollate was built without its CUDA kernels")
#endif

py::object KernelTarget::torch_device() const {
  if (!cuda()) return py::none();
  return py::module_::import("torch").attr("device")("cuda", device);
}

Staging::Staging(int64_t words, const KernelTarget& target) {
  py::module_ torch = py::module_::import("torch");
  py::object int64 = torch.attr("int64");
  host_ = torch.attr("empty")(py::make_tuple(words), py::arg("dtype") = int64, py::arg("pin_memory") = target.cuda());
  host_data_ = reinterpret_cast<int64_t*>(host_.attr("data_ptr")().cast<uintptr_t>());
  kernel_data_ = host_data_;
  if (target.cuda()) {
    device_ = torch.attr("empty")(py::make_tuple(words), py::arg("dtype") = int64,
                                  py::arg("device") = target.torch_device());
    kernel_data_ = reinterpret_cast<const int64_t*>(device_.attr("data_ptr")().cast<uintptr_t>());
  }
}

void Staging::upload() {
  if (device_) device_.attr("copy_")(host_, py::arg("non_blocking") = true);
}

void run_higgs(const KernelTarget& target, const HiggsLaunch& a) {
  if (target.cuda()) {
    FC_ON_CUDA(cuda_higgs(target.cuda_target(), a));
    return;
  }
  CpuLauncher l{target.reverse};
  launch_higgs(l, a);
}

template <typename T>
void run_rolespan_rows(const KernelTarget& target, const RolespanRowsBody<T>& body, const char* op) {
  (void)op;  // names the op in CUDA errors
  if (target.cuda()) {
    FC_ON_CUDA(cuda_rolespan_rows(target.cuda_target(), body, op));
    return;
  }
  CpuLauncher l{target.reverse};
  launch_rolespan_rows(l, body);
}
template void run_rolespan_rows<int32_t>(const KernelTarget&, const RolespanRowsBody<int32_t>&, const char*);
template void run_rolespan_rows<int64_t>(const KernelTarget&, const RolespanRowsBody<int64_t>&, const char*);

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

// Launches on the target without the GIL: on_cpu(CpuLauncher&) on the grid runner, on_cuda(CudaTarget) on a
// device (its body wrapped in FC_ON_CUDA, so a build without CUDA needs no CUDA symbol).
template <typename Cpu, typename Cuda>
void launch_on(const KernelTarget& target, Cpu&& on_cpu, Cuda&& on_cuda) {
  py::gil_scoped_release release;
  if (target.cuda()) {
    on_cuda(target.cuda_target());
  } else {
    CpuLauncher l{target.reverse};
    on_cpu(l);
  }
}

// Delays travel inside the kernel parameters.
template <typename Launch>
void set_delays(Launch& a, const std::vector<int64_t>& delays) {
  if (static_cast<int64_t>(delays.size()) > kMaxCodebooksInline) {
    fail("delays", std::to_string(delays.size()) + " codebooks; the kernels take at most " +
                       std::to_string(kMaxCodebooksInline));
  }
  for (size_t k = 0; k < delays.size(); ++k) a.delays[k] = delays[k];
}

// A 1-D int64 tensor of unit stride on the target (offsets the kernels read or write).
TensorArg read_flat_int64(py::handle value, const std::string& name, int64_t n, Keep& keep, int device) {
  const TensorArg t = read_output(value, name, ArgType::I64, "torch.int64", {n}, keep, device);
  if (n > 1 && t.stride[0] != 1) fail(name, "expected a contiguous tensor");
  return t;
}

int32_t* read_status(py::handle value, Keep& keep, int device) {
  return static_cast<int32_t*>(read_output(value, "status", ArgType::I32, "torch.int32", {1}, keep, device).data);
}

void apply(py::handle codes, int64_t bos, int64_t pad, const std::vector<int64_t>& delays, bool btk, bool extend,
           py::handle delayed, py::handle generation, int device, uintptr_t stream, bool reverse, bool index64) {
  Keep keep;
  OpIntType type;
  const TensorArg c = read_apply_codes(codes, 2, 3, bos, pad, type, keep, device);
  const Strided<3> in = padded_view(c, btk);
  const DelayApplyPlan plan = plan_delay_apply(in.size[0], in.size[1], in.size[2], delays, extend);
  const auto shape = padded_shape(c.ndim, in.size[0], in.size[1], plan.width, btk);
  const Strided<3> out = padded_view(read_output(delayed, "out[0]", c.type, c.dtype_name, shape, keep, device), btk);
  const Strided<3> gen = padded_view(read_output(generation, "out[1]", c.type, c.dtype_name, shape, keep, device), btk);
  const KernelTarget target{device, stream, reverse};
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    DelayApplyLaunch<T> a{};
    a.p = DelayApplyParams<T>{static_cast<const T*>(in.data),
                              in.size[1],
                              in.size[2],
                              plan.width,
                              {in.stride[0], in.stride[1], in.stride[2]},
                              static_cast<T*>(out.data),
                              {out.stride[0], out.stride[1], out.stride[2]},
                              static_cast<T*>(gen.data),
                              {gen.stride[0], gen.stride[1], gen.stride[2]},
                              bos,
                              pad,
                              delay_grid(plan.numel, in.size[1], plan.width, btk, index64)};
    set_delays(a, delays);
    launch_on(
        target, [&](CpuLauncher& l) { launch_delay_apply(l, a, plan.numel); }, [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_apply(t, a, plan.numel)); });
  });
}

void revert(py::handle delayed, const std::vector<int64_t>& delays, bool btk, int64_t start, py::handle codes,
            int device, uintptr_t stream, bool reverse, bool index64) {
  Keep keep;
  const TensorArg d = read_tensor_arg(delayed, "delayed", 2, 3, keep, device);
  const OpIntType type = code_type(d, "delayed");
  const Strided<3> in = padded_view(d, btk);
  const DelayRevertPlan plan = plan_delay_revert(in.size[0], in.size[1], in.size[2], delays, start);
  const auto shape = padded_shape(d.ndim, in.size[0], in.size[1], plan.length, btk);
  const Strided<3> out = padded_view(read_output(codes, "out", d.type, d.dtype_name, shape, keep, device), btk);
  const KernelTarget target{device, stream, reverse};
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    DelayRevertLaunch<T> a{};
    a.p = DelayRevertParams<T>{static_cast<const T*>(in.data),
                               in.size[1],
                               plan.length,
                               start,
                               {in.stride[0], in.stride[1], in.stride[2]},
                               static_cast<T*>(out.data),
                               {out.stride[0], out.stride[1], out.stride[2]},
                               delay_grid(plan.numel, in.size[1], plan.length, btk, index64)};
    set_delays(a, delays);
    launch_on(
        target, [&](CpuLauncher& l) { launch_delay_revert(l, a, plan.numel); }, [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_revert(t, a, plan.numel)); });
  });
}

// The offsets of a ragged op: S + 1 int64 on the target (their values are checked by the offsets kernel).
struct RaggedArgs {
  int64_t segments = 0, extra = 0;
  const int64_t* offsets = nullptr;
};

RaggedArgs read_ragged(py::handle offsets, const std::vector<int64_t>& delays, int64_t codebooks, bool wrap, Keep& keep,
                       int device) {
  const TensorArg o = read_tensor_arg(offsets, "offsets", 1, 1, keep, device);
  if (o.size[0] < 1) fail("offsets", "expected at least one entry (S + 1 for S segments), got none");
  read_flat_int64(offsets, "offsets", o.size[0], keep, device);
  RaggedArgs r;
  r.segments = o.size[0] - 1;
  r.extra = checked_add(check_delays(delays, codebooks), wrap ? 2 : 0, "delays: the output width");
  r.offsets = static_cast<const int64_t*>(o.data);
  return r;
}

// The geometry of a ragged launch over a (codebooks, total) output (its size was checked).
RaggedGeometry ragged_geometry(int64_t codebooks, int64_t total, const RaggedArgs& r, const int64_t* out_offsets,
                               bool wrap, bool btk, bool index64) {
  return RaggedGeometry{codebooks, total, r.offsets, out_offsets, r.segments, wrap,
                        delay_grid(codebooks * total, codebooks, total, btk, index64)};
}

void apply_ragged(py::handle codes, py::handle offsets, int64_t bos, int64_t pad, const std::vector<int64_t>& delays,
                  bool btk, bool wrap, py::handle delayed, py::handle new_offsets, py::handle labels,
                  py::handle no_train, py::handle status, int device, uintptr_t stream, bool reverse, bool index64) {
  Keep keep;
  OpIntType type;
  const TensorArg c = read_apply_codes(codes, 2, 2, bos, pad, type, keep, device);
  const Strided<2> in = ragged_view(c, btk);
  const RaggedArgs r = read_ragged(offsets, delays, in.size[0], wrap, keep, device);
  const int64_t total = checked_add(in.size[1], checked_mul(r.segments, r.extra, "codes: the output size"),
                                    "codes: the output size");
  checked_mul(in.size[0], total, "codes: the output size");
  const auto shape = ragged_shape(in.size[0], total, btk);
  const Strided<2> out = ragged_view(read_output(delayed, "out", c.type, c.dtype_name, shape, keep, device), btk);
  Strided<2> lab;
  if (!labels.is_none()) {
    lab = ragged_view(read_output(labels, "labels", ArgType::I64, "torch.int64", shape, keep, device), btk);
  }
  const uint8_t* flags = nullptr;
  if (!no_train.is_none()) {
    if (labels.is_none()) fail("no_train", "is only read with labels (return_labels=True)");
    const TensorArg f = read_output(no_train, "no_train", ArgType::Bool, "torch.bool", {r.segments}, keep, device);
    if (r.segments > 1 && f.stride[0] != 1) fail("no_train", "expected a contiguous tensor");
    flags = static_cast<const uint8_t*>(f.data);
  }
  int64_t* out_offsets = static_cast<int64_t*>(read_flat_int64(new_offsets, "new_offsets", r.segments + 1, keep, device).data);
  int32_t* flag = read_status(status, keep, device);
  const RaggedOffsetsLaunch off{r.offsets, out_offsets, r.segments, in.size[1], r.extra, 0, flag};
  const KernelTarget target{device, stream, reverse};
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
    a.status = flag;
    set_delays(a, delays);
    launch_on(
        target, [&](CpuLauncher& l) { launch_delay_ragged(l, off, a); }, [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_ragged(t, off, a)); });
  });
}

void revert_ragged(py::handle delayed, py::handle offsets, const std::vector<int64_t>& delays, bool btk, bool wrap,
                   py::handle codes, py::handle new_offsets, py::handle status, int device, uintptr_t stream,
                   bool reverse, bool index64) {
  Keep keep;
  const TensorArg d = read_tensor_arg(delayed, "delayed", 2, 2, keep, device);
  const OpIntType type = code_type(d, "delayed");
  const Strided<2> in = ragged_view(d, btk);
  const RaggedArgs r = read_ragged(offsets, delays, in.size[0], wrap, keep, device);
  const int64_t total = in.size[1] - checked_mul(r.segments, r.extra, "delayed: the output size");
  if (total < 0) {
    fail("offsets", std::to_string(r.segments) + " segments need at least " + std::to_string(r.extra) +
                        " columns each, but delayed has " + std::to_string(in.size[1]) + " in all");
  }
  const auto shape = ragged_shape(in.size[0], total, btk);
  const Strided<2> out = ragged_view(read_output(codes, "out", d.type, d.dtype_name, shape, keep, device), btk);
  int64_t* out_offsets = static_cast<int64_t*>(read_flat_int64(new_offsets, "new_offsets", r.segments + 1, keep, device).data);
  int32_t* flag = read_status(status, keep, device);
  const RaggedOffsetsLaunch off{r.offsets, out_offsets, r.segments, in.size[1], -r.extra, r.extra, flag};
  const KernelTarget target{device, stream, reverse};
  visit_type(type, [&](auto zero) {
    using T = decltype(zero);
    DelayRevertRaggedLaunch<T> a{};
    a.p = DelayRevertRaggedParams<T>{ragged_geometry(in.size[0], total, r, out_offsets, wrap, btk, index64),
                                     static_cast<const T*>(in.data),
                                     {in.stride[0], in.stride[1]},
                                     static_cast<T*>(out.data),
                                     {out.stride[0], out.stride[1]}};
    a.status = flag;
    set_delays(a, delays);
    launch_on(
        target, [&](CpuLauncher& l) { launch_delay_revert_ragged(l, off, a); }, [&](const CudaTarget& t) { FC_ON_CUDA(cuda_delay_revert_ragged(t, off, a)); });
  });
}

void rolespan_labels(py::handle input_ids, py::handle attention_mask, py::handle start_index,
                      const RolespanSpecData& spec, py::handle labels, py::handle status, int device,
                      uintptr_t stream, bool reverse, int64_t stage_limit) {
  Keep keep;
  const TensorArg ids = read_tensor_arg(input_ids, "input_ids", 2, 2, keep, device);
  if (ids.type != ArgType::I32 && ids.type != ArgType::I64) {
    fail("input_ids", "expected dtype torch.int32 or torch.int64, got " + ids.dtype_name);
  }
  const std::vector<int64_t> shape(ids.size, ids.size + 2);
  RolespanRowsLaunch a;
  a.spec = rolespan_inline_spec(spec);
  a.source = kRolespanPaddedLabels;
  a.rows = ids.size[0];
  a.cols = ids.size[1];
  a.ids = ids.data;
  a.ids_stride[0] = ids.stride[0];
  a.ids_stride[1] = ids.stride[1];
  if (!attention_mask.is_none()) {
    const TensorArg m = read_tensor_arg(attention_mask, "attention_mask", 2, 2, keep, device);
    if (m.type != ArgType::Bool && m.type != ArgType::I32 && m.type != ArgType::I64) {
      fail("attention_mask", "expected dtype torch.bool, torch.int32 or torch.int64, got " + m.dtype_name);
    }
    require_shape(m, "attention_mask", shape);
    a.mask = m.data;
    a.mask_type = m.type == ArgType::Bool ? kRolespanMaskBool : m.type == ArgType::I32 ? kRolespanMaskI32 : kRolespanMaskI64;
    a.mask_stride[0] = m.stride[0];
    a.mask_stride[1] = m.stride[1];
  }
  if (!start_index.is_none()) {
    a.start_index = static_cast<const int64_t*>(read_flat_int64(start_index, "start_index", a.rows, keep, device).data);
  }
  const TensorArg out = read_output(labels, "out", ArgType::I64, "torch.int64", shape, keep, device);
  if (out.size[1] > 1 && out.stride[1] != 1) fail("out", "expected rows of unit stride (out.stride(1) == 1)");
  a.labels = static_cast<int64_t*>(out.data);
  a.labels_row_stride = out.stride[0];
  // Only an attention mask can be invalid: without one the kernel raises nothing, and the caller need not
  // allocate a status nor wait for it.
  if (!status.is_none()) a.status = read_status(status, keep, device);
  else if (a.mask) fail("status", "expected an int32 (1,) tensor: an attention_mask is given");
  // Without a mask every row holds all `cols` tokens; with one, a row may hold none.
  a.stage = rolespan_stage_tokens(a.spec, a.mask ? 0 : a.cols, a.cols, stage_limit);
  const KernelTarget target{device, stream, reverse};
  auto run = [&](auto zero) {
    const RolespanRowsBody<decltype(zero)> body{a};
    py::gil_scoped_release release;
    run_rolespan_rows(target, body, "role_span_labels");
  };
  if (ids.type == ArgType::I64) run(int64_t{});
  else run(int32_t{});
}

// ChatCollator(backend="cuda"): rows read on the host (every input form of collate_rolespan), staged as
// offsets | start indices | ids, copied once, then one block per row writes the padded or packed batch.
py::tuple collate_rolespan(const py::sequence& rows, const RolespanSpecData& spec, int64_t pad_token_id,
                           bool pad_left, int64_t pad_to_multiple_of, bool packed,
                           const std::optional<std::vector<std::optional<int64_t>>>& start_indices, int device,
                           uintptr_t stream, bool reverse, int64_t stage_limit) {
  InputKeep keep;
  RolespanBatchIn in;
  for (size_t i = 0; i < rows.size(); ++i) in.rows.push_back(read_ids(rows[i], keep));
  if (start_indices && start_indices->size() != in.rows.size()) {
    throw std::invalid_argument("start_indices: expected " + std::to_string(in.rows.size()) + " entries, got " +
                                std::to_string(start_indices->size()));
  }
  for (size_t i = 0; i < in.rows.size(); ++i) {
    in.start_indices.push_back(start_indices ? (*start_indices)[i].value_or(0) : 0);  // None: every turn
  }
  const RolespanOptions opt{pad_token_id, pad_left, pad_to_multiple_of, packed};
  const RolespanPlan plan = plan_rolespan_batch(in, opt);
  RolespanRowsBody<int64_t> body;
  body.a.spec = rolespan_inline_spec(spec);
  const int64_t B = plan.batch;
  int64_t tokens = 0, longest = 0, shortest = in.rows.empty() ? 0 : in.rows[0].size;
  for (const IdsView& v : in.rows) {
    tokens += v.size;
    longest = std::max(longest, v.size);
    shortest = std::min(shortest, v.size);
  }
  const KernelTarget target{device, stream, reverse};
  Staging staging(2 * B + 1 + tokens, target);
  {
    py::gil_scoped_release release;
    int64_t* offsets = staging.host();
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
  staging.upload();
  const std::vector<int64_t> shape = packed ? std::vector<int64_t>{1, plan.width} : std::vector<int64_t>{B, plan.width};
  OutputArena arena;
  const size_t s_ids = arena.reserve(shape), s_labels = arena.reserve(shape), s_aux = arena.reserve(shape);
  const size_t s_learned = arena.reserve({B});
  const size_t s_cu = packed ? arena.reserve({B + 1}, OutElem::kInt32) : 0;
  arena.allocate(target.torch_device());
  py::object cu_seqlens = py::none();
  RolespanRowsLaunch& a = body.a;
  if (packed) {
    a.cu_seqlens = arena.data_int32(s_cu);
    cu_seqlens = arena.view(s_cu);
    if (B == 0) cu_seqlens.attr("zero_")();  // no block writes its first entry
  }
  a.source = packed ? kRolespanCollatePacked : kRolespanCollatePadded;
  a.rows = B;
  a.row_offsets = staging.kernels();
  a.start_index = staging.kernels() + B + 1;
  a.ids = staging.kernels() + 2 * B + 1;
  a.labels = arena.data(s_labels);
  a.out_ids = arena.data(s_ids);
  a.out_aux = arena.data(s_aux);
  a.num_learned = arena.data(s_learned);
  a.width = plan.width;
  a.pad_left = pad_left;
  a.pad_token_id = pad_token_id;
  a.stage = rolespan_stage_tokens(a.spec, shortest, longest, stage_limit);
  {
    py::gil_scoped_release release;
    run_rolespan_rows(target, body, "ChatCollator(backend='cuda')");
  }
  return py::make_tuple(arena.view(s_ids), arena.view(s_labels), arena.view(s_aux), cu_seqlens,
                        arena.view(s_learned), plan.max_seqlen);
}

py::tuple device_count() {
#if defined(FASTCOLLATE_WITH_CUDA)
  std::string why_not;
  const int count = cuda_device_count(why_not);
  return py::make_tuple(count, why_not);
#else
  return py::make_tuple(0, "fastcollate was built without its CUDA kernels");
#endif
}

}  // namespace

void register_kernels(py::module_& m) {
#if defined(FASTCOLLATE_WITH_CUDA)
  m.attr("cuda_built") = true;
  m.attr("cuda_architectures") = cuda_architectures();
#else
  m.attr("cuda_built") = false;
  m.attr("cuda_architectures") = std::vector<std::string>();
#endif
  m.def("cuda_device_count", &device_count, "(devices the CUDA runtime sees, why none is usable or '').");
  m.def("kernel_delay_apply", &apply, py::arg("codes"), py::arg("bos_token_id"), py::arg("pad_token_id"),
        py::arg("delays"), py::arg("btk"), py::arg("extend"), py::arg("delayed"), py::arg("generation_mask"),
        py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false, py::arg("index64") = false,
        "apply_delay_pattern's kernel: on CUDA device `device` and `stream`, or (device -1) the CPU grid runner. "
        "index64 (tests): divide indices in 64 bits as for outputs of over 2^32 elements.");
  m.def("kernel_delay_revert", &revert, py::arg("delayed"), py::arg("delays"), py::arg("btk"), py::arg("start_index"),
        py::arg("out"), py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false,
        py::arg("index64") = false, "revert_delay_pattern's kernel (see kernel_delay_apply).");
  m.def("kernel_delay_apply_ragged", &apply_ragged, py::arg("codes"), py::arg("offsets"), py::arg("bos_token_id"),
        py::arg("pad_token_id"), py::arg("delays"), py::arg("btk"), py::arg("stream_bos_eos"), py::arg("out"),
        py::arg("new_offsets"), py::arg("labels"), py::arg("no_train"), py::arg("status"), py::arg("device"),
        py::arg("stream") = 0, py::arg("reverse") = false, py::arg("index64") = false,
        "apply_delay_pattern_ragged's kernels; offsets int64 contiguous; status (int32, 1) is set to 1 when the "
        "offsets are invalid (nothing is then written).");
  m.def("kernel_delay_revert_ragged", &revert_ragged, py::arg("delayed"), py::arg("offsets"), py::arg("delays"),
        py::arg("btk"), py::arg("stream_bos_eos"), py::arg("out"), py::arg("new_offsets"), py::arg("status"),
        py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false, py::arg("index64") = false,
        "revert_delay_pattern_ragged's kernels (see kernel_delay_apply_ragged).");
  m.def("kernel_role_span_labels", &rolespan_labels, py::arg("input_ids"), py::arg("attention_mask"),
        py::arg("start_index"), py::arg("spec"), py::arg("out"), py::arg("status"), py::arg("device"),
        py::arg("stream") = 0, py::arg("reverse") = false, py::arg("stage_limit") = -1,
        "role_span_labels' kernel; start_index int64 contiguous or None; status set to 1 on an invalid mask row "
        "(None without attention_mask: nothing can be invalid then); stage_limit >= 0: rows of more tokens are "
        "not staged in shared memory (tests).");
  m.def("kernel_collate_rolespan", &collate_rolespan, py::arg("rows"), py::arg("spec"), py::arg("pad_token_id"),
        py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"), py::arg("start_indices"),
        py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false, py::arg("stage_limit") = -1,
        "collate_rolespan through the staging buffer and the row kernel; the outputs on the target; stage_limit: "
        "see kernel_role_span_labels.");
}

}  // namespace fastcollate
