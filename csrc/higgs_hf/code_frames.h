// The middle frames of one clip, where every codebook holds a code: its (K, L) codes transposed into
// (frames, K) rows of audio ids and their labels. This transpose is most of a HiggsAudioV2Collator batch's
// fill (8 strided reads per frame), so it has an AVX2 path, chosen at run time (one wheel for every x86-64
// CPU), with the scalar loop as its twin: the same cells, the same labels, the same count.
#pragma once

#include <cstdint>

namespace fastcollate {

// How the labels of code cells are made.
enum class CodeLabels {
  kProcessor,  // the processor's rule (hf_processor_audio_label): -100 on the stream BOS or EOS, else the id
  kCopy,       // the id (label_mode "correct", a learned clip)
  kIgnore,     // -100 (label_mode "correct", a no-train clip)
};

struct CodeFrames {
  int64_t codebooks = 0;   // K
  int64_t frames = 0;      // how many frames to write
  int64_t step = 0;        // from codebook k's code of a frame to codebook k + 1's: row stride - col stride
  int64_t col_stride = 1;  // from a code to the same codebook's next frame (elements)
  CodeLabels labels = CodeLabels::kProcessor;
  int64_t stream_bos = 0, stream_eos = 0;
};

// What writing some frames saw: how many labels are not -100, and every code read OR-ed together (as int64, a
// negative int32 code sign-extended). The OR tells whether any code has a bit outside a power-of-two codebook
// (x lies in [0, 2^n) iff x & ~(2^n - 1) == 0), so the transpose that reads every code anyway is also the range
// check (higgs_hf_collate.h).
struct FramesWritten {
  int64_t learned = 0;
  int64_t codes_or = 0;
};

// Writes ids[t * K + k] = first[k * step + t * col_stride] and its label for t < frames, k < K. `first` is
// codebook 0's code of the first frame (int32 or int64 codes).
FramesWritten write_code_frames(const int64_t* first, const CodeFrames& f, int64_t* ids, int64_t* labels);
FramesWritten write_code_frames(const int32_t* first, const CodeFrames& f, int64_t* ids, int64_t* labels);

// The SIMD path in use: "avx2", or "none" (another CPU or architecture: the scalar loop).
const char* code_frames_simd();
// Allows or forbids the SIMD path (process-wide; tests run the scalar twin with it off); returns the previous
// setting.
bool set_code_frames_simd(bool allowed);

}  // namespace fastcollate
