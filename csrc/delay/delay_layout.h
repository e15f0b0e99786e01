// The delay pattern of one codebook row: the single definition of the layout in the codebase. The ops in
// csrc/delay, the Higgs collator's audio streams (csrc/higgs_boson/audio_stream.h) and the CUDA kernels built on
// delay_kernels.h all place every column through these functions; fastcollate/delay/delay_pattern_reference.py
// is their readable statement (the tests compare the two bit for bit).
//
// A row of `length` codes delayed by `delay` columns, optionally wrapped in a stream BOS and EOS:
//
//   [ head fill x delay | stream BOS? | codes x length | stream EOS? | tail fill ... ]   (width columns)
//
// mode "extend" makes every row max(delays) columns longer than its stream (nothing is lost); "preserve"
// keeps the stream's width and drops what the delay pushes past it.
#pragma once

#include <cstdint>

#include "common/host_device.h"
#include "common/labels.h"

namespace fastcollate {

// The generation mask marks with -1 the tail columns a model generates (upstream build_delay_pattern_mask).
constexpr int64_t kGenerationPlaceholder = -1;

struct DelayRow {
  int64_t delay;       // head fill columns
  int64_t code_begin;  // first code column: delay, plus one for the stream BOS
  int64_t code_end;    // one past the last code column (the stream EOS's column when wrapped)
  int64_t width;       // columns of the row; columns past it do not exist ("preserve" drops them)
  bool wrap;           // the stream BOS and EOS are part of the row
};

// Columns of a delayed row (every row of one segment or tensor has this width).
FC_HD int64_t delayed_width(int64_t length, int64_t max_delay, bool wrap, bool extend) {
  return length + (wrap ? 2 : 0) + (extend ? max_delay : 0);
}

FC_HD DelayRow delay_row(int64_t length, int64_t delay, bool wrap, int64_t width) {
  const int64_t begin = delay + (wrap ? 1 : 0);
  return DelayRow{delay, begin, begin + length, width, wrap};
}

enum DelayCell : int32_t { kHeadFill, kStreamBos, kCode, kStreamEos, kTailFill };

// What column `col` of the row holds. A kCode column holds code number col - code_begin.
FC_HD DelayCell delay_cell(int64_t col, const DelayRow& r) {
  if (col < r.delay) return kHeadFill;
  if (col < r.code_begin) return kStreamBos;
  if (col < r.code_end) return kCode;
  if (r.wrap && col == r.code_end) return kStreamEos;
  return kTailFill;
}

// The value each kind of column takes in one output (ids, generation mask or labels).
struct DelayFill {
  int64_t head;
  int64_t stream_bos;
  int64_t stream_eos;
  int64_t tail;
  bool codes_ignored;  // codes become -100 too (the labels of a no-train segment)
};

// Delayed ids: BOS before the codes (head and stream BOS), PAD after them (stream EOS and tail).
FC_HD DelayFill delay_ids_fill(int64_t bos, int64_t pad) { return DelayFill{bos, bos, pad, pad, false}; }

// The generation mask: the ids with -1 where the tail fill is.
FC_HD DelayFill delay_generation_fill(int64_t bos, int64_t pad) {
  return DelayFill{bos, bos, pad, kGenerationPlaceholder, false};
}

// Labels: the codes and the stream EOS (its end is learned), -100 elsewhere; all -100 for a no-train segment.
FC_HD DelayFill delay_labels_fill(int64_t eos, bool no_train) {
  return no_train ? DelayFill{kIgnoreIndex, kIgnoreIndex, kIgnoreIndex, kIgnoreIndex, true}
                  : DelayFill{kIgnoreIndex, kIgnoreIndex, eos, kIgnoreIndex, false};
}

FC_HD int64_t delay_value(DelayCell cell, int64_t code, const DelayFill& f) {
  switch (cell) {
    case kHeadFill:
      return f.head;
    case kStreamBos:
      return f.stream_bos;
    case kCode:
      return f.codes_ignored ? kIgnoreIndex : code;
    case kStreamEos:
      return f.stream_eos;
    default:
      return f.tail;
  }
}

// The reverse map: the delayed column of code `t` of a row (what revert reads).
FC_HD int64_t delayed_column(int64_t t, int64_t delay, bool wrap) { return t + delay + (wrap ? 1 : 0); }

}  // namespace fastcollate
