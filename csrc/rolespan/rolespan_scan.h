// Role-span labels of many rows in parallel: one thread block per row, each thread a contiguous chunk of the
// row's tokens, bit-exact with the sequential state machine rolespan_fill_row (rolespan_step.h).
//
// Why it is exact. rolespan_fill_row's control state before token i is (state, region). Every decision it makes
// at i (a marker ending at i inside the region, the role between region and the header end) depends on the
// region only through d = i - region capped at D = max(|opener| - 1, |closer| + longest role): a marker of
// k <= D + 1 tokens fits in the region iff d >= k - 1, and a role matches only if d - |closer| + 1 <= longest
// role. So q = (state, min(d, D)) is a finite automaton (3 (D + 1) states) with an exact transition rolespan_step
// per token, and the state before every token is a prefix composition of per-token maps Q -> Q. Composition
// is associative, hence a parallel scan:
//   1. each thread composes the maps of its chunk (plain tokens, which change nothing but d, in bulk);
//   2. a block scan of the chunk maps gives every chunk's start state (Hillis-Steele, one round a phase);
//   3. each thread re-runs its chunk from that state and summarises its turn starts: how many (turn indices
//      are a prefix count), the learned-role flag of the last (`learned` when a chunk starts inside content),
//      the begin of the last learned one (turns="last" keeps only that turn); a second block scan adds them up;
//   4. each thread re-runs its chunk once more, now knowing every turn's selection, and writes the labels of
//      its own tokens in the order rolespan_fill_row writes them: each token's label, then the later rewrites that
//      reach back (a marker masks its own first tokens, a learned header's labels), which come from at most
//      D + max marker tokens ahead, so it runs that far into the next chunk; then the first token and
//      turns="last" masks, and the count of learned labels.
// tests/test_cuda_grid.py runs this body through the CPU grid runner against rolespan_fill_row and the Python twin.
//
// Three row sources share the body: a padded (B, T) batch with an attention mask (rolespan_labels), and the
// flat rows + offsets of ChatCollator's staging buffer written padded or packed (ids, labels, attention mask
// or position ids, cu_seqlens, num_learned).
#pragma once

#include <cstdint>

#include "common/elem_type.h"
#include "rolespan/rolespan_step.h"
#include "runtime/grid.h"

namespace fastcollate {

constexpr int kRolespanMaxDepth = 20;                            // D, the longest marker / header the kernels take
constexpr int kRolespanMaxStates = 3 * (kRolespanMaxDepth + 1);  // |Q|
constexpr int kRolespanInlineIds = 224;                          // every id of a spec, in the kernel parameters
constexpr int kRolespanMaxRoles = 16;
constexpr int kRolespanThreads = 256;  // threads per row (block)
constexpr int kRolespanRounds = 8;     // log2(kRolespanThreads): rounds of each block scan

// A RolespanSpecView's arrays by value (kernel parameters: no copy to the device before a launch).
struct RolespanInlineSpec {
  int32_t mode = kModeRoles, turns = kTurnsAll;
  bool learn_end_of_turn = true, learn_header = false;
  int32_t n_opener = 0, n_closer = 0, n_role_ids = 0, n_roles = 0, n_end_of_turn = 0, n_always_masked = 0;
  int32_t depth = 0;  // D
  int64_t role_offsets[kRolespanMaxRoles + 1] = {};
  uint8_t role_learned[kRolespanMaxRoles] = {};
  int64_t ids[kRolespanInlineIds] = {};  // opener, closer, role ids, end-of-turn ids, always-masked ids

