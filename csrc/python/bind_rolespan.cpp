// _core.rolespan: role-span masking. The text collation (collate*: read and validate the rows with the GIL held,
// size and allocate every output once, then mask + pad/pack in one pass with the GIL released; kernel_collate:
// the same through one staging buffer and the row kernel), and the role_span_labels op on its target.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "python/output_arena.h"
#include "python/reader.h"
#include "python/staging.h"
#include "rolespan/rolespan.h"
#include "rolespan/rolespan_entry.h"

namespace fastcollate {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

py::tuple collate(RolespanBatchIn& in, const RolespanSpecData& spec, const RolespanOptions& opt,
                  const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  set_start_indices(in, start_indices);
  const RolespanPlan plan = plan_rolespan_batch(in, opt);
  // The ids and labels in one allocation, the mask (or positions) and the per-row outputs in their own (see
  // output_arena.h).
  RolespanOutputs out;
  const int64_t B = plan.batch, W = plan.width;
  const std::vector<int64_t> shape = opt.packed ? std::vector<int64_t>{1, W} : std::vector<int64_t>{B, W};
  OutputArena arena;
  const size_t s_ids = arena.reserve(shape), s_labels = arena.reserve(shape), s_aux = arena.reserve_own(shape);
  const size_t s_learned = arena.reserve_own({B});
  const size_t s_cu = opt.packed ? arena.reserve_own({B + 1}, ElemType::kInt32) : 0;
  arena.allocate();
  out.input_ids = arena.data(s_ids);
  out.labels = arena.data(s_labels);
  out.aux = arena.data(s_aux);
  out.num_learned = arena.data(s_learned);
  if (opt.packed) out.cu_seqlens = arena.data_int32(s_cu);
  {
    py::gil_scoped_release release;  // safe: only the buffers pinned by the caller are touched
    fill_rolespan_batch(in, spec.view(), opt, plan, out);
  }
  return py::make_tuple(arena.view(s_ids), arena.view(s_labels), arena.view(s_aux),
                        opt.packed ? arena.view(s_cu) : py::none(), arena.view(s_learned), plan.max_seqlen);
}

RolespanOptions options(int64_t pad_token_id, bool pad_left, int64_t pad_to_multiple_of, bool packed) {
  return RolespanOptions{pad_token_id, pad_left, pad_to_multiple_of, packed};
}

// Every row of a list (its stored items: a subclass's own __getitem__ is never called) or other sequence.
void read_rows(const py::sequence& rows, Keep& keep, RolespanBatchIn& in) {
  const py::tuple items = stored_items(rows);
  in.rows.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    keep.reading(static_cast<int64_t>(i), "input_ids");
    in.rows.push_back(read_ids(items[i], keep));
  }
  check_unmoved(keep);
}

py::tuple collate_rows(const py::sequence& rows, const RolespanSpecData& spec, int64_t pad_token_id, bool pad_left,
                       int64_t pad_to_multiple_of, bool packed,
                       const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  Keep keep;
  RolespanBatchIn in;
  read_rows(rows, keep, in);
  return collate(in, spec, options(pad_token_id, pad_left, pad_to_multiple_of, packed), start_indices);
}

// Ragged rows as flat id buffers + offsets (B + 1 entries each), one pair per chunk (an Arrow ChunkedArray's
// chunks; one pair for a plain flat buffer): no per-sample Python objects at all, and no copy of int32/int64
// ids. Rows are numbered across chunks in order.
void add_chunk_rows(py::handle flat, py::handle offsets, Keep& keep, RolespanBatchIn& in) {
  keep.reading(-1, "input_ids");
  const IdsView ids = read_ids(flat, keep);
  if (!ids.error.empty()) throw std::invalid_argument("input_ids: " + ids.error);
  keep.reading(-1, "offsets");
  const IdsView off = read_ids(offsets, keep);
  if (!off.error.empty()) throw std::invalid_argument("offsets: " + off.error);
  add_flat_rows(ids, off, in);
}

