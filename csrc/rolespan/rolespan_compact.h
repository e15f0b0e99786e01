// Role-span labels of many rows in parallel, by specials compaction: one thread block per row, bit-exact with
// the sequential state machine rolespan_fill_row (rolespan_step.h) and with the chunk scan of rolespan_scan.h,
// whose automaton (q = (state, min(d, D)), the exact step rolespan_step_from) it reuses.
//
// Only the ids that can change the control state (the "specials": the opener's and closer's last tokens and
// the end-of-turn ids, rolespan_state_trigger) need the automaton; every other token only moves d on, and its
// label is the token when the run it sits in is learned content (and the token is not always masked). So:
//   1. staging: the row is read once (coalesced) into shared memory, and each token gets a flag byte: special,
//      always masked (both behind the hash filter);
//   2. compaction: each thread counts the specials of a contiguous chunk, a block scan gives each chunk its
//      first special's index, and each chunk writes its specials' positions, in row order, to a list;
//   3. maps: each lane takes a run of consecutive specials (one each while a row has at most 256) and
//      tabulates their transition map (the plain tokens before each special move d on in one step); a block
//      scan of those maps gives every lane its start state; the rounds stop at the number of busy lanes;
//   4. replay: each lane steps its specials from that state and records, per special, what it did (turn
//      start, learned role, end of content, label kind, the marker to mask and the turn's first token); a
//      second block scan adds up the turn starts (turn indices, `learned` across lanes, turns="last"), and
//      each lane resolves its specials: its own label, and whether the plain run after it is learned;
//   5. labels: each thread writes the keep flags of its chunk in row order: a plain token is a load, a
//      compare and a store; at a special, its rewrites that reach back (a marker's first tokens, a learned
//      header) and its own label; then the specials up to D + the longest marker past the chunk, for their
//      rewrites into it; then the first token and turns="last";
//   6. one coalesced pass writes every output column, and the learned count is folded as in rolespan_scan.h.
// Rows longer than the staging area run the chunk scan of rolespan_scan.h in the same block (its global-memory
// path): a block takes one path for its whole row.
// tests/runtime/test_cuda_grid.py runs this body through the CPU grid runner against rolespan_fill_row, the
// Python twin and the chunk scan (csrc/runtime/grid.h).
#pragma once

#include <cstdint>

#include "rolespan/rolespan_scan.h"