  FC_HD RolespanSpecView view() const {
    RolespanSpecView v;
    v.mode = mode;
    v.turns = turns;
    v.learn_end_of_turn = learn_end_of_turn;
    v.learn_header = learn_header;
    v.opener = ids;
    v.n_opener = n_opener;
    v.closer = ids + n_opener;
    v.n_closer = n_closer;
    v.role_ids = ids + n_opener + n_closer;
    v.role_offsets = role_offsets;
    v.role_learned = role_learned;
    v.n_roles = n_roles;
    v.end_of_turn = v.role_ids + n_role_ids;
    v.n_end_of_turn = n_end_of_turn;
    v.always_masked = v.end_of_turn + n_end_of_turn;
    v.n_always_masked = n_always_masked;
    return v;
  }
  FC_HD int32_t states() const { return 3 * (depth + 1); }
};

enum RolespanState : int32_t { kRolespanOutside = 0, kRolespanHeader = 1, kRolespanContent = 2 };

// How the token's own label is decided (rolespan_fill_row's branches).
enum RolespanLabelKind : int8_t {
  kRolespanNoLabel,
  kRolespanContentLabel,
  kRolespanEndOfTurnLabel,
  kRolespanHeaderEndLabel
};

struct RolespanStep {
  int32_t next = 0;  // q after the token
  RolespanLabelKind kind = kRolespanNoLabel;
  bool turn = false;          // a turn starts here (start_turn)
  bool learned_role = false;  // ... and its role is learned
  bool ends = false;          // content ends here (learned becomes false)
  int64_t begin = 0;          // the turn's first token (its header's or response template's)
  int64_t mask_from = -1;     // a marker occupies [mask_from, i): its labels become -100
};

// Ids that can change the state: the opener's and closer's last tokens and the end-of-turn ids. Any other id
// only moves d on (rolespan_step gives (state, min(d + 1, D)) for it).
FC_HD bool rolespan_state_trigger(const RolespanSpecView& s, int64_t tok) {
  return tok == s.opener[s.n_opener - 1] || (s.n_closer > 0 && tok == s.closer[s.n_closer - 1]) ||
         rolespan_in_set(tok, s.end_of_turn, s.n_end_of_turn);
}

// What rolespan_step tests at token i that does not depend on the control state: whether the tokens ending at i
// are the opener / the closer (rolespan_ends_with without its region bound), and whether the token ends a turn.
// A composed map steps every state through the same token, so build_map computes these once per token.
struct RolespanFacts {
  bool opener = false, closer = false, end_of_turn = false;
};

template <typename Row>
FC_HD bool rolespan_tokens_end_with(const Row& in, int64_t i, const int64_t* pat, int64_t k) {
  return rolespan_ends_with(in, i, 0, pat, k);  // region 0: the row's start is the only bound
}

template <typename Row>
FC_HD RolespanFacts rolespan_facts(const RolespanSpecView& s, const Row& in, int64_t i) {
  RolespanFacts f;
  f.opener = rolespan_tokens_end_with(in, i, s.opener, s.n_opener);
  f.closer = rolespan_tokens_end_with(in, i, s.closer, s.n_closer);
  f.end_of_turn = rolespan_in_set(in[i], s.end_of_turn, s.n_end_of_turn);
  return f;
}

// One token of rolespan_fill_row's loop from control state (state, d): the same tests in the same order, with
// region = i - d (exact for every test, see the top of this file, also when d is capped at D). A marker ends
// at i inside the region iff its tokens end at i (facts) and it began at or after the region.
template <typename Row>
FC_HD RolespanStep rolespan_step_from(const RolespanSpecView& s, int32_t depth, const Row& in, int64_t i, int32_t state,
                                      int32_t d, const RolespanFacts& f) {
  // Reachable states have d <= i; the others (composed in build_map too) must not read before the row.
  const int64_t region = i - d > 0 ? i - d : 0;
  const bool completion = s.mode == kModeCompletion;
  RolespanStep o;
  int32_t next = state;
  bool change = false;
  if (f.opener && i - s.n_opener + 1 >= region) {
    o.mask_from = i - s.n_opener + 1;
    change = true;
    if (completion) {
      o.turn = true;
      o.learned_role = true;
      o.begin = o.mask_from;
      next = kRolespanContent;
    } else {
      next = kRolespanHeader;
    }
  } else if (state == kRolespanHeader) {
    if (f.closer && i - s.n_closer + 1 >= region) {
      const int64_t role = rolespan_match_role(s, in, region, i - s.n_closer + 1);
      o.turn = true;
      o.learned_role = role >= 0 && s.role_learned[role] != 0;
      o.begin = i - d - s.n_opener;  // the header's first token (d is exact whenever a role matched)
      o.kind = kRolespanHeaderEndLabel;
      next = kRolespanContent;
      change = true;
    }
  } else if (state == kRolespanContent) {
    if (completion && f.closer && i - s.n_closer + 1 >= region) {
      o.mask_from = i - s.n_closer + 1;
      o.ends = true;
      next = kRolespanOutside;
      change = true;
    } else if (f.end_of_turn) {
      o.kind = kRolespanEndOfTurnLabel;
      o.ends = true;
      next = kRolespanOutside;
      change = true;
    } else {
      o.kind = kRolespanContentLabel;
    }
  }
  o.next = next * (depth + 1) + (change ? 0 : (d < depth ? d + 1 : depth));
  return o;
}

template <typename Row>
FC_HD RolespanStep rolespan_step(const RolespanSpecView& s, int32_t depth, const Row& in, int64_t i, int32_t q) {
  return rolespan_step_from(s, depth, in, i, q / (depth + 1), q % (depth + 1), rolespan_facts(s, in, i));
}

// Whether the token's own label is the token (else -100; learned: the turn's selection, already updated at
// a header end). Every label the kernels write is the token or -100, so one flag per token says it.
FC_HD bool rolespan_own_keep(const RolespanSpecView& s, RolespanLabelKind kind, bool learned, int64_t tok) {
  bool keep = false;
  switch (kind) {
    case kRolespanContentLabel:
      keep = learned;
      break;
    case kRolespanEndOfTurnLabel:
      keep = learned && s.learn_end_of_turn;
      break;
    case kRolespanHeaderEndLabel:
      keep = learned && s.learn_header;
      break;
    default:
      break;
  }
  return keep && !rolespan_in_set(tok, s.always_masked, s.n_always_masked);
}

// A filter in front of the exact tests: a bit per id hash (the id's low bits) for every id that can change
// the state or is always masked. An id whose bit is clear is plain: it only moves d on, and in content its
// label is the token when the turn is learned. Almost every token of a conversation is plain, and this is
// the only test it takes (one shared-memory load).
constexpr int kRolespanHashBits = 2048;
constexpr int kRolespanHashWords = kRolespanHashBits / 32;

FC_HD uint32_t rolespan_hash_word(const RolespanSpecView& s, int w) {
  uint32_t word = 0;
  auto add = [&](int64_t id) {
    const uint32_t h = static_cast<uint32_t>(static_cast<uint64_t>(id) & (kRolespanHashBits - 1));
    if (static_cast<int>(h >> 5) == w) word |= 1u << (h & 31);
  };
  add(s.opener[s.n_opener - 1]);
  if (s.n_closer > 0) add(s.closer[s.n_closer - 1]);
  for (int64_t j = 0; j < s.n_end_of_turn; ++j) add(s.end_of_turn[j]);
  for (int64_t j = 0; j < s.n_always_masked; ++j) add(s.always_masked[j]);
  return word;
}

FC_HD bool rolespan_maybe_special(const uint32_t* hash, int64_t tok) {
  const uint32_t h = static_cast<uint32_t>(static_cast<uint64_t>(tok) & (kRolespanHashBits - 1));
  return (hash[h >> 5] >> (h & 31)) & 1u;
}

// rolespan_state_trigger behind the hash filter.
FC_HD bool rolespan_trigger(const RolespanSpecView& s, const uint32_t* hash, int64_t tok) {
  return rolespan_maybe_special(hash, tok) && rolespan_state_trigger(s, tok);
}

// A row staged in shared memory: token i in slot i + i / 16, so that threads reading their own chunks of 16
// (8, 4, ...) tokens hit distinct banks.
FC_HD int64_t rolespan_slot(int64_t i) { return i + (i >> 4); }
FC_HD int64_t rolespan_slots(int64_t n) { return n > 0 ? rolespan_slot(n - 1) + 1 : 0; }

struct RolespanSharedRow {
  const int64_t* slots;
  int64_t n;
  FC_HD int64_t operator[](int64_t i) const { return slots[rolespan_slot(i)]; }
};

// What a chunk tells the next ones (combined by a block scan, earlier chunk first).
struct RolespanSummary {
  int64_t turns;      // turn starts in the chunk(s)
  int64_t max_begin;  // the latest begin of a learned-role turn (turns="last"), -1 for none
  int32_t has;        // any turn start
  int32_t role;       // the last turn start's learned-role flag
};

FC_HD RolespanSummary rolespan_combine(const RolespanSummary& a, const RolespanSummary& b) {
  return RolespanSummary{a.turns + b.turns, a.max_begin > b.max_begin ? a.max_begin : b.max_begin, a.has | b.has,
                         b.has ? b.role : a.role};
}

// Where one row comes from and goes to.
enum RolespanSource : int32_t {
  kRolespanPaddedLabels = 0,   // rolespan_labels: (B, cols) ids, optional attention mask, labels only
  kRolespanCollatePadded = 1,  // ChatCollator: flat ids + offsets -> (B, width) ids, labels, attention mask
  kRolespanCollatePacked = 2,  // ChatCollator packed: -> (1, total) ids, labels, position ids, cu_seqlens
};

// Rows of up to kRolespanStageTokens tokens are staged in shared memory (ids, and a keep flag per token), so that
// every global access is coalesced: one read of the row, one write of each output, in column order. Longer
// rows (and rows past a launch's `stage`) read and write global memory from their chunks.
constexpr int64_t kRolespanStageTokens = 4096;
// The dynamic shared memory of one block stays within what every listed architecture grants (sm_75: 64 KiB).
constexpr int64_t kRolespanSharedBudget = 64 * 1024;

struct RolespanRowsLaunch {
  RolespanInlineSpec spec;
  int32_t source = kRolespanPaddedLabels;
  int64_t rows = 0;
  // Input ids: kRolespanPaddedLabels: ids[r * ids_stride[0] + c * ids_stride[1]] for c < cols;
  // collate: ids[row_offsets[r] + j] for j < row_offsets[r + 1] - row_offsets[r].
  const void* ids = nullptr;  // int32 or int64: the body's T
  int64_t ids_stride[2] = {0, 1};
  int64_t cols = 0;
  const int64_t* row_offsets = nullptr;
  const void* mask = nullptr;  // kRolespanPaddedLabels only; (B, cols)
  ElemType mask_type = ElemType::kNone;
  int64_t mask_stride[2] = {0, 1};
  const int64_t* start_index = nullptr;  // rows entries, or null (every turn)
  // Outputs, int64 rows of unit stride: labels always; the collate sources also ids and aux (attention mask
  // or position ids), num_learned (rows), and packed cu_seqlens (rows + 1).
  int64_t* labels = nullptr;
  int64_t labels_row_stride = 0;  // kRolespanPaddedLabels; the collate sources use `width`
  int64_t* out_ids = nullptr;
  int64_t* out_aux = nullptr;
  int64_t* num_learned = nullptr;
  int32_t* cu_seqlens = nullptr;
  int64_t width = 0;  // kRolespanCollatePadded: columns of every output row
  bool pad_left = false;
  int64_t pad_token_id = 0;
  int32_t* status = nullptr;  // raised when an attention mask row is invalid
  int64_t stage = 0;          // rows of up to `stage` tokens are staged in shared memory (rolespan_stage_tokens)
};

// Per-thread registers kept across phases.
struct RolespanThread {
  int64_t n = 0;                                       // tokens in the row
  int64_t in_first = 0;                                // kRolespanPaddedLabels: the first token's input column
  int64_t out_base = 0, out_first = 0, out_width = 0;  // output row start, the first token's column, columns
  int64_t c0 = 0, c1 = 0;                              // this thread's tokens
  int64_t start = 0;                                   // the row's start_index
  int32_t q = 0;                                       // control state before token c0
  bool staged = false;                                 // the row is in shared memory
  RolespanSummary own{0, -1, 0, 0};
};

// A staged row's output columns, every kRolespanThreads-th per thread from `t` (coalesced): labels (the token
// where keep(j), else -100), and for the collate sources ids and aux; padding outside the tokens. Returns how
// many labels it learned (an id of -100 is a masked label like any other -100). token(j) and keep(j): the
// row's token j and its keep flag, from the staging area.
template <typename Token, typename Keep>
FC_HD int64_t rolespan_flush_columns(const RolespanRowsLaunch& a, const RolespanThread& th, int t, Token token,
                                     Keep keep) {
  const bool collate = a.source != kRolespanPaddedLabels, packed = a.source == kRolespanCollatePacked;
  int64_t* labels = a.labels + th.out_base;
  int64_t* ids = collate ? a.out_ids + th.out_base : nullptr;
  int64_t* aux = collate ? a.out_aux + th.out_base : nullptr;
  int64_t count = 0;
  for (int64_t c = t; c < th.out_width; c += kRolespanThreads) {
    const int64_t j = c - th.out_first;
    if (j >= 0 && j < th.n) {
      const int64_t tok = token(j);
      const int64_t label = keep(j) ? tok : kIgnoreIndex;
      labels[c] = label;
      count += label != kIgnoreIndex;
      if (collate) {
        ids[c] = tok;
        aux[c] = packed ? j : 1;
      }
    } else {
      labels[c] = kIgnoreIndex;
      if (collate) {
        ids[c] = a.pad_token_id;
        aux[c] = 0;
      }
    }
  }
  return count;
}

// A row's learned count, folded without atomics from one count per thread in `partials` ([kRolespanThreads]
// counts, then [kRolespanLearnedFolds] folds): rolespan_fold_learned, phase one (threads t < kRolespanLearnedFolds),
// then rolespan_finish_row (thread 0), which also writes the packed layout's cu_seqlens entries.
constexpr int kRolespanLearnedFolds = 16;

FC_HD void rolespan_fold_learned(int64_t* partials, int t) {
  constexpr int per = kRolespanThreads / kRolespanLearnedFolds;
  int64_t sum = 0;
  for (int j = 0; j < per; ++j) sum += partials[t * per + j];
  partials[kRolespanThreads + t] = sum;
}

FC_HD void rolespan_finish_row(const RolespanRowsLaunch& a, int64_t r, const int64_t* partials) {
  if (a.num_learned) {
    int64_t sum = 0;
    for (int j = 0; j < kRolespanLearnedFolds; ++j) sum += partials[kRolespanThreads + j];
    a.num_learned[r] = sum;
  }
  if (a.source == kRolespanCollatePacked) {
    if (r == 0) a.cu_seqlens[0] = 0;
    a.cu_seqlens[r + 1] = static_cast<int32_t>(a.row_offsets[r + 1]);
  }
}

// The tokens a launch stages: its longest row, up to kRolespanStageTokens and what fits the shared-memory budget
// (bytes(stage): the body's shared memory with that staging area); `limit` (>= 0) lowers it (the tests use it
// to cover both paths). 0 when even the shortest row is longer: no row would use the staging area.
template <typename Bytes>
FC_HD int64_t rolespan_fit_stage(int64_t shortest_row, int64_t longest_row, int64_t limit, Bytes bytes) {
  int64_t stage = longest_row < kRolespanStageTokens ? longest_row : kRolespanStageTokens;
  if (limit >= 0 && limit < stage) stage = limit;
  while (stage > 0 && bytes(stage) > kRolespanSharedBudget) stage -= 64;
  return stage > 0 && shortest_row <= stage ? stage : 0;
}

template <typename T>
struct RolespanRowsBody {
  RolespanRowsLaunch a;

