// The transformers Higgs Audio v2 batch (HiggsAudioV2Collator) over raw buffers: plan (validate in the
// reference's order, size every output), then fill. Plain C++: no pybind11, no Python, no torch. Errors are
// std::invalid_argument "sample {i}: {field}: {problem}" with the messages of fastcollate/higgs_hf/features.py.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/views.h"
#include "rolespan/rolespan.h"

namespace fastcollate {

struct HiggsHfOptions {
  int64_t pad_token_id = 0;
  int64_t audio_token_id = 0;
  int64_t audio_bos_token_id = -1;  // label_mode "processor" only
  int64_t audio_delay_token_id = 0;
  int64_t stream_bos = 0;
  int64_t stream_eos = 0;
  bool pad_left = true;
  int64_t pad_to_multiple_of = 1;
  int64_t num_codebooks = -1;    // -1: whatever the batch's first clip has
  int64_t codebook_size = 1024;  // every code lies in [0, codebook_size)
  // label_mode "correct": text labels from this spec (run on the features' ids as given), clips learned where
  // it learns their placeholder. Absent: label_mode "processor".
  std::optional<RolespanSpecData> spec;
  // Every feature in one row, back to back and unpadded (fastcollate/higgs_hf/reference.py's "packed"): no
  // attention mask, position ids and cu_seq_lens instead, and each feature's first text label -100.
  bool packed = false;
};

// One feature as read (GIL held). A field that could not be read carries its error, raised by the plan in the
// reference's order.
struct HiggsHfFeatureIn {
  std::string key_error_field, key_error;  // a Mapping key the collator does not read
  IdsView input_ids;
  int64_t start_index = 0;  // <= 0: every turn
  std::string start_index_error;
  std::string codes_error;  // audio_codes is not a list
  std::vector<CodesView> clips;
  bool has_no_train = false;
  std::vector<uint8_t> no_train;
  std::string no_train_error;
};

struct HiggsHfPlan {
  int64_t batch = 0;
  int64_t width = 0;      // text columns (packed: the features' total)
  int64_t codebooks = 0;  // K; 0: no clip in the batch (no audio outputs)
  int64_t frames = 0;     // T_audio (packed: the features' total)
  int64_t longest = 0;    // the longest feature's text length
  std::vector<int64_t> text_len, audio_len;
  // Packed: where each feature's text and audio frames start in the one row (batch + 1 entries each).
  std::vector<int64_t> text_begin, audio_begin;
  // Per clip of the batch (features in order): its placeholder's position and whether it is no-train.
  std::vector<int64_t> clip_begin;  // first clip of each feature (batch + 1 entries)
  std::vector<int64_t> placeholder;
  std::vector<uint8_t> no_train;
  // label_mode "correct": the spec's labels of every feature's ids, back to back (offsets: batch + 1).
  std::vector<int64_t> spec_labels, spec_offsets;
  // Whether the codes' range is left to the fill (a power-of-two codebook_size: see plan_higgs_hf_batch).
  bool codes_unchecked = false;
};

// Padded: rows = batch; packed: rows = 1 (and attention_mask null, position_ids and cu_seqlens set).
struct HiggsHfOutputs {
  int64_t* input_ids;               // (rows, width)
  int64_t* attention_mask;          // (rows, width), padded only
  int64_t* labels;                  // (rows, width)
  int64_t* audio_ids;               // (rows, frames, codebooks), when codebooks > 0
  bool* audio_mask;                 // (rows, frames)
  int64_t* audio_labels;            // (rows, frames, codebooks)
  int64_t* num_learned;             // (batch): text + audio labels learned per feature
  int64_t* position_ids = nullptr;  // (1, width), packed only
  int32_t* cu_seqlens = nullptr;    // (batch + 1), packed only
};

// Checks every feature and sizes the outputs; throws the twin's first error. Codes outside [0, codebook_size)
// are an error like any other, but where codebook_size is a power of two their check is left to the fill: the
// transpose that reads every code OR-s them together (code_frames.h), which costs next to nothing, where a
// check here would be one more pass over every code. A plan that throws first reruns with the codes checked,
// so a bad code before the error it met is still the error raised, as in the twin's order.
HiggsHfPlan plan_higgs_hf_batch(const std::vector<HiggsHfFeatureIn>& in, const HiggsHfOptions& opt);
// Writes every output; throws the twin's first error where the plan left the codes unchecked and one of them
// is outside the codebook (the outputs are then garbage: the caller drops them).
void fill_higgs_hf_batch(const std::vector<HiggsHfFeatureIn>& in, const HiggsHfOptions& opt, const HiggsHfPlan& plan,
                         const HiggsHfOutputs& out);
// Reruns the plan with every code checked, which throws the twin's first error; called by the fill when the
// codes it read had a bit outside the codebook.
[[noreturn]] void raise_code_range_error(const std::vector<HiggsHfFeatureIn>& in, const HiggsHfOptions& opt);

}  // namespace fastcollate