namespace fastcollate {

// One special of a staged row, packed in 32 bits: its position, the marker it masks and the turn's first token
// (as distances back from it), then what the replay found (raw) or, once its lane has resolved it, the labels.
namespace rolespan_special {
constexpr uint32_t kPosBits = 13, kPosMask = (1u << kPosBits) - 1;  // positions below kRolespanStageTokens
constexpr uint32_t kMaskShift = 13, kMaskBits = 0x1f;               // [pos - mask_back, pos) becomes -100
constexpr uint32_t kBeginShift = 18, kBeginBits = 0x3f;             // the turn's first token: pos - begin_back
// Raw (phase kReplay).
constexpr uint32_t kTurn = 1u << 24, kLearnedRole = 1u << 25, kEnds = 1u << 26, kContentAfter = 1u << 29;
constexpr uint32_t kKindShift = 27, kKindBits = 3;
constexpr uint32_t kRawBits = 0x3fu << 24;
// Resolved (phase kResolve), in place of the raw bits.
constexpr uint32_t kOwnKeep = 1u << 24, kRunKeep = 1u << 25, kHeaderRewrite = 1u << 26;

FC_HD int64_t pos(uint32_t e) { return static_cast<int64_t>(e & kPosMask); }
FC_HD int64_t mask_back(uint32_t e) { return static_cast<int64_t>((e >> kMaskShift) & kMaskBits); }
FC_HD int64_t begin_back(uint32_t e) { return static_cast<int64_t>((e >> kBeginShift) & kBeginBits); }
}  // namespace rolespan_special

static_assert(kRolespanStageTokens <= (1 << rolespan_special::kPosBits), "positions fit the special's bits");
// mask_back <= max(|opener|, |closer|) - 1 <= D; begin_back <= D + |opener| <= 2 D + 1 (rolespan_inline_spec).
static_assert(kRolespanMaxDepth <= static_cast<int>(rolespan_special::kMaskBits), "mask_back fits");
static_assert(2 * kRolespanMaxDepth + 1 <= static_cast<int>(rolespan_special::kBeginBits), "begin_back fits");

// A token's flag byte: special (changes the state), always masked, and its label's keep bit (phase kWrite).
enum RolespanTokenFlag : uint8_t { kRolespanSpecial = 1, kRolespanAlwaysMasked = 2, kRolespanKeep = 4 };

// The chunk passes read and write the flag bytes four at a time where they can (a thread's chunk of 16 tokens
// is 4 words): each byte's bit of a flag, and their count.
constexpr uint32_t kRolespanEveryByte = 0x01010101u;
static_assert(kRolespanKeep == kRolespanAlwaysMasked << 1, "phase kWrite moves the always-masked bits onto keep");
FC_HD uint32_t rolespan_flag_bits(uint32_t word, uint32_t flag) { return word & (flag * kRolespanEveryByte); }
FC_HD int32_t rolespan_specials_in(uint32_t word) {  // 0-4: the bytes' special bits summed in the top byte
  return static_cast<int32_t>((rolespan_flag_bits(word, kRolespanSpecial) * kRolespanEveryByte) >> 24);
}

// The summary of a lane's turn starts (rolespan_scan.h RolespanSummary in 32 bits: rows of at most
// kRolespanStageTokens tokens).
struct RolespanCompactSummary {
  int32_t turns;      // turn starts
  int32_t max_begin;  // the latest begin of a learned-role turn (turns="last"), -1 for none
  int16_t has;        // any turn start
  int16_t role;       // the last turn start's learned-role flag
};

FC_HD RolespanCompactSummary rolespan_compact_combine(const RolespanCompactSummary& a,
                                                      const RolespanCompactSummary& b) {
  return RolespanCompactSummary{a.turns + b.turns, a.max_begin > b.max_begin ? a.max_begin : b.max_begin,
                                static_cast<int16_t>(a.has | b.has), b.has ? b.role : a.role};
}

// A staged row (ids in shared memory, unpadded: only the strided passes read them in bulk).
struct RolespanCompactRow {
  const int64_t* ids;
  int64_t n;
  FC_HD int64_t operator[](int64_t i) const { return ids[i]; }
};

struct RolespanCompactThread {
  RolespanThread scan;     // the row's geometry (phases 0-2), and the chunk scan's registers for a row not staged
  bool compact = false;    // the row is staged and runs here
  int32_t m = 0;           // specials in the row
  int32_t busy = 0;        // lanes with specials
  int32_t first = 0;       // index of the chunk's first special
  int32_t k0 = 0, k1 = 0;  // the lane's specials
  int64_t previous = -1;   // the position of the special before them (-1: none)
  int32_t q = 0;           // control state before the lane's first special's plain run
};

template <typename T>
struct RolespanCompactBody {
  RolespanRowsBody<T> scan;  // its launch (`a`, with stage 0: the rows it takes run from global memory)
  int64_t stage = 0;         // rows of up to `stage` tokens run here (rolespan_compact_stage_tokens)

  using Thread = RolespanCompactThread;
  static constexpr int kGroup = 16, kGroups = kRolespanThreads / kGroup;  // the two-level block scans
  static constexpr int kStage = 3, kCount = 4, kCountFold = 5, kCompact = 6, kMap = 7, kMapScan = 8,
                       kReplay = kMapScan + kRolespanRounds, kSummaryFold = kReplay + 1, kResolve = kSummaryFold + 1,
                       kWrite = kResolve + 1, kFlush = kWrite + 1, kLearnedFold = kFlush + 1, kLast = kLearnedFold + 1;

  FC_HD static constexpr int threads() { return kRolespanThreads; }
  FC_HD static constexpr int phases() {
    return kLast + 1 > RolespanRowsBody<T>::phases() ? kLast + 1 : RolespanRowsBody<T>::phases();
  }

