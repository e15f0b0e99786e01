// Audio codes of the wrong shape or outside the codebook: the checks both Higgs collators share, and their
// messages (the twin is
// fastcollate/common/code_range.py). A code lies in [0, codebook_size); the first bad one is the first in
// frame order, then codebook order.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/views.h"

namespace fastcollate {

struct CodeLimits {
  int64_t codebook_size = 1024;
  int64_t stream_bos = 1024, stream_eos = 1025;
  bool stream_ids_allowed = false;  // codes given already wrapped (HiggsAudioSampleCollator's
                                    // disable_audio_codes_transform): the stream ids are codes too
};

// A rectangle of a (K, L) code view: codebooks [row_begin, row_end), frames [col_begin, col_end).
struct CodeRegion {
  int64_t row_begin = 0, row_end = 0, col_begin = 0, col_end = 0;
};

// The OR of n contiguous codes; with AVX2 where the CPU has it (chosen at run time, as the code transpose of
// csrc/higgs_hf/code_frames.cpp is): the same loop, vectorized four int64 codes a step instead of two.
template <typename T>
T or_contiguous(const T* p, int64_t n) {
  T acc = 0;
  for (int64_t b = 0; b < n; ++b) acc |= p[b];
  return acc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
template <typename T>
__attribute__((target("avx2"))) T or_contiguous_avx2(const T* p, int64_t n) {
  T acc = 0;
  for (int64_t b = 0; b < n; ++b) acc |= p[b];
  return acc;
}

inline bool code_range_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

// Whether any code of a line has a bit outside `mask` (`mask` = codebook_size - 1, a power of two minus one):
// the codes OR-ed together (a negative code sets the high bits, an int32 one once sign-extended). Exact for a
// power-of-two codebook size: x lies in [0, 2^n) iff x & ~(2^n - 1) == 0.
template <typename T>
bool line_has_bits_outside(const T* line, int64_t n, int64_t stride, int64_t mask) {
  T acc = 0;
  if (stride == 1) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    acc = code_range_has_avx2() ? or_contiguous_avx2(line, n) : or_contiguous(line, n);
#else
    acc = or_contiguous(line, n);
#endif
  } else {
    for (int64_t b = 0; b < n; ++b) acc |= line[b * stride];
  }
  return (static_cast<int64_t>(acc) & ~mask) != 0;
}

// Whether every code of the region is allowed. One pass in memory order without an early exit per code; the
// common case (a power-of-two codebook size, no stream ids allowed) is the OR above, any other a compare per
// code (the unsigned compare catches negative codes too).
template <typename T>
bool codes_in_range(const T* data, const CodesView& c, const CodeRegion& r, const CodeLimits& lim) {
  const bool rows_outer = std::llabs(c.col_stride) <= std::llabs(c.row_stride);
  const int64_t outer_begin = rows_outer ? r.row_begin : r.col_begin, outer_end = rows_outer ? r.row_end : r.col_end;
  const int64_t inner_begin = rows_outer ? r.col_begin : r.row_begin, inner_end = rows_outer ? r.col_end : r.row_end;
  const int64_t outer_stride = rows_outer ? c.row_stride : c.col_stride;
  const int64_t inner_stride = rows_outer ? c.col_stride : c.row_stride;
  const int64_t n = inner_end - inner_begin;
  if (n <= 0) return true;
  const int64_t size = lim.codebook_size;
  if (!lim.stream_ids_allowed && (size & (size - 1)) == 0) {
    for (int64_t a = outer_begin; a < outer_end; ++a) {
      if (line_has_bits_outside(data + a * outer_stride + inner_begin * inner_stride, n, inner_stride, size - 1)) {
        return false;
      }
    }
    return true;
  }
  const uint64_t limit = static_cast<uint64_t>(size);
  const int64_t a_id = lim.stream_ids_allowed ? lim.stream_bos : 0;  // 0 is a code anyway: nothing extra allowed
  const int64_t b_id = lim.stream_ids_allowed ? lim.stream_eos : 0;
  uint8_t bad = 0;
  for (int64_t a = outer_begin; a < outer_end; ++a) {
    const T* line = data + a * outer_stride + inner_begin * inner_stride;
    for (int64_t b = 0; b < n; ++b) {
      const int64_t code = static_cast<int64_t>(line[b * inner_stride]);
      bad |= (static_cast<uint64_t>(code) >= limit) & (code != a_id) & (code != b_id);
    }
  }
  return bad == 0;
}

inline bool code_allowed(int64_t code, const CodeLimits& lim) {
  return (code >= 0 && code < lim.codebook_size) ||
         (lim.stream_ids_allowed && (code == lim.stream_bos || code == lim.stream_eos));
}

// The problem text of the first bad code of the region (code_range.py's code_range_problem), or "" when every
// code is allowed. `where` follows the codebook in the message (e.g. " of audio segment 1").
inline std::string code_range_problem(const CodesView& c, const CodeRegion& r, const CodeLimits& lim,
                                      const std::string& where = "") {
  const bool ok = c.type == ElemType::kInt64 ? codes_in_range(static_cast<const int64_t*>(c.data), c, r, lim)
                                             : codes_in_range(static_cast<const int32_t*>(c.data), c, r, lim);
  if (ok) return "";
  for (int64_t t = r.col_begin; t < r.col_end; ++t) {
    for (int64_t k = r.row_begin; k < r.row_end; ++k) {
      const int64_t code = c.at(k, t);
      if (code_allowed(code, lim)) continue;
      const std::string n = std::to_string(lim.codebook_size);
      std::string problem = "holds the code " + std::to_string(code) + " at frame " + std::to_string(t) +
                            ", codebook " + std::to_string(k) + where + "; codes lie in [0, " + n +
                            ") (codebook_size=" + n + ")";
      if (lim.stream_ids_allowed) {
        problem += " or are the stream BOS (" + std::to_string(lim.stream_bos) + ") or EOS (" +
                   std::to_string(lim.stream_eos) + "), as disable_audio_codes_transform=True passes them through";
      }
      problem += ".";
      if (code == lim.stream_bos || code == lim.stream_eos) {
        problem += " " + std::to_string(code) + " is the stream " + (code == lim.stream_bos ? "BOS" : "EOS") +
                   ", which the collator adds itself: give the codec's codes only.";
      }
      return problem;
    }
  }
  return "";
}

// Codes whose K is not the batch's `want` (`source` says why it is expected): their shape, and the transpose
// where (L, K) fits; else, with an `option` name, the option to pass (code_range.py's wrong_codebooks).
inline std::string wrong_codebooks(const CodesView& c, int64_t want, const std::string& source,
                                   const std::string& subject = "a clip", const std::string& option = "") {
  const std::string k = std::to_string(c.rows);
  std::string problem = "has shape (" + k + ", " + std::to_string(c.cols) + "), " + k + " codebooks, " + source + "; " +
                        subject + " is (K, L): K codebooks by L frames.";
  if (c.cols == want) return problem + " It looks like (L, K): pass it transposed (codes.T).";
  if (!option.empty()) return problem + " If the codec has " + k + " codebooks, pass " + option + "=" + k + ".";
  return problem + " Every clip of a batch has the same number of codebooks.";
}

}  // namespace fastcollate
