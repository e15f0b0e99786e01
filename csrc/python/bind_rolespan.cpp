// Python entry point of the role-span text collation: read and validate the rows (GIL held), size and
// allocate every output once with torch.empty, then mask + pad/pack in one pass with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "python/int_input.h"
#include "python/output_arena.h"
#include "rolespan/rolespan.h"

namespace fastcollate {
namespace {

py::tuple collate(RolespanBatchIn& in, const RolespanSpecData& spec, const RolespanOptions& opt,
                  const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  if (start_indices) {
    if (start_indices->size() != in.rows.size()) {
      throw std::invalid_argument("start_indices: expected " + std::to_string(in.rows.size()) + " entries, got " +
                                  std::to_string(start_indices->size()));
    }
    for (const auto& s : *start_indices) in.start_indices.push_back(s.value_or(0));  // None: every turn
  } else {
    in.start_indices.assign(in.rows.size(), 0);
  }
  const RolespanPlan plan = plan_rolespan_batch(in, opt);
  // Every output in one allocation (see output_arena.h).
  RolespanOutputs out;
  const int64_t B = plan.batch, W = plan.width;
  const std::vector<int64_t> shape = opt.packed ? std::vector<int64_t>{1, W} : std::vector<int64_t>{B, W};
  OutputArena arena;
  const size_t s_ids = arena.reserve(shape), s_labels = arena.reserve(shape), s_aux = arena.reserve(shape);
  const size_t s_learned = arena.reserve({B});
  const size_t s_cu = opt.packed ? arena.reserve({B + 1}, OutElem::kInt32) : 0;
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

py::tuple collate_rows(const py::sequence& rows, const RolespanSpecData& spec, int64_t pad_token_id, bool pad_left,
                       int64_t pad_to_multiple_of, bool packed,
                       const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  InputKeep keep;
  RolespanBatchIn in;
  const size_t n = rows.size();
  in.rows.reserve(n);
  for (size_t i = 0; i < n; ++i) in.rows.push_back(read_ids(rows[i], keep));
  return collate(in, spec, options(pad_token_id, pad_left, pad_to_multiple_of, packed), start_indices);
}

// Ragged rows as flat id buffers + offsets (B + 1 entries each), one pair per chunk (an Arrow ChunkedArray's
// chunks; one pair for a plain flat buffer): no per-sample Python objects at all, and no copy of int32/int64
// ids. Rows are numbered across chunks in order.
void add_chunk_rows(py::handle flat, py::handle offsets, InputKeep& keep, RolespanBatchIn& in) {
  const IdsView ids = read_ids(flat, keep);
  if (!ids.error.empty()) throw std::invalid_argument("input_ids: " + ids.error);
  const IdsView off = read_ids(offsets, keep);
  if (!off.error.empty()) throw std::invalid_argument("offsets: " + off.error);
  if (off.size < 1) throw std::invalid_argument("offsets: expected at least one entry (B + 1 for B samples)");
  const size_t elem = ids.type == IntType::I64 ? 8 : 4;
  for (int64_t i = 0; i + 1 < off.size; ++i) {
    const int64_t a = off[i], b = off[i + 1];
    if (a < 0 || b < a || b > ids.size) {
      throw std::invalid_argument("offsets: entries " + std::to_string(i) + ", " + std::to_string(i + 1) + " = " +
                                  std::to_string(a) + ", " + std::to_string(b) +
                                  " are not a non-decreasing range inside input_ids of length " +
                                  std::to_string(ids.size));
    }
    IdsView row = ids;
    row.data = static_cast<const char*>(ids.data) + a * ids.stride * static_cast<int64_t>(elem);
    row.size = b - a;
    in.rows.push_back(row);
  }
}

py::tuple collate_flat(py::handle flat, py::handle offsets, const RolespanSpecData& spec, int64_t pad_token_id,
                       bool pad_left, int64_t pad_to_multiple_of, bool packed,
                       const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  InputKeep keep;
  RolespanBatchIn in;
  add_chunk_rows(flat, offsets, keep, in);
  return collate(in, spec, options(pad_token_id, pad_left, pad_to_multiple_of, packed), start_indices);
}

py::tuple collate_chunks(const py::sequence& chunks, const RolespanSpecData& spec, int64_t pad_token_id,
                         bool pad_left, int64_t pad_to_multiple_of, bool packed,
                         const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  InputKeep keep;
  RolespanBatchIn in;
  for (py::handle chunk : chunks) {
    auto pair = py::reinterpret_borrow<py::sequence>(chunk);
    if (pair.size() != 2) throw std::invalid_argument("chunks: expected (input_ids, offsets) pairs");
    add_chunk_rows(pair[0], pair[1], keep, in);
  }
  return collate(in, spec, options(pad_token_id, pad_left, pad_to_multiple_of, packed), start_indices);
}

}  // namespace

void register_rolespan(py::module_& m) {
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
  m.def("collate_rolespan", &collate_rows, py::arg("rows"), py::arg("spec"), py::arg("pad_token_id"),
        py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"), py::arg("start_indices") = py::none(),
        doc);
  m.def("collate_rolespan_chunks", &collate_chunks, py::arg("chunks"), py::arg("spec"), py::arg("pad_token_id"),
        py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"), py::arg("start_indices") = py::none(),
        doc);
  m.def("collate_rolespan_flat", &collate_flat, py::arg("input_ids"), py::arg("offsets"), py::arg("spec"),
        py::arg("pad_token_id"), py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"),
        py::arg("start_indices") = py::none(), doc);
}

}  // namespace fastcollate