py::tuple collate_flat(py::handle flat, py::handle offsets, const RolespanSpecData& spec, int64_t pad_token_id,
                       bool pad_left, int64_t pad_to_multiple_of, bool packed,
                       const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  Keep keep;
  RolespanBatchIn in;
  add_chunk_rows(flat, offsets, keep, in);
  return collate(in, spec, options(pad_token_id, pad_left, pad_to_multiple_of, packed), start_indices);
}

py::tuple collate_chunks(const py::sequence& chunks, const RolespanSpecData& spec, int64_t pad_token_id, bool pad_left,
                         int64_t pad_to_multiple_of, bool packed,
                         const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  Keep keep;
  RolespanBatchIn in;
  keep.ran_python = true;  // iterating the chunks and their pairs may run Python code (a generator, __getitem__)
  for (py::handle chunk : chunks) {
    const py::tuple pair = stored_items(chunk);
    if (pair.size() != 2) throw std::invalid_argument("chunks: expected (input_ids, offsets) pairs");
    add_chunk_rows(pair[0], pair[1], keep, in);
  }
  check_unmoved(keep);
  return collate(in, spec, options(pad_token_id, pad_left, pad_to_multiple_of, packed), start_indices);
}

// role_span_labels on its target: the CPU state machine, or the scan kernel (grid runner or CUDA device).
// The kernel a call names ("scan", "compact"), or the process-wide choice (rolespan_kernel()) for None.
RolespanKernel kernel_of(const std::optional<std::string>& kernel) {
  return kernel ? rolespan_kernel_named(*kernel, "kernel") : rolespan_kernel();
}

void labels_on(const Target& target, py::handle input_ids, py::handle attention_mask, py::handle start_index,
               const RolespanSpecData& spec, py::handle labels, py::handle status, int64_t stage_limit,
               const std::optional<std::string>& kernel) {
  const bool kernels = target.kind != TargetKind::kCpu;
  const int device = target.device;
  Keep keep;
  RolespanLabelsArgs args;
  args.ids = read_tensor_arg(input_ids, "input_ids", 2, 2, keep, device);
  if (args.ids.type != ElemType::kInt32 && args.ids.type != ElemType::kInt64) {
    fail("input_ids", "expected dtype torch.int32 or torch.int64, got " + args.ids.dtype_name);
  }
  if (kernels) args.inline_spec = rolespan_inline_spec(spec);
  const std::vector<int64_t> shape(args.ids.size, args.ids.size + 2);
  if (!attention_mask.is_none()) {
    args.mask = read_tensor_arg(attention_mask, "attention_mask", 2, 2, keep, device);
    if (args.mask.type != ElemType::kBool && args.mask.type != ElemType::kInt32 && args.mask.type != ElemType::kInt64) {
      fail("attention_mask", "expected dtype torch.bool, torch.int32 or torch.int64, got " + args.mask.dtype_name);
    }
    require_shape(args.mask, "attention_mask", shape);
  }
  const int64_t rows = args.ids.size[0];
  if (!start_index.is_none()) {
    if (kernels) {
      args.start_index =
          static_cast<const int64_t*>(read_flat_int64(start_index, "start_index", rows, keep, device).data);
    } else {
      args.start_values = read_int_values(start_index, "start_index", keep);
      if (static_cast<int64_t>(args.start_values.size()) != rows) {
        fail("start_index", "expected " + std::to_string(rows) + " entries (one per row), got " +
                                std::to_string(args.start_values.size()));
      }
    }
  }
  args.labels = read_output(labels, "out", ElemType::kInt64, "torch.int64", shape, keep, device);
  if (args.labels.size[1] > 1 && args.labels.stride[1] != 1) {
    fail("out", "expected rows of unit stride (out.stride(1) == 1)");
  }
  if (kernels) {
    // Only an attention mask can be invalid: without one the kernel raises nothing, and the caller need not
    // allocate a status nor wait for it.
    if (!status.is_none())
      args.status = read_status(status, keep, device);
    else if (args.mask.data)
      fail("status", "expected an int32 (1,) tensor: an attention_mask is given");
    args.stage_limit = stage_limit;
    args.kernel = kernel_of(kernel);
  }
  py::gil_scoped_release release;  // only the tensors pinned in `keep` are touched
  run_rolespan_labels(target, spec, args);
}