  using Thread = RolespanThread;

  // Shared memory, in this order: the id hash, two summary buffers, two map buffers (one map:
  // states() bytes per thread), then for a staged row its ids (rolespan_slots) and a keep flag per token.
  // Block-wide totals (the mask statistics, the learned count) are folded without atomics (a 64-bit atomic
  // on shared memory is a compare-and-swap loop, and 256 threads on one address serialise): every thread
  // stores its value, kRolespanFolders threads fold kRolespanFold values each, and the readers fold those
  // kRolespanFolders. The values live in the summary buffers while no summary does: the mask statistics before the
  // scans (mask_partials), the learned counts in buffer 1 after the last scan round (learned_partials).
  enum MaskStat { kStatBad, kStatFirst, kStatLast, kStatOnes, kStats };
  static constexpr int kRolespanFold = 16, kRolespanFolders = kRolespanThreads / kRolespanFold;
  static_assert(kStats * (kRolespanThreads + kRolespanFolders) * 8 <= 2 * kRolespanThreads * sizeof(RolespanSummary),
                "mask scratch");
  static_assert((kRolespanThreads + kRolespanLearnedFolds) * 8 <= kRolespanThreads * sizeof(RolespanSummary),
                "learned scratch");
  FC_HD static constexpr int threads() { return kRolespanThreads; }
  FC_HD static constexpr int phases() { return 10 + 2 * kRolespanRounds; }
  FC_HD static int64_t maps_offset() {
    return kRolespanHashWords * 4 + 2 * kRolespanThreads * static_cast<int64_t>(sizeof(RolespanSummary));
  }
  FC_HD static int64_t staged_offset(int32_t states) {
    return maps_offset() + (2 * kRolespanThreads * static_cast<int64_t>(states) + 7) / 8 * 8;
  }
  FC_HD static int64_t bytes_for(int32_t states, int64_t stage) {
    return staged_offset(states) + 8 * rolespan_slots(stage) + stage;
  }
  FC_HD int64_t shared_bytes() const { return bytes_for(a.spec.states(), a.stage); }
  FC_HD static uint32_t* hash(unsigned char* sh) { return reinterpret_cast<uint32_t*>(sh); }
  FC_HD static RolespanSummary* summaries(unsigned char* sh, int buf) {
    return reinterpret_cast<RolespanSummary*>(sh + kRolespanHashWords * 4) + buf * kRolespanThreads;
  }
  FC_HD uint8_t* maps(unsigned char* sh, int buf) const {
    return sh + maps_offset() + buf * kRolespanThreads * a.spec.states();
  }
  // [kStats][kRolespanThreads] per-thread values, then [kStats][kRolespanFolders] folds.
  FC_HD static int64_t* mask_partials(unsigned char* sh) { return reinterpret_cast<int64_t*>(summaries(sh, 0)); }
  // [kRolespanThreads] per-thread counts, then [kRolespanFolders] folds.
  FC_HD static int64_t* learned_partials(unsigned char* sh) { return reinterpret_cast<int64_t*>(summaries(sh, 1)); }
  FC_HD int64_t* staged_ids(unsigned char* sh) const {
    return reinterpret_cast<int64_t*>(sh + staged_offset(a.spec.states()));
  }
  FC_HD uint8_t* keep_flags(unsigned char* sh) const {
    return sh + staged_offset(a.spec.states()) + 8 * rolespan_slots(a.stage);
  }

