// Per-element rules for one row (codebook k) of one audio segment, shared by the CPU fill and CUDA kernels.
//
// With the stream transform, a segment of L codes becomes BOS, codes, EOS; with the delay pattern, codebook
// k is then shifted right by k columns, BOS filling the front and EOS (the pad) the back, so every row of a
// K-codebook segment has width L + 2 + K - 1. Labels follow the same layout, with -100 for the stream BOS
// and every delay fill, and the stream EOS learned.
#pragma once

#include <cstdint>

#include "common/host_device.h"
#include "common/labels.h"

namespace fastcollate {

struct AudioStreamParams {
  int64_t bos = 0;
  int64_t eos = 0;
  bool transform = true;  // not disable_audio_codes_transform
  bool delay = false;     // use_delay_pattern (only applies with the transform)
};

struct AudioRow {
  int64_t code_begin;  // first column holding a code
  int64_t code_end;    // one past the last code column
  int64_t width;       // columns of the whole segment
};

FC_HD int64_t audio_segment_width(int64_t length, int64_t num_codebooks, const AudioStreamParams& p) {
  if (!p.transform) return length;
  return length + 2 + (p.delay && num_codebooks > 0 ? num_codebooks - 1 : 0);
}

FC_HD AudioRow audio_row(int64_t k, int64_t length, int64_t num_codebooks, const AudioStreamParams& p) {
  const int64_t begin = p.transform ? 1 + (p.delay ? k : 0) : 0;
  return AudioRow{begin, begin + length, audio_segment_width(length, num_codebooks, p)};
}

// Value of a non-code column of the ids row.
FC_HD int64_t stream_id_fill(int64_t col, const AudioRow& row, const AudioStreamParams& p) {
  return col < row.code_begin ? p.bos : p.eos;
}

// Value of a non-code column of the labels row: only the stream EOS right after the codes is learned.
FC_HD int64_t stream_label_fill(int64_t col, const AudioRow& row, const AudioStreamParams& p) {
  return (p.transform && col == row.code_end) ? p.eos : kIgnoreIndex;
}

// Text labels: <|AUDIO_OUT|> is masked when asked (its audio is learned through label_audio_ids instead).
FC_HD int64_t text_label(int64_t token, int64_t label, int64_t audio_out_token_id, bool mask_audio_out) {
  return (mask_audio_out && token == audio_out_token_id) ? kIgnoreIndex : label;
}

// First column of a row of length n in a padded row of width w.
FC_HD int64_t padded_row_offset(int64_t n, int64_t width, bool pad_left) { return pad_left ? width - n : 0; }

}  // namespace fastcollate
