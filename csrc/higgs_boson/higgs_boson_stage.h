// The staging buffer of backend="cuda" (csrc/higgs_boson/higgs_boson_bodies.h): what the kernels read, packed by the
// host after planning into one int64 buffer (pinned on the way to a GPU), copied in one transfer. Plain C++.
#pragma once

#include <cstdint>

#include "higgs_boson/higgs_boson_bodies.h"
#include "higgs_boson/higgs_boson_collate.h"
#include "runtime/target.h"

namespace fastcollate {

// Word offsets (int64) of every part of the staging buffer.
struct HiggsStageLayout {
  int64_t row_offsets = 0, ids = 0, labels = 0;                                        // text: B + 1, then the rows
  int64_t in_src = 0, in_out = 0, in_codes = 0;                                        // audio-in: S + 1, S + 1, K x N
  int64_t out_src = 0, out_out = 0, out_codes = 0, out_label_codes = 0, no_train = 0;  // audio-out
  int64_t group_loc = 0, rewards = 0;  // outputs computed on the host: B, ceil(rewards / 2) words
  int64_t words = 0;                   // the whole buffer
  int64_t text_tokens = 0, in_cols = 0, out_cols = 0;
  bool out_label_codes_used = false;  // disable_audio_codes_transform with labels
};

HiggsStageLayout plan_higgs_stage(const HiggsBatchIn& in, const HiggsOptions& opt, const HiggsPlan& plan);

// Packs the batch into `stage` (layout.words int64). Returns how many rows have no learned text label (the
// on_empty policy's check, as fill_higgs_batch returns it). Touches only raw buffers; safe without the GIL.
int64_t stage_higgs_batch(const HiggsBatchIn& in, const HiggsOptions& opt, const HiggsPlan& plan,
                          const HiggsStageLayout& layout, int64_t* stage);

// The launch over a staging buffer at `stage` (on the kernels' device) into the outputs (same device).
// The launch on kGrid or kCuda (csrc/runtime/target.h); call without the GIL.
void run_higgs(const Target& target, const HiggsLaunch& a);

HiggsLaunch higgs_launch(const HiggsOptions& opt, const HiggsPlan& plan, const HiggsStageLayout& layout,
                         const int64_t* stage, const HiggsOutputs& out);

}  // namespace fastcollate