  FC_HD RowIn<T> row_in(int64_t r, const Thread& th) const {
    const T* ids = static_cast<const T*>(a.ids);
    if (a.source == kRolespanPaddedLabels) {
      return RowIn<T>{ids + r * a.ids_stride[0] + th.in_first * a.ids_stride[1], a.ids_stride[1], th.n};
    }
    return RowIn<T>{ids + a.row_offsets[r], 1, th.n};
  }
  FC_HD RolespanSharedRow shared_row(unsigned char* sh, const Thread& th) const {
    return RolespanSharedRow{staged_ids(sh), th.n};
  }

  FC_HD int64_t mask_at(int64_t r, int64_t c) const {
    const int64_t k = r * a.mask_stride[0] + c * a.mask_stride[1];
    switch (a.mask_type) {
      case ElemType::kBool:
        return static_cast<const uint8_t*>(a.mask)[k];
      case ElemType::kInt32:
        return static_cast<const int32_t*>(a.mask)[k];
      default:
        return static_cast<const int64_t*>(a.mask)[k];
    }
  }

  FC_HD static void chunk(int64_t n, int t, int64_t& c0, int64_t& c1) {
    const int64_t per = (n + kRolespanThreads - 1) / kRolespanThreads;
    c0 = per * t < n ? per * t : n;
    c1 = c0 + per < n ? c0 + per : n;
  }