  // Shared memory of a staged row, after the id hash (phases 0-2 use the chunk scan's layout: the hash, then
  // the mask statistics): the ids, a flag byte per token, the specials (one uint32 each), the map buffers
  // (later the learned counts), then the summaries (earlier the chunk counts).
  FC_HD static int64_t ids_offset() { return kRolespanHashWords * 4; }
  FC_HD static int64_t flags_offset(int64_t stage) { return ids_offset() + 8 * stage; }
  FC_HD static int64_t specials_offset(int64_t stage) { return (flags_offset(stage) + stage + 3) / 4 * 4; }
  FC_HD static int64_t maps_offset(int64_t stage) { return (specials_offset(stage) + 4 * stage + 7) / 8 * 8; }
  FC_HD static int64_t maps_bytes(int32_t states) {
    const int64_t maps = 2 * kRolespanThreads * static_cast<int64_t>(states);
    const int64_t learned = 8 * (kRolespanThreads + kRolespanLearnedFolds);
    return ((maps > learned ? maps : learned) + 7) / 8 * 8;
  }
  FC_HD static int64_t summaries_offset(int32_t states, int64_t stage) {
    return maps_offset(stage) + maps_bytes(states);
  }
  FC_HD static int64_t compact_bytes(int32_t states, int64_t stage) {
    const int64_t summaries = static_cast<int64_t>(sizeof(RolespanCompactSummary)) * (kRolespanThreads + kGroups);
    const int64_t counts = 4 * (kRolespanThreads + kGroups);
    return summaries_offset(states, stage) + (summaries > counts ? summaries : counts);
  }
  FC_HD int64_t shared_bytes() const {
    const int64_t own = compact_bytes(scan.a.spec.states(), stage), other = scan.shared_bytes();
    return own > other ? own : other;
  }
  FC_HD static uint32_t* hash(unsigned char* sh) { return reinterpret_cast<uint32_t*>(sh); }
  FC_HD static int64_t* ids(unsigned char* sh) { return reinterpret_cast<int64_t*>(sh + ids_offset()); }
  FC_HD uint8_t* flags(unsigned char* sh) const { return sh + flags_offset(stage); }
  FC_HD uint32_t* specials(unsigned char* sh) const { return reinterpret_cast<uint32_t*>(sh + specials_offset(stage)); }
  FC_HD uint8_t* maps(unsigned char* sh, int buf) const {
    return sh + maps_offset(stage) + buf * kRolespanThreads * scan.a.spec.states();
  }
  // [kRolespanThreads] per-thread learned counts, then their folds (in the map buffers, free by then).
  FC_HD int64_t* learned_partials(unsigned char* sh) const {
    return reinterpret_cast<int64_t*>(sh + maps_offset(stage));
  }
  // [kRolespanThreads] per-lane summaries, then [kGroups] group totals.
  FC_HD RolespanCompactSummary* summaries(unsigned char* sh) const {
    return reinterpret_cast<RolespanCompactSummary*>(sh + summaries_offset(scan.a.spec.states(), stage));
  }
  // [kRolespanThreads] per-chunk special counts, then [kGroups] group totals (in the summaries, free by then).
  FC_HD int32_t* counts(unsigned char* sh) const { return reinterpret_cast<int32_t*>(summaries(sh)); }

  FC_HD RolespanCompactRow row(unsigned char* sh, const Thread& th) const {
    return RolespanCompactRow{ids(sh), th.scan.n};
  }

  // HS rounds of the map scan that run for `busy` lanes: those whose offset is below it.
  FC_HD static int map_rounds(int32_t busy) {
    int rounds = 0;
    while (rounds < kRolespanRounds && (1 << rounds) < busy) ++rounds;
    return rounds;
  }

