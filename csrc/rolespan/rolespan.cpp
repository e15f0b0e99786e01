#include "rolespan/rolespan.h"

#include "common/checked_size.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace fastcollate {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

template <typename T>
RowIn<T> row_in(const IdsView& v) {
  return RowIn<T>{static_cast<const T*>(v.data), v.stride, v.size};
}

template <bool kPositions>
int64_t fill_row(const RolespanSpecView& spec, const IdsView& v, int64_t start_index, RowOut out) {
  return v.type == ElemType::kInt64
             ? rolespan_fill_row<int64_t, kPositions>(spec, row_in<int64_t>(v), start_index, out)
             : rolespan_fill_row<int32_t, kPositions>(spec, row_in<int32_t>(v), start_index, out);
}

}  // namespace

void RolespanSpecData::validate() const {
  require(mode == kModeRoles || mode == kModeCompletion, "spec: mode: expected 0 (roles) or 1 (completion)");
  require(turns >= kTurnsAll && turns <= kTurnsFromStartIndex, "spec: turns: expected 0, 1 or 2");
  require(!opener.empty(), "spec: turn_start: expected at least one token id");
  require(mode == kModeCompletion || !closer.empty(), "spec: header_end: expected at least one token id");
  const size_t n_roles = role_learned.size();
  require(role_offsets.size() == n_roles + 1, "spec: role_offsets: expected one more entry than role_learned");
  require(role_offsets.front() == 0 && role_offsets.back() == static_cast<int64_t>(role_ids.size()),
          "spec: role_offsets: expected to start at 0 and end at len(role_ids)");
  require(std::is_sorted(role_offsets.begin(), role_offsets.end()), "spec: role_offsets: expected non-decreasing");
}

RolespanSpecView RolespanSpecData::view() const {
  RolespanSpecView s;
  s.mode = mode;
  s.turns = turns;
  s.learn_end_of_turn = learn_end_of_turn;
  s.learn_header = learn_header;
  s.opener = opener.data();
  s.n_opener = static_cast<int64_t>(opener.size());
  s.closer = closer.data();
  s.n_closer = static_cast<int64_t>(closer.size());
  s.role_ids = role_ids.data();
  s.role_offsets = role_offsets.data();
  s.role_learned = role_learned.data();
  s.n_roles = static_cast<int64_t>(role_learned.size());
  s.end_of_turn = end_of_turn.data();
  s.n_end_of_turn = static_cast<int64_t>(end_of_turn.size());
  s.always_masked = always_masked.data();
  s.n_always_masked = static_cast<int64_t>(always_masked.size());
  // Every id that can change the state or the label inside content (see rolespan_fill_row's fast path). The
  // header closer counts only in completion mode: in roles mode it is not looked for inside content.
  std::vector<int64_t> triggers(end_of_turn);
  triggers.insert(triggers.end(), always_masked.begin(), always_masked.end());
  triggers.push_back(opener.back());
  if (mode == kModeCompletion && !closer.empty()) triggers.push_back(closer.back());
  s.trigger_lo = *std::min_element(triggers.begin(), triggers.end());
  s.trigger_hi = *std::max_element(triggers.begin(), triggers.end());
  return s;
}

RolespanPlan plan_rolespan_batch(const RolespanBatchIn& in, const RolespanOptions& opt) {
  require(opt.pad_to_multiple_of >= 1, "pad_to_multiple_of: expected an int >= 1");
  require(in.start_indices.size() == in.rows.size(), "start_indices: expected one entry per sample");
  RolespanPlan plan;
  plan.batch = static_cast<int64_t>(in.rows.size());
  int64_t total = 0;
  for (size_t i = 0; i < in.rows.size(); ++i) {
    const IdsView& v = in.rows[i];
    require(v.error.empty(), "sample " + std::to_string(i) + ": input_ids: " + v.error);
    plan.max_seqlen = std::max(plan.max_seqlen, v.size);
    // Each row is within its storage (csrc/python); the sum is still checked, as every size is.
    total = checked_add(total, v.size, [] { return std::string("batch: more tokens than a process can address"); });
  }
  if (opt.packed) {
    require(total <= std::numeric_limits<int32_t>::max(),
            "packed: " + std::to_string(total) + " tokens do not fit the int32 cu_seq_lens");
    plan.width = total;
  } else {
    plan.width = padded_width(plan.batch, plan.max_seqlen, opt.pad_to_multiple_of, "pad_to_multiple_of");
    check_padded_memory(plan.batch, plan.max_seqlen, opt.pad_to_multiple_of, "pad_to_multiple_of");
  }
  return plan;
}

void fill_rolespan_batch(const RolespanBatchIn& in, const RolespanSpecView& spec, const RolespanOptions& opt,
                         const RolespanPlan& plan, const RolespanOutputs& out) {
  if (opt.packed) {
    int64_t offset = 0;
    out.cu_seqlens[0] = 0;
    for (int64_t r = 0; r < plan.batch; ++r) {
      const IdsView& v = in.rows[r];
      RowOut row{out.input_ids + offset, out.labels + offset, out.aux + offset};
      out.num_learned[r] = fill_row<true>(spec, v, in.start_indices[r], row);
      offset += v.size;
      out.cu_seqlens[r + 1] = static_cast<int32_t>(offset);
    }
    return;
  }
  const int64_t W = plan.width;
  for (int64_t r = 0; r < plan.batch; ++r) {
    const IdsView& v = in.rows[r];
    const int64_t pad = W - v.size;
    const int64_t first = opt.pad_left ? r * W + pad : r * W;  // the row's first token
    const int64_t pad_first = opt.pad_left ? r * W : r * W + v.size;
    std::fill_n(out.input_ids + pad_first, pad, opt.pad_token_id);
    std::fill_n(out.labels + pad_first, pad, kIgnoreIndex);
    std::fill_n(out.aux + pad_first, pad, int64_t{0});
    RowOut row{out.input_ids + first, out.labels + first, out.aux + first};
    out.num_learned[r] = fill_row<false>(spec, v, in.start_indices[r], row);
  }
}

void set_start_indices(RolespanBatchIn& in, const std::optional<std::vector<std::optional<int64_t>>>& start_indices) {
  if (start_indices) {
    if (start_indices->size() != in.rows.size()) {
      throw std::invalid_argument("start_indices: expected " + std::to_string(in.rows.size()) + " entries, got " +
                                  std::to_string(start_indices->size()));
    }
    for (const auto& s : *start_indices) in.start_indices.push_back(s.value_or(0));  // None: every turn
  } else {
    in.start_indices.assign(in.rows.size(), 0);
  }
}

void add_flat_rows(const IdsView& ids, const IdsView& off, RolespanBatchIn& in) {
  if (off.size < 1) throw std::invalid_argument("offsets: expected at least one entry (B + 1 for B samples)");
  const size_t elem = ids.type == ElemType::kInt64 ? 8 : 4;
  for (int64_t i = 0; i + 1 < off.size; ++i) {
    const int64_t a = off[i], b = off[i + 1];
    if (a < 0 || b < a || b > ids.size) {
      throw std::invalid_argument(
          "offsets: entries " + std::to_string(i) + ", " + std::to_string(i + 1) + " = " + std::to_string(a) + ", " +
          std::to_string(b) + " are not a non-decreasing range inside input_ids of length " + std::to_string(ids.size));
    }
    IdsView row = ids;
    row.data = static_cast<const char*>(ids.data) + a * ids.stride * static_cast<int64_t>(elem);
    row.size = b - a;
    in.rows.push_back(row);
  }
}

}  // namespace fastcollate