  FC_HD void run(int phase, int64_t r, int t, Thread& th, unsigned char* sh) const {
    const RolespanSpecView s = a.spec.view();
    const int32_t depth = a.spec.depth, nq = a.spec.states();
    constexpr int kMaskFold = 1, kGeometry = 2, kStage = 3, kMap = 4, kScan1 = 5, kResim1 = kScan1 + kRolespanRounds,
                  kScan2 = kResim1 + 1, kWrite = kScan2 + kRolespanRounds, kFlush = kWrite + 1, kCountFold = kFlush + 1;
    const bool masked = a.source == kRolespanPaddedLabels && a.mask_type != ElemType::kNone;
    if (phase == 0) {
      if (t < kRolespanHashWords) hash(sh)[t] = rolespan_hash_word(s, t);
      if (masked) mask_stats(r, t, sh);
    } else if (phase == kMaskFold) {
      if (masked && t < kRolespanFolders) fold_mask_stats(t, sh);
    } else if (phase == kGeometry) {
      geometry(r, t, th, sh);
    } else if (phase == kStage) {
      if (th.staged) stage_row(r, t, th, sh);
    } else if (phase == kMap) {
      uint8_t* m = maps(sh, 0) + t * nq;
      uint8_t* table = maps(sh, 1) + t * nq;
      if (th.staged)
        build_map(s, depth, nq, shared_row(sh, th), hash(sh), th, m, table);
      else
        build_map(s, depth, nq, row_in(r, th), hash(sh), th, m, table);
    } else if (phase < kResim1) {  // scan of the chunk maps, round phase - kScan1
      const int off = 1 << (phase - kScan1);
      const uint8_t* src = maps(sh, (phase - kScan1) & 1) + t * nq;
      uint8_t* dst = maps(sh, (phase - kScan1 + 1) & 1) + t * nq;
      if (t >= off) {
        const uint8_t* earlier = src - off * nq;
        for (int32_t q = 0; q < nq; ++q) dst[q] = src[earlier[q]];
      } else {
        for (int32_t q = 0; q < nq; ++q) dst[q] = src[q];
      }
    } else if (phase == kResim1) {
      // kRolespanRounds is even: the inclusive maps are back in buffer 0. Thread t starts where chunk t - 1 ended.
      th.q = t == 0 ? 0 : maps(sh, 0)[(t - 1) * nq + 0];  // q0 = (outside, d = 0) = 0
      if (th.staged)
        summarise(s, depth, shared_row(sh, th), hash(sh), th);
      else
        summarise(s, depth, row_in(r, th), hash(sh), th);
      summaries(sh, 0)[t] = th.own;
    } else if (phase < kWrite) {
      const int off = 1 << (phase - kScan2);
      const RolespanSummary* src = summaries(sh, (phase - kScan2) & 1);
      RolespanSummary* dst = summaries(sh, (phase - kScan2 + 1) & 1);
      dst[t] = t >= off ? rolespan_combine(src[t - off], src[t]) : src[t];
    } else if (phase == kWrite) {
      const RolespanSummary* incl = summaries(sh, 0);
      const RolespanSummary before = t == 0 ? RolespanSummary{0, -1, 0, 0} : incl[t - 1];
      const int64_t last_begin = incl[kRolespanThreads - 1].max_begin;
      if (th.staged)
        write_row<true>(s, depth, t, th, shared_row(sh, th), before, last_begin, sh);
      else
        write_row<false>(s, depth, t, th, row_in(r, th), before, last_begin, sh);
    } else if (phase == kFlush) {
      if (th.staged) flush_row(t, th, sh);
    } else if (phase == kCountFold) {
      if (a.num_learned && t < kRolespanLearnedFolds) rolespan_fold_learned(learned_partials(sh), t);
    } else if (t == 0) {  // the last phase
      rolespan_finish_row(a, r, learned_partials(sh));
    }
  }

