// Best-fit-decreasing packing of samples into rows of at most max_tokens text tokens (and, for audio samples, at
// most max_audio audio frames): the plan behind fastcollate.plan_packs and PackingSampler. Pure C++: no Python,
// no torch. The twin (fastcollate/packing/planner_reference.py) states the same rules in a few lines.
//
// The rules, which make the plan deterministic and identical on both paths:
//   * samples are placed longest first: by text length descending, then audio frames descending, then index;
//   * a sample goes to the open row it fits best: the least text room left that still holds it (and room for
//     its audio), then the least audio room, then the row opened first; a sample that fits no row opens one;
//   * rows come out in the order they were opened, each row's samples in ascending index order.
#pragma once

#include <cstdint>
#include <vector>

namespace fastcollate {

// Rows can hold at most this many tokens: the best-fit index has one slot per possible room.
constexpr int64_t kMaxPackTokens = int64_t{1} << 22;

struct PackPlan {
  std::vector<int64_t> order;    // sample indices, row by row
  std::vector<int64_t> offsets;  // row r holds order[offsets[r], offsets[r + 1])
};

// Plans samples 0..n-1: lengths[i] in [0, max_tokens], audio[i] in [0, max_audio] (audio null: no audio budget).
// Checked by the caller (fastcollate/packing/planner.py) and again by the binding, so no input can index out of
// range; max_tokens in [1, kMaxPackTokens].
PackPlan plan_packs(const int64_t* lengths, const int64_t* audio, int64_t n, int64_t max_tokens, int64_t max_audio);

}  // namespace fastcollate
