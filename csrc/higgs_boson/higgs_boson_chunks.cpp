// The whisper path's chunk counts of a Higgs Audio batch: which audio-in token repeats how many times.
#include <stdexcept>
#include <string>
#include <utility>

#include "higgs_boson/higgs_boson_collate.h"

namespace fastcollate {
namespace {

// fastcollate/higgs_boson/whisper_audio.py checks the counts; a direct call of the private entry point must not
// make the fill read outside a row: every count is >= 1, and a repeated <|audio_bos|><|AUDIO|><|audio_eos|> triple has
// a token on each side of its <|AUDIO|>.
void check_chunk_counts(const HiggsBatchIn& in, const HiggsOptions& opt) {
  for (size_t j = 0; j < in.chunk_counts.size(); ++j) {
    if (in.chunk_counts[j] < 1) {
      throw std::invalid_argument("chunk_counts: entry " + std::to_string(j) + " is " +
                                  std::to_string(in.chunk_counts[j]) + ", expected >= 1");
    }
  }
  for (size_t i = 0; i < in.samples.size(); ++i) {
    const HiggsSampleIn& s = in.samples[i];
    int64_t c = 0;
    for (int64_t t = 0; t < s.input_ids.size && c < s.chunk_count_size; ++t) {
      if (s.input_ids[t] != opt.audio_in_token_id) continue;
      if (in.chunk_counts[s.chunk_count_offset + c++] > 1 && (t == 0 || t + 1 == s.input_ids.size)) {
        throw std::invalid_argument("sample " + std::to_string(i) + ": input_ids: audio-in token at position " +
                                    std::to_string(t) + " cannot be repeated: it needs a token on each side");
      }
    }
  }
}

}  // namespace

void assign_chunk_counts(HiggsBatchIn& in, const HiggsOptions& opt, std::vector<int64_t> chunk_counts) {
  // One count per audio-in token of each sample, in batch order (fastcollate/higgs_boson/whisper_audio.py).
  in.chunk_counts = std::move(chunk_counts);
  int64_t offset = 0;
  for (size_t i = 0; i < in.samples.size(); ++i) {
    HiggsSampleIn& s = in.samples[i];
    int64_t n_in = 0;
    if (s.input_ids.error.empty()) {
      for (int64_t t = 0; t < s.input_ids.size; ++t) n_in += s.input_ids[t] == opt.audio_in_token_id;
    }
    s.chunk_count_offset = offset;
    s.chunk_count_size = n_in;
    offset += n_in;
  }
  if (offset != static_cast<int64_t>(in.chunk_counts.size())) {
    throw std::invalid_argument("chunk_counts: " + std::to_string(in.chunk_counts.size()) + " counts for " +
                                std::to_string(offset) + " audio-in tokens");
  }
  check_chunk_counts(in, opt);
}

}  // namespace fastcollate
