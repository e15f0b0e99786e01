#include "higgs_hf/code_frames.h"

#include <atomic>

#include "common/labels.h"
#include "higgs_hf/higgs_hf_rules.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FC_CODE_FRAMES_AVX2 1
#include <immintrin.h>
#endif

namespace fastcollate {
namespace {

template <typename T>
FramesWritten scalar(const T* first, const CodeFrames& f, int64_t* ids, int64_t* labels) {
  const int64_t K = f.codebooks;
  int64_t learned = 0, codes_or = 0;
  for (int64_t t = 0; t < f.frames; ++t) {
    const T* code = first + t * f.col_stride;
    int64_t* id_row = ids + t * K;
    int64_t* label_row = labels + t * K;
    for (int64_t k = 0; k < K; ++k) {
      id_row[k] = static_cast<int64_t>(code[k * f.step]);
      codes_or |= id_row[k];
    }
    switch (f.labels) {
      case CodeLabels::kIgnore:
        for (int64_t k = 0; k < K; ++k) label_row[k] = kIgnoreIndex;
        break;
      case CodeLabels::kCopy:
        for (int64_t k = 0; k < K; ++k) {
          label_row[k] = id_row[k];
          learned += label_row[k] != kIgnoreIndex;  // a code of -100 is no target, as the twin counts it
        }
        break;
      case CodeLabels::kProcessor:
        for (int64_t k = 0; k < K; ++k) {
          label_row[k] = hf_processor_audio_label(id_row[k], f.stream_bos, f.stream_eos);
          learned += label_row[k] != kIgnoreIndex;
        }
        break;
    }
  }
  return {learned, codes_or};
}

#ifdef FC_CODE_FRAMES_AVX2

// Four consecutive codes of one codebook, widened to int64.
__attribute__((target("avx2"))) inline __m256i load4(const int64_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
__attribute__((target("avx2"))) inline __m256i load4(const int32_t* p) {
  return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Codes fetched ahead of the loads, per codebook: the loads otherwise wait on 8-12 rows at once, whose
// lines the hardware prefetchers bring in too late; nearer and farther distances (64, 256) were no better.
constexpr int64_t kPrefetchAhead = 128;

// Unit column stride and K a multiple of 4: blocks of 4 frames x 4 codebooks, loaded one vector per codebook
// (4 frames), transposed in registers to one vector per frame (4 codebooks) and stored with their labels.
// The frames left over (fewer than 4) go through the scalar loop. The label rule is a template argument, so
// the loop holds no per-frame branch on it; the labels that are -100 are counted in a vector (a compare gives
// -1 per such lane) and summed once at the end: one instruction per vector instead of a mask extraction, a
// popcount and an add. The codes are OR-ed into one more vector (FramesWritten::codes_or), one instruction per
// vector too.

template <CodeLabels kLabels>
__attribute__((target("avx2"))) inline __m256i label_of(__m256i ids, __m256i bos, __m256i eos, __m256i ignore) {
  if constexpr (kLabels == CodeLabels::kCopy) {
    return ids;
  } else if constexpr (kLabels == CodeLabels::kIgnore) {
    return ignore;
  } else {
    const __m256i m = _mm256_or_si256(_mm256_cmpeq_epi64(ids, bos), _mm256_cmpeq_epi64(ids, eos));
    return _mm256_blendv_epi8(ids, ignore, m);
  }
}

template <CodeLabels kLabels, typename T>
__attribute__((target("avx2"))) FramesWritten avx2_blocks(const T* first, const CodeFrames& f, int64_t* ids,
                                                          int64_t* labels) {
  const int64_t K = f.codebooks, blocked = f.frames / 4 * 4, step = f.step;
  const __m256i bos = _mm256_set1_epi64x(f.stream_bos), eos = _mm256_set1_epi64x(f.stream_eos);
  const __m256i ignore = _mm256_set1_epi64x(kIgnoreIndex);
  __m256i ignored = _mm256_setzero_si256();  // minus the count of -100 labels, per lane
  __m256i codes_or = _mm256_setzero_si256();
  for (int64_t t = 0; t < blocked; t += 4) {
    for (int64_t k = 0; k < K; k += 4) {
      const T* code = first + t + k * step;
      if ((t & 7) == 0) {  // every other block: a 64-byte line of int64 codes (half of one for int32)
        for (int j = 0; j < 4; ++j) {
          _mm_prefetch(reinterpret_cast<const char*>(code + j * step + kPrefetchAhead), _MM_HINT_T0);
        }
      }
      const __m256i r0 = load4(code), r1 = load4(code + step), r2 = load4(code + 2 * step), r3 = load4(code + 3 * step);
      codes_or = _mm256_or_si256(codes_or, _mm256_or_si256(_mm256_or_si256(r0, r1), _mm256_or_si256(r2, r3)));
      const __m256i a = _mm256_unpacklo_epi64(r0, r1), b = _mm256_unpackhi_epi64(r0, r1);
      const __m256i c = _mm256_unpacklo_epi64(r2, r3), d = _mm256_unpackhi_epi64(r2, r3);
      const __m256i frame[4] = {_mm256_permute2x128_si256(a, c, 0x20), _mm256_permute2x128_si256(b, d, 0x20),
                                _mm256_permute2x128_si256(a, c, 0x31), _mm256_permute2x128_si256(b, d, 0x31)};
      for (int j = 0; j < 4; ++j) {
        const int64_t at = (t + j) * K + k;
        const __m256i label = label_of<kLabels>(frame[j], bos, eos, ignore);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(ids + at), frame[j]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(labels + at), label);
        if constexpr (kLabels != CodeLabels::kIgnore) {
          ignored = _mm256_add_epi64(ignored, _mm256_cmpeq_epi64(label, ignore));
        }
      }
    }
  }
  alignas(32) int64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), ignored);
  const int64_t ignored_count = -(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
  const int64_t learned = kLabels == CodeLabels::kIgnore ? 0 : blocked * K - ignored_count;
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), codes_or);
  CodeFrames rest = f;
  rest.frames = f.frames - blocked;
  const FramesWritten tail = scalar(first + blocked * f.col_stride, rest, ids + blocked * K, labels + blocked * K);
  return {learned + tail.learned, lanes[0] | lanes[1] | lanes[2] | lanes[3] | tail.codes_or};
}

