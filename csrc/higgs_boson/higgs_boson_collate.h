// The Higgs Audio batch collation over raw buffers: plan (validate and size every output), then fill.
// Plain C++: no pybind11, no Python, no torch. Errors are std::invalid_argument with the message
// "sample {i}: {field}: {problem}", which the bindings raise as ValueError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/views.h"
#include "higgs_boson/audio_stream.h"
#include "rolespan/rolespan.h"

namespace fastcollate {

struct HiggsOptions {
  int64_t audio_in_token_id = 0;
  int64_t audio_out_token_id = 0;
  int64_t pad_token_id = 0;
  int64_t round_to = 1;
  int64_t audio_num_codebooks = -1;  // -1: keep every codebook
  int64_t codebook_size = 1024;      // every code of a segment the batch holds lies in [0, codebook_size)
  bool pad_left = false;
  bool return_audio_in_tokens = true;
  bool mask_audio_out_token_label = true;
  bool drop_rewards = false;  // upstream's whisper path loses rewards; kept for bit-equality
  AudioStreamParams stream;
  // label_spec: labels are recomputed from input_ids by the role-span state machine instead of read.
  std::optional<RolespanSpecData> label_spec;
  // Why a sample's start_index is not read (fastcollate/higgs_boson/config.py); empty: it is. A given start_index
  // is then an error, with the reference's message.
  std::string start_index_unread;
  // Mapping samples: the keys allowed (sample fields and ignore_keys) and the message for any other key.
  // Read by the Python layer only (csrc/python/bind_higgs_boson.cpp).
  std::unordered_set<std::string> allowed_keys;
  std::string unknown_key_problem;
};

struct HiggsSampleIn {
  // A Mapping key that is no sample field: the key and the problem, raised before any field of the batch.
  std::string key_error_field, key_error;
  IdsView input_ids;
  IdsView label_ids;
  CodesView audio_ids_concat;
  IdsView audio_ids_start;
  CodesView audio_label_ids_concat;
  bool has_reward = false;
  float reward = 0.f;
  std::string reward_error;
  int64_t start_index = 0;  // first learned turn (<= 0: every turn); read only with a label_spec
  std::string start_index_error;
  // Whisper long audio: copies of the <|audio_bos|><|AUDIO|><|audio_eos|> triple per audio-in token
  // (empty: one each). Offsets into HiggsBatchIn::chunk_counts.
  int64_t chunk_count_offset = 0;
  int64_t chunk_count_size = 0;
};

struct HiggsBatchIn {
  std::vector<HiggsSampleIn> samples;
  std::vector<int64_t> chunk_counts;
  std::vector<int64_t> spec_labels;  // label_spec: every sample's derived labels, back to back
};

struct SegmentPlan {
  int64_t sample;
  int64_t src_begin;  // first column in the sample's audio_ids_concat
  int64_t length;     // L, columns of codes
  int64_t out_col;    // first column in the batch output
  bool no_train;      // its <|AUDIO_OUT|> label was < 0
};

struct HiggsPlan {
  int64_t batch = 0;
  int64_t seq_width = 0;
  bool with_labels = false;
  std::vector<int64_t> seq_len;  // per sample, after long-audio repetition
  std::vector<SegmentPlan> audio_in, audio_out;
  int64_t in_codebooks = 0, in_width = 0;
  int64_t out_codebooks = 0, out_width = 0;
  std::vector<float> rewards;
};

// Raw int64 (float32 for rewards) outputs, contiguous, sized from the plan. Which ones are written is decided
// by the plan and options (an empty tensor's data pointer may be null, so null is no signal).
struct HiggsOutputs {
  int64_t* input_ids;        // (batch, seq_width)
  int64_t* attention_mask;   // (batch, seq_width)
  int64_t* label_ids;        // (batch, seq_width) or null
  int64_t* audio_in_ids;     // (in_codebooks, in_width) or null
  int64_t* audio_in_start;   // (audio_in.size())
  int64_t* audio_out_ids;    // (out_codebooks, out_width)
  int64_t* audio_out_start;  // (audio_out.size())
  int64_t* label_audio_ids;  // (out_codebooks, out_width) or null
  int64_t* group_loc;        // (batch) or null
  float* rewards;            // (rewards.size())
};

// label_spec: derive every sample's labels from its input_ids into in.spec_labels and point the samples'
// label views there, so planning and filling read them like given labels. Samples whose input_ids are
// unusable are left alone (plan_higgs_batch raises their error).
void derive_labels_from_spec(HiggsBatchIn& in, const RolespanSpecData& spec);

// The whisper path's chunk counts (fastcollate/higgs_boson/whisper_audio.py): one per audio-in token of each sample,
// in batch order. Assigns each sample its run of them, or throws std::invalid_argument "chunk_counts: ..." (a
// count that does not match the audio-in tokens, or is < 1) or "sample {i}: input_ids: ..." (a repeated token
// without a neighbour on each side), so the fill never reads outside a row.
void assign_chunk_counts(HiggsBatchIn& in, const HiggsOptions& opt, std::vector<int64_t> chunk_counts);

HiggsPlan plan_higgs_batch(const HiggsBatchIn& in, const HiggsOptions& opt);
// Returns how many rows have no learned text label (0 without labels): the on_empty policy's cheap check.
int64_t fill_higgs_batch(const HiggsBatchIn& in, const HiggsOptions& opt, const HiggsPlan& plan,
                         const HiggsOutputs& out);

}  // namespace fastcollate
