// Per-element rules of the Higgs Audio collation, shared by the CPU fill and CUDA kernels.
//
// The audio streams are the ragged delay pattern of csrc/delay/delay_layout.h (one definition of the layout):
// with the stream transform, a segment of L codes becomes BOS, codes, EOS; with the delay pattern, codebook
// k is then shifted right by k columns, BOS filling the front and EOS (the pad) the back, so every row of a
// K-codebook segment has width L + 2 + K - 1. Labels follow the same layout, with -100 for the stream BOS
// and every delay fill, and the stream EOS learned. Without the transform a segment is its codes as they are.
#pragma once

#include <cstdint>

#include "common/host_device.h"
#include "common/labels.h"
#include "delay/delay_layout.h"

namespace fastcollate {

struct AudioStreamParams {
  int64_t bos = 0;
  int64_t eos = 0;
  bool transform = true;  // not disable_audio_codes_transform
  bool delay = false;     // use_delay_pattern (only applies with the transform)
};

// Codebook k's delay: upstream's delays are range(K) (build_delay_pattern_mask).
FC_HD int64_t audio_delay(int64_t k, const AudioStreamParams& p) { return p.transform && p.delay ? k : 0; }

FC_HD int64_t audio_segment_width(int64_t length, int64_t num_codebooks, const AudioStreamParams& p) {
  // Upstream's width L + 2 + K - 1 also for K = 0 (no codebook rows, but the batch's columns and segment
  // starts count it): kept for bit-equality, unlike the ops' (K, T) -> (K, T) for K = 0.
  if (num_codebooks == 0 && p.transform && p.delay) return length + 1;
  const int64_t max_delay = num_codebooks > 0 ? audio_delay(num_codebooks - 1, p) : 0;
  return delayed_width(length, max_delay, p.transform, true);
}

FC_HD DelayRow audio_row(int64_t k, int64_t length, int64_t num_codebooks, const AudioStreamParams& p) {
  return delay_row(length, audio_delay(k, p), p.transform, audio_segment_width(length, num_codebooks, p));
}

// Text labels: <|AUDIO_OUT|> is masked when asked (its audio is learned through label_audio_ids instead).
FC_HD int64_t text_label(int64_t token, int64_t label, int64_t audio_out_token_id, bool mask_audio_out) {
  return (mask_audio_out && token == audio_out_token_id) ? kIgnoreIndex : label;
}

// First column of a row of length n in a padded row of width w.
FC_HD int64_t padded_row_offset(int64_t n, int64_t width, bool pad_left) { return pad_left ? width - n : 0; }

}  // namespace fastcollate