  FC_HD void run(int phase, int64_t r, int t, Thread& th, unsigned char* sh) const {
    if (phase < kStage) {  // the id hash, the mask statistics and the row's geometry, as the chunk scan does them
      scan.run(phase, r, t, th.scan, sh);
      if (phase == kStage - 1) th.compact = th.scan.n <= stage;
      return;
    }
    if (!th.compact) {  // a row longer than the staging area: the chunk scan from global memory
      if (phase < RolespanRowsBody<T>::phases()) scan.run(phase, r, t, th.scan, sh);
      return;
    }
    const RolespanSpecView s = scan.a.spec.view();
    const int32_t depth = scan.a.spec.depth;
    if (phase == kStage) {
      stage_row(r, t, th, sh);
    } else if (phase == kCount) {
      const uint8_t* f = flags(sh);
      const int64_t c0 = th.scan.c0, c1 = th.scan.c1;
      int32_t n = 0;
      int64_t i = c0;
      for (; i < c1 && (i & 3); ++i) n += f[i] & kRolespanSpecial;
      for (; i + 4 <= c1; i += 4) n += rolespan_specials_in(*reinterpret_cast<const uint32_t*>(f + i));
      for (; i < c1; ++i) n += f[i] & kRolespanSpecial;
      counts(sh)[t] = n;
    } else if (phase == kCountFold) {
      if (t < kGroups) {
        int32_t* c = counts(sh);
        int32_t sum = 0;
        for (int j = 0; j < kGroup; ++j) sum += c[t * kGroup + j];
        c[kRolespanThreads + t] = sum;
      }
    } else if (phase == kCompact) {
      compact_specials(t, th, sh);
    } else if (phase == kMap) {
      if (t < th.busy) {
        // Read here: in phase kReplay the lane before rewrites that entry (its bits, not its position).
        th.previous = th.k0 > 0 ? rolespan_special::pos(specials(sh)[th.k0 - 1]) : -1;
        build_map(s, depth, t, th, sh);
      }
    } else if (phase < kReplay) {
      scan_maps(phase - kMapScan, t, th, sh);
    } else if (phase == kReplay) {
      replay(s, depth, t, th, sh);
    } else if (phase == kSummaryFold) {
      if (t < kGroups) {
        RolespanCompactSummary* sum = summaries(sh);
        RolespanCompactSummary v = sum[t * kGroup];
        for (int j = 1; j < kGroup; ++j) v = rolespan_compact_combine(v, sum[t * kGroup + j]);
        sum[kRolespanThreads + t] = v;
      }
    } else if (phase == kResolve) {
      if (t < th.busy) resolve(s, depth, t, th, sh);
    } else if (phase == kWrite) {
      write_flags(s, depth, th, sh);
    } else if (phase == kFlush) {
      flush(t, th, sh);
    } else if (phase == kLearnedFold) {
      if (scan.a.num_learned && t < kRolespanLearnedFolds) rolespan_fold_learned(learned_partials(sh), t);
    } else if (phase == kLast && t == 0) {
      rolespan_finish_row(scan.a, r, learned_partials(sh));
    }
  }

  // Phase kStage: every kRolespanThreads-th token per thread (coalesced): its id into shared memory and its
  // flag byte. The hash filter passes almost every token with one shared-memory load.
  FC_HD void stage_row(int64_t r, int t, const Thread& th, unsigned char* sh) const {
    const RolespanSpecView s = scan.a.spec.view();
    const RowIn<T> in = scan.row_in(r, th.scan);
    const uint32_t* h = hash(sh);
    int64_t* staged = ids(sh);
    uint8_t* f = flags(sh);
    for (int64_t i = t; i < th.scan.n; i += kRolespanThreads) {
      const int64_t tok = in[i];
      staged[i] = tok;
      uint8_t flag = 0;
      if (rolespan_maybe_special(h, tok)) {
        if (rolespan_state_trigger(s, tok)) flag |= kRolespanSpecial;
        if (rolespan_in_set(tok, s.always_masked, s.n_always_masked)) flag |= kRolespanAlwaysMasked;
      }
      f[i] = flag;
    }
  }

  // Phase kCompact: the chunk's first special index (the counts before it), the row's number of specials, the
  // lanes' shares of them, and the chunk's specials' positions into the list.
  FC_HD void compact_specials(int t, Thread& th, unsigned char* sh) const {
    const int32_t* c = counts(sh);
    const int group = t / kGroup;
    int32_t before = 0, m = 0;
    for (int g = 0; g < kGroups; ++g) {
      const int32_t total = c[kRolespanThreads + g];
      if (g < group) before += total;
      m += total;
    }
    for (int j = group * kGroup; j < t; ++j) before += c[j];
    th.first = before;
    th.m = m;
    const int32_t per = (m + kRolespanThreads - 1) / kRolespanThreads;
    th.busy = per > 0 ? (m + per - 1) / per : 0;
    th.k0 = per * t < m ? per * t : m;
    th.k1 = th.k0 + per < m ? th.k0 + per : m;
    const uint8_t* f = flags(sh);
    uint32_t* list = specials(sh);
    int32_t k = before;
    const int64_t c1 = th.scan.c1;
    for (int64_t i = th.scan.c0; i < c1; ++i) {
      // Four plain tokens at once where the chunk holds an aligned word of them.
      if (!(i & 3) && i + 4 <= c1 && !rolespan_specials_in(*reinterpret_cast<const uint32_t*>(f + i))) {
        i += 3;
        continue;
      }
      if (f[i] & kRolespanSpecial) list[k++] = static_cast<uint32_t>(i);
    }
  }