  // Phase 0: the row's attention mask, every kRolespanThreads-th column per thread (coalesced): the first column
  // holding neither 0 nor 1, the first and last 1, the number of 1s.
  FC_HD void mask_stats(int64_t r, int t, unsigned char* sh) const {
    int64_t bad = a.cols, first = a.cols, last = -1, ones = 0;
    for (int64_t c = t; c < a.cols; c += kRolespanThreads) {
      const int64_t v = mask_at(r, c);
      if (v != 0 && v != 1 && bad == a.cols) bad = c;
      if (v == 1) {
        if (first == a.cols) first = c;
        last = c;
        ++ones;
      }
    }
    int64_t* p = mask_partials(sh);
    p[kStatBad * kRolespanThreads + t] = bad;
    p[kStatFirst * kRolespanThreads + t] = first;
    p[kStatLast * kRolespanThreads + t] = last;
    p[kStatOnes * kRolespanThreads + t] = ones;
  }

  // min (bad), min (first), max (last) and sum (ones) of `count` threads' statistics from `first`, in a
  // scratch of kStats rows of `row` entries.
  FC_HD static void fold(const int64_t* p, int row, int first, int count, int64_t* v) {
    v[kStatBad] = p[kStatBad * row + first];
    v[kStatFirst] = p[kStatFirst * row + first];
    v[kStatLast] = p[kStatLast * row + first];
    v[kStatOnes] = 0;
    for (int k = first; k < first + count; ++k) {
      const int64_t bad = p[kStatBad * row + k], lo = p[kStatFirst * row + k], hi = p[kStatLast * row + k];
      v[kStatBad] = bad < v[kStatBad] ? bad : v[kStatBad];
      v[kStatFirst] = lo < v[kStatFirst] ? lo : v[kStatFirst];
      v[kStatLast] = hi > v[kStatLast] ? hi : v[kStatLast];
      v[kStatOnes] += p[kStatOnes * row + k];
    }
  }

  // Phase kMaskFold (threads t < kRolespanFolders): threads [t * kRolespanFold, (t + 1) * kRolespanFold) folded into
  // fold t.
  FC_HD static void fold_mask_stats(int t, unsigned char* sh) {
    int64_t* p = mask_partials(sh);
    int64_t v[kStats];
    fold(p, kRolespanThreads, t * kRolespanFold, kRolespanFold, v);
    int64_t* folds = p + kStats * kRolespanThreads;
    for (int k = 0; k < kStats; ++k) folds[k * kRolespanFolders + t] = v[k];
  }

  // Phase kGeometry: the row's tokens and where they go.
  FC_HD void geometry(int64_t r, int t, Thread& th, unsigned char* sh) const {
    if (a.source == kRolespanPaddedLabels) {
      int64_t begin = 0, end = a.cols;
      if (a.mask_type != ElemType::kNone) {
        int64_t v[kStats];
        fold(mask_partials(sh) + kStats * kRolespanThreads, kRolespanFolders, 0, kRolespanFolders, v);
        begin = 0;
        end = 0;
        if (v[kStatOnes] > 0) {
          begin = v[kStatFirst];
          end = v[kStatLast] + 1;
        }
        // rolespan_rows' rules: values 0 or 1, one run of 1s touching the row's start or end.
        const bool ok = v[kStatBad] == a.cols && v[kStatOnes] == end - begin && (begin == 0 || end == a.cols);
        if (!ok) {
          if (t == 0) fc_raise(a.status);
          begin = end = 0;  // every label -100; the caller raises the CPU check's error
        }
      }
      th.n = end - begin;
      th.in_first = begin;
      th.out_base = r * a.labels_row_stride;
      th.out_first = begin;
      th.out_width = a.cols;
    } else {
      th.n = a.row_offsets[r + 1] - a.row_offsets[r];
      if (a.source == kRolespanCollatePadded) {
        th.out_base = r * a.width;
        th.out_first = a.pad_left ? a.width - th.n : 0;
        th.out_width = a.width;
      } else {
        th.out_base = a.row_offsets[r];
        th.out_first = 0;
        th.out_width = th.n;
      }
    }
    th.start = a.start_index ? a.start_index[r] : 0;
    th.staged = th.n <= a.stage;
    chunk(th.n, t, th.c0, th.c1);
  }