template <typename T>
FramesWritten avx2(const T* first, const CodeFrames& f, int64_t* ids, int64_t* labels) {
  switch (f.labels) {
    case CodeLabels::kCopy:
      return avx2_blocks<CodeLabels::kCopy>(first, f, ids, labels);
    case CodeLabels::kIgnore:
      return avx2_blocks<CodeLabels::kIgnore>(first, f, ids, labels);
    case CodeLabels::kProcessor:
      break;
  }
  return avx2_blocks<CodeLabels::kProcessor>(first, f, ids, labels);
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

#endif

std::atomic<bool> simd_allowed{true};

template <typename T>
FramesWritten dispatch(const T* first, const CodeFrames& f, int64_t* ids, int64_t* labels) {
#ifdef FC_CODE_FRAMES_AVX2
  if (f.col_stride == 1 && f.codebooks % 4 == 0 && simd_allowed.load(std::memory_order_relaxed) && cpu_has_avx2()) {
    return avx2(first, f, ids, labels);
  }
#endif
  return scalar(first, f, ids, labels);
}

}  // namespace

FramesWritten write_code_frames(const int64_t* first, const CodeFrames& f, int64_t* ids, int64_t* labels) {
  return dispatch(first, f, ids, labels);
}
FramesWritten write_code_frames(const int32_t* first, const CodeFrames& f, int64_t* ids, int64_t* labels) {
  return dispatch(first, f, ids, labels);
}

const char* code_frames_simd() {
#ifdef FC_CODE_FRAMES_AVX2
  if (cpu_has_avx2()) return "avx2";
#endif
  return "none";
}

bool set_code_frames_simd(bool allowed) { return simd_allowed.exchange(allowed); }

}  // namespace fastcollate