  // The plain tokens before the lane's special k (since the previous special) move d on by their number. The
  // lane's first special's predecessor comes from th.previous: another lane's entry.
  FC_HD static int64_t gap_before(const uint32_t* list, int32_t k, const Thread& th) {
    const int64_t previous = k > th.k0 ? rolespan_special::pos(list[k - 1]) : th.previous;
    return rolespan_special::pos(list[k]) - previous - 1;
  }

  // Phase kMap (lanes with specials): the composition of the lane's specials' maps, each one the plain run
  // before the special (d moves on) then the special's step, tabulated for every state from one set of
  // state-independent tests (rolespan_facts).
  FC_HD void build_map(const RolespanSpecView& s, int32_t depth, int t, const Thread& th, unsigned char* sh) const {
    const int32_t nq = scan.a.spec.states();
    const RolespanCompactRow in = row(sh, th);
    const uint32_t* list = specials(sh);
    uint8_t* m = maps(sh, 0) + t * nq;
    uint8_t* table = maps(sh, 1) + t * nq;  // this lane's slot of the second buffer, unused until the scan
    for (int32_t k = th.k0; k < th.k1; ++k) {
      const int64_t i = rolespan_special::pos(list[k]), gap = gap_before(list, k, th);
      const RolespanFacts f = rolespan_facts(s, in, i);
      uint8_t* out = k == th.k0 ? m : table;  // the first map is the lane's map; later ones compose into it
      for (int32_t state = 0, q = 0; state < 3; ++state) {
        for (int32_t d = 0; d <= depth; ++d, ++q) {
          const int64_t moved = d + gap;
          const int32_t from = moved < depth ? static_cast<int32_t>(moved) : depth;
          out[q] = static_cast<uint8_t>(rolespan_step_from(s, depth, in, i, state, from, f).next);
        }
      }
      if (k != th.k0) {
        for (int32_t q = 0; q < nq; ++q) m[q] = table[m[q]];
      }
    }
  }

  // Phases kMapScan + round: an inclusive Hillis-Steele scan of the busy lanes' maps (earlier lanes first);
  // rounds whose offset reaches past the busy lanes do nothing (the same for every thread of the block).
  FC_HD void scan_maps(int round, int t, const Thread& th, unsigned char* sh) const {
    const int off = 1 << round;
    if (off >= th.busy || t >= th.busy) return;
    const int32_t nq = scan.a.spec.states();
    const uint8_t* src = maps(sh, round & 1) + t * nq;
    uint8_t* dst = maps(sh, (round + 1) & 1) + t * nq;
    if (t >= off) {
      const uint8_t* earlier = src - off * nq;
      for (int32_t q = 0; q < nq; ++q) dst[q] = src[earlier[q]];
    } else {
      for (int32_t q = 0; q < nq; ++q) dst[q] = src[q];
    }
  }

