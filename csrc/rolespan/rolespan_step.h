// The role-span state machine of one row, as FC_HD helpers over raw pointers so a CUDA kernel (one row per
// thread) can reuse exactly the code the CPU loop runs. fastcollate/rolespan/reference.py is the readable
// statement of the same rules; any change here must be made there too (the tests compare bit for bit).
#pragma once

#include <cstdint>

#include "common/host_device.h"
#include "common/labels.h"

namespace fastcollate {

enum RolespanMode : int32_t { kModeRoles = 0, kModeCompletion = 1 };
enum RolespanTurns : int32_t { kTurnsAll = 0, kTurnsLast = 1, kTurnsFromStartIndex = 2 };

// The spec as flat arrays (owned by RolespanSpecData in rolespan.h). In completion mode `opener` is the
// response template and `closer` the instruction template (n_closer == 0: none).
struct RolespanSpecView {
  int32_t mode = kModeRoles;
  int32_t turns = kTurnsAll;
  bool learn_end_of_turn = true;
  bool learn_header = false;
  const int64_t* opener = nullptr;
  int64_t n_opener = 0;
  const int64_t* closer = nullptr;
  int64_t n_closer = 0;
  const int64_t* role_ids = nullptr;      // every role's tokens, concatenated
  const int64_t* role_offsets = nullptr;  // n_roles + 1 entries into role_ids
  const uint8_t* role_learned = nullptr;  // n_roles flags
  int64_t n_roles = 0;
  const int64_t* end_of_turn = nullptr;
  int64_t n_end_of_turn = 0;
  const int64_t* always_masked = nullptr;
  int64_t n_always_masked = 0;
  // Content fast path: ids outside [trigger_lo, trigger_hi] are neither the opener's last token, an
  // end-of-turn, a closer's last token nor always-masked, so they skip every comparison.
  int64_t trigger_lo = 0;
  int64_t trigger_hi = -1;
};

// Input row: `n` ids of type T, `stride` elements apart (non-contiguous tensors need no copy).
template <typename T>
struct RowIn {
  const T* ids;
  int64_t stride;
  int64_t n;
  FC_HD int64_t operator[](int64_t i) const { return static_cast<int64_t>(ids[i * stride]); }
};

// Outputs of one row, already offset to where the row's first token goes. `aux` is the attention mask
// (padded layout, written 1) or the position ids (packed layout, written i).
struct RowOut {
  int64_t* ids;
  int64_t* labels;
  int64_t* aux;
};

FC_HD bool rolespan_in_set(int64_t v, const int64_t* set, int64_t n) {
  for (int64_t j = 0; j < n; ++j)
    if (set[j] == v) return true;
  return false;
}

// A marker occurrence ending at i that lies entirely inside the current region (markers never straddle a
// state change). The last token is compared first: it is the only comparison on almost every token.
// Row: RowIn<T>, or any type with the same operator[] (the CUDA kernels' rows staged in shared memory).
template <typename Row>
FC_HD bool rolespan_ends_with(const Row& in, int64_t i, int64_t region, const int64_t* pat, int64_t k) {
  if (k == 0 || i - k + 1 < region || in[i] != pat[k - 1]) return false;
  for (int64_t j = 0; j + 1 < k; ++j)
    if (in[i - k + 1 + j] != pat[j]) return false;
  return true;
}

// Index of the role whose tokens are exactly in[begin, end), or -1.
template <typename Row>
FC_HD int64_t rolespan_match_role(const RolespanSpecView& s, const Row& in, int64_t begin, int64_t end) {
  for (int64_t r = 0; r < s.n_roles; ++r) {
    const int64_t a = s.role_offsets[r], b = s.role_offsets[r + 1];
    if (b - a != end - begin) continue;
    bool same = true;
    for (int64_t j = 0; j < b - a && same; ++j) same = in[begin + j] == s.role_ids[a + j];
    if (same) return r;
  }
  return -1;
}

// Masks labels[begin, end) and returns how many learned labels that removed.
FC_HD int64_t rolespan_mask(int64_t* labels, int64_t begin, int64_t end) {
  int64_t removed = 0;
  for (int64_t j = begin; j < end; ++j) {
    removed += labels[j] != kIgnoreIndex;
    labels[j] = kIgnoreIndex;
  }
  return removed;
}

// First index >= i whose id is in [lo, lo + span] (a possible trigger), or in.n. Unsigned arithmetic: one
// compare per id, no signed overflow.
template <typename T>
FC_HD int64_t rolespan_plain_run_end(const RowIn<T>& in, int64_t i, uint64_t lo, uint64_t span) {
  while (i<in.n&& static_cast<uint64_t>(in[i]) - lo> span) ++i;
  return i;
}

// Writes the plain content tokens [a, b): ids, aux (1 or the position) and labels (the id, or -100), and
// returns how many labels it learned: an id equal to -100 is a masked label like any other -100.
// kWriteIds false: labels only (rolespan_labels, whose ids are the caller's tensor), read from the input.
template <typename T, bool kPositions, bool kWriteIds = true>
FC_HD int64_t rolespan_copy_run(const RowIn<T>& in, int64_t a, int64_t b, bool learned, RowOut out) {
  const T* p = in.ids;
  if (kWriteIds) {
    if (in.stride == 1) {  // the common case, kept apart so it vectorizes
      for (int64_t k = a; k < b; ++k) out.ids[k] = static_cast<int64_t>(p[k]);
    } else {
      for (int64_t k = a; k < b; ++k) out.ids[k] = in[k];
    }
    for (int64_t k = a; k < b; ++k) out.aux[k] = kPositions ? k : 1;
  }
  int64_t n = 0;
  if (!learned) {
    for (int64_t k = a; k < b; ++k) out.labels[k] = kIgnoreIndex;
  } else if (kWriteIds) {
    for (int64_t k = a; k < b; ++k) n += (out.labels[k] = out.ids[k]) != kIgnoreIndex;
  } else if (in.stride == 1) {
    for (int64_t k = a; k < b; ++k) n += (out.labels[k] = static_cast<int64_t>(p[k])) != kIgnoreIndex;
  } else {
    for (int64_t k = a; k < b; ++k) n += (out.labels[k] = in[k]) != kIgnoreIndex;
  }
  return n;
}

// Copies one row to `out`, writes its labels, and returns the number of learned tokens. kWriteIds false:
// only out.labels is written (out.ids and out.aux may be null).
template <typename T, bool kPositions, bool kWriteIds = true>
FC_HD int64_t rolespan_fill_row(const RolespanSpecView& s, const RowIn<T>& in, int64_t start_index, RowOut out) {
  enum { kOutside, kHeader, kContent };
  const bool completion = s.mode == kModeCompletion;
  // Unsigned arithmetic: one compare tests lo <= tok <= hi, with no signed overflow.
  const uint64_t trigger_lo = static_cast<uint64_t>(s.trigger_lo);
  const uint64_t trigger_span = static_cast<uint64_t>(s.trigger_hi) - trigger_lo;
  int state = kOutside;
  int64_t region = 0, header_begin = 0, turn_index = 0, last_begin = -1, learned_count = 0;
  bool learned = false;

  // A turn whose role is learned starts (header completed / response template seen): is it selected?
  auto start_turn = [&](int64_t begin, bool learned_role) -> bool {
    const bool selected = learned_role && (s.turns != kTurnsFromStartIndex || turn_index >= start_index);
    ++turn_index;
    if (selected && s.turns == kTurnsLast) {
      if (last_begin >= 0) learned_count -= rolespan_mask(out.labels, last_begin, begin);  // un-learn the previous
      last_begin = begin;
    }
    return selected;
  };

  for (int64_t i = 0; i < in.n; ++i) {
    if (state == kContent) {
      // Fast path: the run of plain content tokens up to the next id that can change the state or the
      // label is copied in bulk (simple loops the compiler vectorizes); token `end` takes the slow path.
      const int64_t end = rolespan_plain_run_end(in, i, trigger_lo, trigger_span);
      if (end > i) {
        learned_count += rolespan_copy_run<T, kPositions, kWriteIds>(in, i, end, learned, out);
        i = end;
        if (i == in.n) break;
      }
    }
    const int64_t tok = in[i];
    if (kWriteIds) {
      out.ids[i] = tok;
      out.aux[i] = kPositions ? i : 1;
    }
    int64_t label = kIgnoreIndex;
    if (rolespan_ends_with(in, i, region, s.opener, s.n_opener)) {
      const int64_t begin = i - s.n_opener + 1;
      learned_count -= rolespan_mask(out.labels, begin, i);  // the marker may have begun inside learned content
      region = i + 1;
      if (completion) {
        learned = start_turn(begin, true);
        state = kContent;
      } else {
        state = kHeader;
        header_begin = begin;
      }
    } else if (state == kHeader) {
      if (rolespan_ends_with(in, i, region, s.closer, s.n_closer)) {
        const int64_t role = rolespan_match_role(s, in, region, i - s.n_closer + 1);
        learned = start_turn(header_begin, role >= 0 && s.role_learned[role] != 0);
        if (learned && s.learn_header) {
          for (int64_t j = header_begin; j < i; ++j) {
            const int64_t h = in[j];
            if (!rolespan_in_set(h, s.always_masked, s.n_always_masked)) {
              out.labels[j] = h;
              ++learned_count;
            }
          }
          if (!rolespan_in_set(tok, s.always_masked, s.n_always_masked)) label = tok;
        }
        state = kContent;
        region = i + 1;
      }
    } else if (state == kContent) {
      if (completion && rolespan_ends_with(in, i, region, s.closer, s.n_closer)) {
        learned_count -= rolespan_mask(out.labels, i - s.n_closer + 1, i);
        state = kOutside;
        region = i + 1;
        learned = false;
      } else if (rolespan_in_set(tok, s.end_of_turn, s.n_end_of_turn)) {
        if (learned && s.learn_end_of_turn && !rolespan_in_set(tok, s.always_masked, s.n_always_masked)) label = tok;
        state = kOutside;
        region = i + 1;
        learned = false;
      } else if (learned && !rolespan_in_set(tok, s.always_masked, s.n_always_masked)) {
        label = tok;
      }
    }
    out.labels[i] = label;
    learned_count += label != kIgnoreIndex;
  }
  // Nothing precedes the first token, so it is never a prediction target.
  if (in.n > 0 && out.labels[0] != kIgnoreIndex) {
    out.labels[0] = kIgnoreIndex;
    --learned_count;
  }
  return learned_count;
}

}  // namespace fastcollate
