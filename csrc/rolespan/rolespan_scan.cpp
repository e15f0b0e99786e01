// The spec of the parallel role-span kernels (rolespan_scan.h) by value, checked against their limits.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "rolespan/rolespan.h"
#include "rolespan/rolespan_scan.h"

namespace fastcollate {

RolespanInlineSpec rolespan_inline_spec(const RolespanSpecData& spec) {
  const RolespanSpecView v = spec.view();
  const size_t n_ids = spec.opener.size() + spec.closer.size() + spec.role_ids.size() + spec.end_of_turn.size() +
                       spec.always_masked.size();
  if (n_ids > static_cast<size_t>(kRolespanInlineIds)) {
    throw std::invalid_argument("spec: " + std::to_string(n_ids) + " token ids in all, the CUDA kernels take at most " +
                                std::to_string(kRolespanInlineIds));
  }
  if (v.n_roles > kRolespanMaxRoles) {
    throw std::invalid_argument("spec: " + std::to_string(v.n_roles) + " roles, the CUDA kernels take at most " +
                                std::to_string(kRolespanMaxRoles));
  }
  int64_t longest_role = 0;
  for (int64_t r = 0; r < v.n_roles; ++r)
    longest_role = std::max(longest_role, v.role_offsets[r + 1] - v.role_offsets[r]);
  // D (rolespan_scan.h): markers of up to D + 1 tokens and a header of closer + longest role fit the state.
  const int64_t depth = std::max(v.n_opener - 1, v.n_closer + longest_role);
  if (depth > kRolespanMaxDepth) {
    throw std::invalid_argument("spec: turn_start of " + std::to_string(v.n_opener) + " tokens, header_end of " +
                                std::to_string(v.n_closer) + " and a role of " + std::to_string(longest_role) +
                                ": the CUDA kernels take turn_start up to " + std::to_string(kRolespanMaxDepth + 1) +
                                " tokens and header_end + the longest role up to " + std::to_string(kRolespanMaxDepth));
  }
  RolespanInlineSpec s;
  s.mode = v.mode;
  s.turns = v.turns;
  s.learn_end_of_turn = v.learn_end_of_turn;
  s.learn_header = v.learn_header;
  s.n_opener = static_cast<int32_t>(v.n_opener);
  s.n_closer = static_cast<int32_t>(v.n_closer);
  s.n_role_ids = static_cast<int32_t>(spec.role_ids.size());
  s.n_roles = static_cast<int32_t>(v.n_roles);
  s.n_end_of_turn = static_cast<int32_t>(v.n_end_of_turn);
  s.n_always_masked = static_cast<int32_t>(v.n_always_masked);
  s.depth = static_cast<int32_t>(depth);
  for (int64_t r = 0; r <= v.n_roles; ++r) s.role_offsets[r] = v.role_offsets[r];
  for (int64_t r = 0; r < v.n_roles; ++r) s.role_learned[r] = v.role_learned[r];
  int64_t* out = s.ids;
  for (const auto* part : {&spec.opener, &spec.closer, &spec.role_ids, &spec.end_of_turn, &spec.always_masked}) {
    out = std::copy(part->begin(), part->end(), out);
  }
  return s;
}

}  // namespace fastcollate