  // Phase kReplay: each busy lane steps its specials from its start state and records what each did; every
  // lane stores the summary of its turn starts (none for idle lanes).
  FC_HD void replay(const RolespanSpecView& s, int32_t depth, int t, Thread& th, unsigned char* sh) const {
    namespace sp = rolespan_special;
    RolespanCompactSummary own{0, -1, 0, 0};
    if (t < th.busy) {
      const int32_t nq = scan.a.spec.states();
      const uint8_t* incl = maps(sh, map_rounds(th.busy) & 1);
      th.q = t == 0 ? 0 : incl[(t - 1) * nq + 0];  // q0 = (outside, d = 0) = 0
      const RolespanCompactRow in = row(sh, th);
      uint32_t* list = specials(sh);
      int32_t q = th.q;
      for (int32_t k = th.k0; k < th.k1; ++k) {
        const int64_t i = sp::pos(list[k]), gap = gap_before(list, k, th);
        const int32_t state = q / (depth + 1);
        const int64_t moved = q % (depth + 1) + gap;
        const int32_t d = moved < depth ? static_cast<int32_t>(moved) : depth;
        const RolespanStep o = rolespan_step_from(s, depth, in, i, state, d, rolespan_facts(s, in, i));
        q = o.next;
        uint32_t e = static_cast<uint32_t>(i);
        if (o.mask_from >= 0) e |= static_cast<uint32_t>(i - o.mask_from) << sp::kMaskShift;
        if (o.turn) {
          e |= sp::kTurn | static_cast<uint32_t>(i - o.begin) << sp::kBeginShift;
          if (o.learned_role) e |= sp::kLearnedRole;
          ++own.turns;
          own.has = 1;
          own.role = o.learned_role;
          if (o.learned_role && s.turns == kTurnsLast && o.begin > own.max_begin)
            own.max_begin = static_cast<int32_t>(o.begin);
        }
        if (o.ends) e |= sp::kEnds;
        e |= static_cast<uint32_t>(o.kind) << sp::kKindShift;
        if (o.next / (depth + 1) == kRolespanContent) e |= sp::kContentAfter;
        list[k] = e;
      }
    }
    summaries(sh)[t] = own;
  }

  // Phase kResolve (busy lanes): the turns before the lane (the groups before its group, then its group's
  // lanes before it) give its turn index and `learned` at its start; then each special's own label and
  // whether the plain run after it is learned, in place of its raw bits.
  FC_HD void resolve(const RolespanSpecView& s, int32_t depth, int t, const Thread& th, unsigned char* sh) const {
    namespace sp = rolespan_special;
    const RolespanCompactSummary* sum = summaries(sh);
    RolespanCompactSummary before{0, -1, 0, 0};
    for (int g = 0; g < t / kGroup; ++g) before = rolespan_compact_combine(before, sum[kRolespanThreads + g]);
    for (int j = t / kGroup * kGroup; j < t; ++j) before = rolespan_compact_combine(before, sum[j]);
    auto selected = [&](bool learned_role, int64_t index) {
      return learned_role && (s.turns != kTurnsFromStartIndex || index >= th.scan.start);
    };
    int64_t turn = before.turns;  // index of the next turn start
    bool learned = th.q / (depth + 1) == kRolespanContent && before.has && selected(before.role != 0, turn - 1);
    const int64_t* staged = ids(sh);
    uint32_t* list = specials(sh);
    for (int32_t k = th.k0; k < th.k1; ++k) {
      const uint32_t e = list[k];
      uint32_t resolved = e & ~sp::kRawBits;
      if (e & sp::kTurn) {
        learned = selected((e & sp::kLearnedRole) != 0, turn++);
        if (learned && s.learn_header && s.mode == kModeRoles) resolved |= sp::kHeaderRewrite;
      }
      const auto kind = static_cast<RolespanLabelKind>((e >> sp::kKindShift) & sp::kKindBits);
      if (rolespan_own_keep(s, kind, learned, staged[sp::pos(e)])) resolved |= sp::kOwnKeep;
      if (e & sp::kEnds) learned = false;
      if ((e & sp::kContentAfter) && learned) resolved |= sp::kRunKeep;
      list[k] = resolved;
    }
  }