  // Phase kStage: the row's ids into shared memory, every kRolespanThreads-th token per thread (coalesced).
  FC_HD void stage_row(int64_t r, int t, const Thread& th, unsigned char* sh) const {
    const RowIn<T> in = row_in(r, th);
    int64_t* slots = staged_ids(sh);
    for (int64_t i = t; i < th.n; i += kRolespanThreads) slots[rolespan_slot(i)] = in[i];
  }

  // Phase kMap: the composition of the chunk's per-token maps, built in place from the identity. Tokens that
  // only move d on are counted and applied in bulk before the next trigger (min(d + k, D)). A step is first
  // tabulated for every state in `table` (this thread's slot of the second map buffer, unused until the
  // scan), state by state without a division, then applied to the map (m[q] = table[m[q]]): a trigger costs
  // one rolespan_facts and |Q| cheap rolespan_step_from, not |Q| full steps (a warp runs its threads' triggers one
  // after another).
  template <typename Row>
  FC_HD static void build_map(const RolespanSpecView& s, int32_t depth, int32_t nq, const Row& in, const uint32_t* hash,
                              const Thread& th, uint8_t* m, uint8_t* table) {
    for (int32_t q = 0; q < nq; ++q) m[q] = static_cast<uint8_t>(q);
    int64_t pending = 0;
    for (int64_t i = th.c0; i <= th.c1; ++i) {
      const bool last = i == th.c1;
      if (!last) {
        if (!rolespan_trigger(s, hash, in[i])) {
          ++pending;
          continue;
        }
      }
      if (pending) {
        for (int32_t state = 0, q = 0; state < 3; ++state) {
          for (int32_t d = 0; d <= depth; ++d, ++q) {
            const int64_t moved = d + pending;
            table[q] = static_cast<uint8_t>(state * (depth + 1) + (moved < depth ? moved : depth));
          }
        }
        for (int32_t q = 0; q < nq; ++q) m[q] = table[m[q]];
        pending = 0;
      }
      if (last) break;
      const RolespanFacts f = rolespan_facts(s, in, i);
      for (int32_t state = 0, q = 0; state < 3; ++state) {
        for (int32_t d = 0; d <= depth; ++d, ++q) {
          table[q] = static_cast<uint8_t>(rolespan_step_from(s, depth, in, i, state, d, f).next);
        }
      }
      for (int32_t q = 0; q < nq; ++q) m[q] = table[m[q]];
    }
  }

  // Phase kResim1: the chunk's turn starts, from its true start state. Only triggers start turns; a plain
  // token moves d on.
  template <typename Row>
  FC_HD static void summarise(const RolespanSpecView& s, int32_t depth, const Row& in, const uint32_t* hash,
                              Thread& th) {
    int32_t q = th.q;
    int32_t d = q % (depth + 1), base = q - d;  // base: the state's first q
    for (int64_t i = th.c0; i < th.c1; ++i) {
      if (!rolespan_trigger(s, hash, in[i])) {
        d += d < depth;
        continue;
      }
      const RolespanStep o = rolespan_step(s, depth, in, i, base + d);
      d = o.next % (depth + 1);
      base = o.next - d;
      if (!o.turn) continue;
      ++th.own.turns;
      th.own.has = 1;
      th.own.role = o.learned_role;
      if (o.learned_role && s.turns == kTurnsLast && o.begin > th.own.max_begin) th.own.max_begin = o.begin;
    }
  }

