// The Higgs Audio batch assembled by element bodies (csrc/runtime/grid.h) from a staging buffer: what
// backend="cuda" runs on the device (csrc/higgs_boson/higgs_boson.cu) and the CPU grid runner runs in the tests.
//
// The host reads and validates the samples and plans the batch exactly as the CPU path does
// (higgs_plan.cpp), then packs what the kernels read into one int64 staging buffer (higgs_stage.cpp): every
// row's ids and labels unpadded (whisper long-audio triples already repeated), every stream's codes packed
// (K, columns) segment after segment, the segments' input and output offsets, their no-train flags, and the
// small outputs computed on the host (segment starts, group locations, rewards). One host-to-device copy
// moves it; the kernels below pad the rows, mask <|AUDIO_OUT|> labels, and lay out the audio streams with the
// delay pattern (csrc/delay/delay_layout.h, the one definition of the layout) and their labels.
#pragma once

#include <cstdint>

#include "delay/delay_kernels.h"
#include "higgs_boson/audio_stream.h"
#include "runtime/grid.h"

namespace fastcollate {

// input_ids, attention_mask and label_ids (B, width) from rows packed at row_offsets.
struct HiggsTextLaunch {
  const int64_t* row_offsets = nullptr;  // B + 1
  const int64_t* ids = nullptr;
  const int64_t* labels = nullptr;  // null: no labels
  int64_t batch = 0, width = 0;
  int64_t* out_ids = nullptr;
  int64_t* out_mask = nullptr;
  int64_t* out_labels = nullptr;  // null: no labels
  bool pad_left = false;
  bool mask_audio_out = true;
  int64_t pad_token_id = 0;
  int64_t audio_out_token_id = 0;
};

struct HiggsTextBody {
  FC_HD static void run(int64_t i, const HiggsTextLaunch& a) {
    const int64_t r = i / a.width, c = i % a.width;
    const int64_t first = a.row_offsets[r], n = a.row_offsets[r + 1] - first;
    const int64_t t = c - padded_row_offset(n, a.width, a.pad_left);
    const bool token = t >= 0 && t < n;
    const int64_t id = token ? a.ids[first + t] : a.pad_token_id;
    a.out_ids[i] = id;
    a.out_mask[i] = token ? 1 : 0;
    if (a.out_labels) {
      a.out_labels[i] =
          token ? text_label(id, a.labels[first + t], a.audio_out_token_id, a.mask_audio_out) : kIgnoreIndex;
    }
  }
};

// One audio stream (K, width): segment s's codes are columns src_offsets[s]..src_offsets[s + 1] of the packed
// (K, n_cols) codes and go to columns out_offsets[s]..out_offsets[s + 1].
struct HiggsStreamLaunch {
  const int64_t* codes = nullptr;
  const int64_t* label_codes = nullptr;  // disable_audio_codes_transform: the labels' own codes; else null
  const int64_t* src_offsets = nullptr;
  const int64_t* out_offsets = nullptr;
  const int64_t* no_train = nullptr;  // n_segments flags (0/1), or null
  int64_t n_segments = 0, codebooks = 0, n_cols = 0, width = 0;
  AudioStreamParams stream;
  int64_t* out_ids = nullptr;
  int64_t* out_labels = nullptr;  // null: no labels
};

struct HiggsStreamBody {
  FC_HD static void run(int64_t i, const HiggsStreamLaunch& a) {
    const int64_t k = i / a.width, col = i % a.width;
    const int64_t s = segment_of(col, a.out_offsets, a.n_segments);
    const int64_t src = a.src_offsets[s], length = a.src_offsets[s + 1] - src;
    const DelayRow row = audio_row(k, length, a.codebooks, a.stream);
    const int64_t c = col - a.out_offsets[s];
    const DelayCell cell = delay_cell(c, row);
    const int64_t at = k * a.n_cols + src + c - row.code_begin;  // read only for code cells
    const int64_t code = cell == kCode ? a.codes[at] : 0;
    a.out_ids[i] = delay_value(cell, code, delay_ids_fill(a.stream.bos, a.stream.eos));
    if (a.out_labels) {
      const int64_t label_code = cell == kCode && a.label_codes ? a.label_codes[at] : code;
      const bool no_train = a.no_train && a.no_train[s] != 0;
      a.out_labels[i] = delay_value(cell, label_code, delay_labels_fill(a.stream.eos, no_train));
    }
  }
};

// A copy of staged bytes to an output (segment starts, group locations, rewards).
struct StagedCopy {
  void* dst = nullptr;
  const void* src = nullptr;
  int64_t bytes = 0;
};

struct HiggsLaunch {
  HiggsTextLaunch text;
  HiggsStreamLaunch audio_in;  // codebooks * width == 0: nothing to write
  HiggsStreamLaunch audio_out;
  StagedCopy copies[4];
  int n_copies = 0;
};

// For a launcher with elements<Body>(n, params) and copy(dst, src, bytes) (grid.h, csrc/runtime/launch.cuh).
template <typename L>
void launch_higgs(L& l, const HiggsLaunch& a) {
  if (a.text.batch * a.text.width > 0) l.template elements<HiggsTextBody>(a.text.batch * a.text.width, a.text);
  for (const HiggsStreamLaunch* s : {&a.audio_in, &a.audio_out}) {
    if (s->codebooks * s->width > 0) l.template elements<HiggsStreamBody>(s->codebooks * s->width, *s);
  }
  for (int c = 0; c < a.n_copies; ++c) {
    if (a.copies[c].bytes > 0) l.copy(a.copies[c].dst, a.copies[c].src, a.copies[c].bytes);
  }
}

}  // namespace fastcollate