  // Phase kWrite: the keep flags of the thread's chunk, in rolespan_fill_row's order (see the top of this file).
  FC_HD void write_flags(const RolespanSpecView& s, int32_t depth, const Thread& th, unsigned char* sh) const {
    namespace sp = rolespan_special;
    uint8_t* f = flags(sh);
    const uint32_t* list = specials(sh);
    const int64_t c0 = th.scan.c0, c1 = th.scan.c1;
    if (c0 >= c1) return;
    // A special's rewrites reach back over [lo, i) within the chunk: its marker masked, or its learned header.
    auto rewrite = [&](uint32_t e, int64_t i, int64_t hi) {
      const int64_t back = sp::mask_back(e);
      for (int64_t j = i - back > c0 ? i - back : c0; j < hi; ++j) f[j] &= static_cast<uint8_t>(~kRolespanKeep);
      if (e & sp::kHeaderRewrite) {
        const int64_t begin = i - sp::begin_back(e);
        for (int64_t j = begin > c0 ? begin : c0; j < hi; ++j) {
          if (!(f[j] & kRolespanAlwaysMasked)) f[j] |= kRolespanKeep;
        }
      }
    };
    int32_t k = th.first;
    bool run = k > 0 && (list[k - 1] & sp::kRunKeep);
    int64_t next = k < th.m ? sp::pos(list[k]) : th.scan.n;  // the next special's position
    auto token = [&](int64_t i) {
      if (i != next) {  // a plain token: a load, a compare and a store
        const uint8_t flag = f[i];
        f[i] = run && !(flag & kRolespanAlwaysMasked) ? flag | kRolespanKeep : flag;
        return;
      }
      const uint32_t e = list[k];
      rewrite(e, i, i);
      f[i] = (e & sp::kOwnKeep) ? f[i] | kRolespanKeep : f[i];
      run = (e & sp::kRunKeep) != 0;
      ++k;
      next = k < th.m ? sp::pos(list[k]) : th.scan.n;
    };
    int64_t i = c0;
    for (; i < c1 && (i & 3); ++i) token(i);
    for (; i + 4 <= c1; i += 4) {
      if (next < i + 4) {  // a special among the four
        for (int64_t j = i; j < i + 4; ++j) token(j);
        continue;
      }
      // Four plain tokens: keep where not always masked, in a learned run (the always-masked bit moved onto
      // the keep bit's place).
      uint32_t* w = reinterpret_cast<uint32_t*>(f + i);
      if (run) *w |= rolespan_flag_bits(~*w, kRolespanAlwaysMasked) << 1;
    }
    for (; i < c1; ++i) token(i);
    // Rewrites from past the chunk reach back at most the longest marker, or a learned header
    // (begin = i - d - |opener|).
    const int64_t reach = depth + (s.n_opener > s.n_closer ? s.n_opener : s.n_closer) + 1;
    for (; k < th.m; ++k) {
      const int64_t i = sp::pos(list[k]);
      if (i >= c1 + reach) break;
      rewrite(list[k], i, c1);
    }
    // The first token and, for turns="last", everything before the last learned turn.
    int64_t end = 1;
    if (s.turns == kTurnsLast) {
      int64_t last_begin = -1;
      const RolespanCompactSummary* sum = summaries(sh) + kRolespanThreads;
      for (int g = 0; g < kGroups; ++g) last_begin = sum[g].max_begin > last_begin ? sum[g].max_begin : last_begin;
      end = last_begin > end ? last_begin : end;
    }
    for (int64_t j = c0; j < (c1 < end ? c1 : end); ++j) f[j] &= static_cast<uint8_t>(~kRolespanKeep);
  }

  // Phase kFlush: every output column of the row (rolespan_flush_columns), labels from the keep flags.
  FC_HD void flush(int t, const Thread& th, unsigned char* sh) const {
    const int64_t* staged = ids(sh);
    const uint8_t* f = flags(sh);
    const int64_t count = rolespan_flush_columns(
        scan.a, th.scan, t, [&](int64_t j) { return staged[j]; },
        [&](int64_t j) { return (f[j] & kRolespanKeep) != 0; });
    if (scan.a.num_learned) learned_partials(sh)[t] = count;
  }
};

// The tokens a compaction launch stages, with the spec's maps (rolespan_fit_stage); 0 when even the shortest
// row is longer: every row then runs the chunk scan from global memory.
FC_HD int64_t rolespan_compact_stage_tokens(const RolespanInlineSpec& spec, int64_t shortest_row, int64_t longest_row,
                                            int64_t limit) {
  return rolespan_fit_stage(shortest_row, longest_row, limit, [&](int64_t stage) {
    return RolespanCompactBody<int64_t>::compact_bytes(spec.states(), stage);
  });
}

template <typename L, typename T>
void launch_rolespan_rows(L& l, const RolespanCompactBody<T>& body) {
  if (body.scan.a.rows > 0) l.blocks(body, body.scan.a.rows);
}

}  // namespace fastcollate