// ChatCollator(backend="cuda"): rows read on the host (every input form of collate_rolespan), staged as
// offsets | start indices | ids, copied once, then one block per row writes the padded or packed batch.
py::tuple kernel_collate(const py::sequence& rows, const RolespanSpecData& spec, int64_t pad_token_id, bool pad_left,
                         int64_t pad_to_multiple_of, bool packed,
                         const std::optional<std::vector<std::optional<int64_t>>>& start_indices, int device,
                         uintptr_t stream, bool reverse, int64_t stage_limit,
                         const std::optional<std::string>& kernel) {
  const RolespanKernel which = kernel_of(kernel);
  Keep keep;
  RolespanBatchIn in;
  read_rows(rows, keep, in);
  set_start_indices(in, start_indices);
  const RolespanOptions opt{pad_token_id, pad_left, pad_to_multiple_of, packed};
  const RolespanPlan plan = plan_rolespan_batch(in, opt);
  RolespanRowsLaunch launch;
  launch.spec = rolespan_inline_spec(spec);
  const int64_t B = plan.batch;
  const RolespanStage stage = plan_rolespan_stage(in);
  const Target target = Target::kernels(device, stream, reverse);
  Staging staging(stage.words, target);
  {
    py::gil_scoped_release release;
    stage_rolespan_rows(in, staging.host());
  }
  staging.upload();
  const std::vector<int64_t> shape = packed ? std::vector<int64_t>{1, plan.width} : std::vector<int64_t>{B, plan.width};
  OutputArena arena;  // shared and own allocations as in collate()
  const size_t s_ids = arena.reserve(shape), s_labels = arena.reserve(shape), s_aux = arena.reserve_own(shape);
  const size_t s_learned = arena.reserve_own({B});
  const size_t s_cu = packed ? arena.reserve_own({B + 1}, ElemType::kInt32) : 0;
  arena.allocate(torch_device(target));
  RolespanOutputs out{arena.data(s_ids), arena.data(s_labels), arena.data(s_aux), nullptr, arena.data(s_learned)};
  py::object cu_seqlens = py::none();
  if (packed) {
    out.cu_seqlens = arena.data_int32(s_cu);
    cu_seqlens = arena.view(s_cu);
    if (B == 0) cu_seqlens.attr("zero_")();  // no block writes its first entry
  }
  set_collate_launch(launch, opt, plan, staging.kernels(), out);
  {
    py::gil_scoped_release release;
    run_rolespan_rows(target, launch, true, which, stage.shortest, stage.longest, stage_limit,
                      "ChatCollator(backend='cuda')");
  }
  return py::make_tuple(arena.view(s_ids), arena.view(s_labels), arena.view(s_aux), cu_seqlens, arena.view(s_learned),
                        plan.max_seqlen);
}

}  // namespace

