// Role-span label masking fused with padding or packing: plain C++ over pointers, no pybind11, no torch.
// Count first (plan), allocate once (caller), fill in one pass (fill_rolespan_batch).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/views.h"
#include "rolespan/rolespan_step.h"

namespace fastcollate {

// Owns the flat arrays a RolespanSpecView points into (fastcollate/rolespan/spec.py: RoleSpanSpec.to_native).
struct RolespanSpecData {
  int32_t mode = kModeRoles;
  int32_t turns = kTurnsAll;
  bool learn_end_of_turn = true;
  bool learn_header = false;
  std::vector<int64_t> opener, closer, role_ids, role_offsets, end_of_turn, always_masked;
  std::vector<uint8_t> role_learned;

  // Throws std::invalid_argument naming the field if the arrays are inconsistent.
  void validate() const;
  RolespanSpecView view() const;
};

struct RolespanOptions {
  int64_t pad_token_id = 0;
  bool pad_left = false;
  int64_t pad_to_multiple_of = 1;
  bool packed = false;
};

// The batch: one IdsView per sample (int32/int64, any stride) and each sample's start_index
// (a value <= 0 selects every turn).
struct RolespanBatchIn {
  std::vector<IdsView> rows;
  std::vector<int64_t> start_indices;
};

struct RolespanPlan {
  int64_t batch = 0;
  int64_t width = 0;  // padded: columns; packed: total tokens
  int64_t max_seqlen = 0;
};

// Padded: ids/labels/attention_mask are (batch, width). Packed: ids/labels/position_ids are (1, width) and
// cu_seqlens has batch + 1 entries. num_learned has batch entries.
struct RolespanOutputs {
  int64_t* input_ids = nullptr;
  int64_t* labels = nullptr;
  int64_t* aux = nullptr;  // attention_mask (padded) or position_ids (packed)
  int32_t* cu_seqlens = nullptr;
  int64_t* num_learned = nullptr;
};

// in.start_indices from one optional entry per row (None, or no list at all: 0, every turn); throws
// std::invalid_argument "start_indices: expected {rows} entries, got {n}".
void set_start_indices(RolespanBatchIn& in, const std::optional<std::vector<std::optional<int64_t>>>& start_indices);

// Appends the rows of one flat id buffer cut at its B + 1 offsets (an Arrow chunk, or a plain flat buffer): no
// copy of the ids. Throws std::invalid_argument "offsets: ..." unless the offsets are non-decreasing ranges
// inside the ids.
void add_flat_rows(const IdsView& ids, const IdsView& offsets, RolespanBatchIn& in);

// Validates every row (throws std::invalid_argument "sample {i}: input_ids: ...") and sizes the outputs.
RolespanPlan plan_rolespan_batch(const RolespanBatchIn& in, const RolespanOptions& opt);

// One pass over the ids: copy, mask, pad. Touches only the given pointers; safe without the GIL.
void fill_rolespan_batch(const RolespanBatchIn& in, const RolespanSpecView& spec, const RolespanOptions& opt,
                         const RolespanPlan& plan, const RolespanOutputs& out);

}  // namespace fastcollate