  // Phase kWrite: the labels of the thread's tokens, decided in rolespan_fill_row's order: each token's own label,
  // then the rewrites that reach back. Staged rows set the tokens' keep flags (flush_row writes the outputs);
  // the others write their labels, ids, aux and padding to global memory here.
  template <bool kStaged, typename Row>
  FC_HD void write_row(const RolespanSpecView& s, int32_t depth, int t, const Thread& th, const Row& in,
                       const RolespanSummary& before, int64_t last_begin, unsigned char* sh) const {
    const uint32_t* hash_bits = hash(sh);
    uint8_t* flags = kStaged ? keep_flags(sh) : nullptr;
    int64_t* labels = a.labels + th.out_base + th.out_first;
    const bool collate = a.source != kRolespanPaddedLabels;
    int64_t* ids = collate ? a.out_ids + th.out_base + th.out_first : nullptr;
    int64_t* aux = collate ? a.out_aux + th.out_base + th.out_first : nullptr;
    const bool packed = a.source == kRolespanCollatePacked;
    // Token j's label: the token (keep) or -100.
    auto put = [&](int64_t j, bool keep, int64_t tok) {
      if (kStaged)
        flags[j] = keep;
      else
        labels[j] = keep ? tok : kIgnoreIndex;
    };
    auto own = [&](int64_t i, bool keep, int64_t tok) {
      put(i, keep, tok);
      if (!kStaged && collate) {
        ids[i] = tok;
        aux[i] = packed ? i : 1;
      }
    };
    auto selected = [&](bool learned_role, int64_t index) {
      return learned_role && (s.turns != kTurnsFromStartIndex || index >= th.start);
    };
    int64_t turn = before.turns;  // index of the next turn start
    int32_t d = th.q % (depth + 1), state = th.q / (depth + 1);
    bool learned = state == kRolespanContent && before.has && selected(before.role != 0, turn - 1);
    // Rewrites reach back at most the longest marker, or a learned header (begin = i - d - |opener|).
    const int64_t reach = depth + (s.n_opener > s.n_closer ? s.n_opener : s.n_closer) + 1;
    const int64_t end = th.c1 + reach < th.n ? th.c1 + reach : th.n;
    const int64_t stop = th.c0 < th.c1 ? end : th.c0;  // a thread without tokens writes none
    for (int64_t i = th.c0; i < stop; ++i) {
      const int64_t tok = in[i];
      const bool special = rolespan_maybe_special(hash_bits, tok);
      if (!special || !rolespan_state_trigger(s, tok)) {  // a plain token: its own label, and d moves on
        if (i < th.c1) {
          own(i,
              state == kRolespanContent && learned &&
                  !(special && rolespan_in_set(tok, s.always_masked, s.n_always_masked)),
              tok);
        }
        d += d < depth;
        continue;
      }
      const RolespanStep o = rolespan_step(s, depth, in, i, state * (depth + 1) + d);
      state = o.next / (depth + 1);
      d = o.next % (depth + 1);
      if (o.mask_from >= 0) {
        const int64_t j0 = o.mask_from > th.c0 ? o.mask_from : th.c0, j1 = i < th.c1 ? i : th.c1;
        for (int64_t j = j0; j < j1; ++j) put(j, false, 0);
      }
      if (o.turn) {
        learned = selected(o.learned_role, turn++);
        if (learned && s.learn_header && s.mode == kModeRoles) {
          const int64_t j0 = o.begin > th.c0 ? o.begin : th.c0, j1 = i < th.c1 ? i : th.c1;
          for (int64_t j = j0; j < j1; ++j) {
            const int64_t h = in[j];
            if (!rolespan_in_set(h, s.always_masked, s.n_always_masked)) put(j, true, h);
          }
        }
      }
      if (i < th.c1) own(i, rolespan_own_keep(s, o.kind, learned, tok), tok);
      if (o.ends) learned = false;
    }
    // The first token and, for turns="last", everything before the last learned turn.
    if (kStaged) {
      for (int64_t j = th.c0; j < th.c1; ++j) {
        if (j == 0 || (s.turns == kTurnsLast && j < last_begin)) flags[j] = 0;
      }
      return;  // flush_row counts and writes
    }
    int64_t count = 0;
    for (int64_t j = th.c0; j < th.c1; ++j) {
      if (j == 0 || (s.turns == kTurnsLast && j < last_begin)) labels[j] = kIgnoreIndex;
      count += labels[j] != kIgnoreIndex;
    }
    if (a.num_learned) learned_partials(sh)[t] = count;
    // Padding: the output row's columns outside the tokens, a chunk of columns per thread.
    int64_t p0, p1;
    chunk(th.out_width, t, p0, p1);
    int64_t* row = a.labels + th.out_base;
    for (int64_t c = p0; c < p1; ++c) {
      if (c >= th.out_first && c < th.out_first + th.n) continue;
      row[c] = kIgnoreIndex;
      if (collate) {
        a.out_ids[th.out_base + c] = a.pad_token_id;
        a.out_aux[th.out_base + c] = 0;
      }
    }
  }

  // Phase kFlush (staged rows): every output column of the row, every kRolespanThreads-th per thread (coalesced):
  // labels from the keep flags, and for the collate sources ids and aux; padding outside the tokens. Counts
  // the learned labels (an id of -100 is a masked label like any other -100).
  FC_HD void flush_row(int t, const Thread& th, unsigned char* sh) const {
    const int64_t* slots = staged_ids(sh);
    const uint8_t* flags = keep_flags(sh);
    const int64_t count = rolespan_flush_columns(
        a, th, t, [&](int64_t j) { return slots[rolespan_slot(j)]; }, [&](int64_t j) { return flags[j] != 0; });
    if (a.num_learned) learned_partials(sh)[t] = count;
  }
};

// The tokens a launch stages (RolespanRowsLaunch::stage), with the spec's maps (rolespan_fit_stage); 0 when no
// row would use the staging area, which only costs occupancy.
FC_HD int64_t rolespan_stage_tokens(const RolespanInlineSpec& spec, int64_t shortest_row, int64_t longest_row,
                                    int64_t limit) {
  return rolespan_fit_stage(shortest_row, longest_row, limit,
                            [&](int64_t stage) { return RolespanRowsBody<int64_t>::bytes_for(spec.states(), stage); });
}

// Host: the spec's arrays by value, with its depth D; std::invalid_argument "spec: ..." past the kernels'
// limits (kRolespanMaxDepth, kRolespanInlineIds, kRolespanMaxRoles).
struct RolespanSpecData;
RolespanInlineSpec rolespan_inline_spec(const RolespanSpecData& spec);

template <typename L, typename T>
void launch_rolespan_rows(L& l, const RolespanRowsBody<T>& body) {
  if (body.a.rows > 0) l.blocks(body, body.a.rows);
}

}  // namespace fastcollate