void bind_rolespan(py::module_& m) {
  py::class_<RolespanSpecData>(m, "RoleSpanSpecNative",
                               "A RoleSpanSpec as flat arrays (RoleSpanSpec.to_native()); build once per collator.")
      .def(py::init([](int32_t mode, int32_t turns, bool learn_end_of_turn, bool learn_header,
                       std::vector<int64_t> turn_start, std::vector<int64_t> header_end, std::vector<int64_t> role_ids,
                       std::vector<int64_t> role_offsets, std::vector<bool> role_learned,
                       std::vector<int64_t> end_of_turn, std::vector<int64_t> always_masked) {
             RolespanSpecData d;
             d.mode = mode;
             d.turns = turns;
             d.learn_end_of_turn = learn_end_of_turn;
             d.learn_header = learn_header;
             d.opener = std::move(turn_start);
             d.closer = std::move(header_end);
             d.role_ids = std::move(role_ids);
             d.role_offsets = std::move(role_offsets);
             d.role_learned.assign(role_learned.begin(), role_learned.end());
             d.end_of_turn = std::move(end_of_turn);
             d.always_masked = std::move(always_masked);
             d.validate();
             return d;
           }),
           py::kw_only(), py::arg("mode"), py::arg("turns"), py::arg("learn_end_of_turn"), py::arg("learn_header"),
           py::arg("turn_start"), py::arg("header_end"), py::arg("role_ids"), py::arg("role_offsets"),
           py::arg("role_learned"), py::arg("end_of_turn"), py::arg("always_masked"));

  const char* doc =
      "Mask labels by role spans and pad (or pack) in one native pass. Returns (input_ids, labels, "
      "attention_mask or position_ids, cu_seqlens or None, num_learned, max_seqlen).";
  m.def("collate", &collate_rows, py::arg("rows"), py::arg("spec"), py::arg("pad_token_id"), py::arg("pad_left"),
        py::arg("pad_to_multiple_of"), py::arg("packed"), py::arg("start_indices") = py::none(), doc);
  m.def("collate_chunks", &collate_chunks, py::arg("chunks"), py::arg("spec"), py::arg("pad_token_id"),
        py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"), py::arg("start_indices") = py::none(),
        doc);
  m.def("collate_flat", &collate_flat, py::arg("input_ids"), py::arg("offsets"), py::arg("spec"),
        py::arg("pad_token_id"), py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"),
        py::arg("start_indices") = py::none(), doc);
  m.def(
      "labels",
      [](py::handle input_ids, py::handle attention_mask, py::handle start_index, const RolespanSpecData& spec,
         py::handle out) {
        labels_on(Target::cpu(), input_ids, attention_mask, start_index, spec, out, py::none(), -1, std::nullopt);
      },
      py::arg("input_ids"), py::arg("attention_mask"), py::arg("start_index"), py::arg("spec"), py::arg("out"),
      "Role-span labels of a padded (B, T) batch into `out` (int64, rows of unit stride).");
  m.def(
      "kernel_labels",
      [](py::handle input_ids, py::handle attention_mask, py::handle start_index, const RolespanSpecData& spec,
         py::handle out, py::handle status, int device, uintptr_t stream, bool reverse, int64_t stage_limit,
         const std::optional<std::string>& kernel) {
        labels_on(Target::kernels(device, stream, reverse), input_ids, attention_mask, start_index, spec, out, status,
                  stage_limit, kernel);
      },
      py::arg("input_ids"), py::arg("attention_mask"), py::arg("start_index"), py::arg("spec"), py::arg("out"),
      py::arg("status"), py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false,
      py::arg("stage_limit") = -1, py::arg("kernel") = py::none(),
      "role_span_labels' kernel; start_index int64 contiguous or None; status set to 1 on an invalid mask row "
      "(None without attention_mask: nothing can be invalid then); stage_limit >= 0: rows of more tokens are "
      "not staged in shared memory (tests); kernel: \"scan\" or \"compact\", None for the process-wide "
      "choice (see set_kernel).");
  m.def("kernel_collate", &kernel_collate, py::arg("rows"), py::arg("spec"), py::arg("pad_token_id"),
        py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"), py::arg("start_indices"),
        py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false, py::arg("stage_limit") = -1,
        py::arg("kernel") = py::none(),
        "collate through the staging buffer and the row kernel; the outputs on the target; stage_limit and "
        "kernel: see kernel_labels.");
  // Internal, for A/B runs of the two row kernels (docs/guide/cuda.md): both are bit-equal to the CPU path.
  m.def(
      "set_kernel",
      [](const std::string& name) {
        const RolespanKernel previous = rolespan_kernel();
        set_rolespan_kernel(rolespan_kernel_named(name, "kernel"));
        return std::string(rolespan_kernel_name(previous));
      },
      py::arg("name"),
      "The row kernel of the calls that name none (the CUDA op, ChatCollator(backend='cuda')): \"scan\" (the "
      "default) or \"compact\"; returns the previous one. Internal, for A/B runs.");
  m.def(
      "kernel", []() { return std::string(rolespan_kernel_name(rolespan_kernel())); },
      "The row kernel of the calls that name none (FASTCOLLATE_ROLESPAN_KERNEL, read on first use, or set_kernel).");
}

}  // namespace fastcollate
