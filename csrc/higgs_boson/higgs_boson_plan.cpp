// Pass 1: validate every sample in the order the Python reference does (so both raise the same first error)
// and size every output. Reads only the caller's buffers; runs without the GIL.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/checked_size.h"
#include "common/code_range.h"
#include "higgs_boson/higgs_boson_collate.h"

namespace fastcollate {
namespace {

[[noreturn]] void fail(int64_t i, const char* field, const std::string& problem) {
  throw std::invalid_argument("sample " + std::to_string(i) + ": " + field + ": " + problem);
}

std::string shape_str(const CodesView& v) { return "(" + std::to_string(v.rows) + ", " + std::to_string(v.cols) + ")"; }

int64_t kept_codebooks(int64_t rows, const HiggsOptions& opt) {
  return opt.audio_num_codebooks < 0 ? rows : std::min(rows, opt.audio_num_codebooks);
}

// Where upstream would build a wrong batch from the codes (reference.py's _check_codes): fewer codebooks than
// audio_num_codebooks, a code outside [0, codebook_size) in a segment the batch holds.
void check_codes(int64_t i, const CodesView& codes, const IdsView& starts, const std::vector<char>& is_out_token,
                 const HiggsOptions& opt) {
  const int64_t want = opt.audio_num_codebooks;
  if (want >= 0 && codes.rows < want) {
    fail(i, "audio_ids_concat",
         wrong_codebooks(codes, want, "fewer than audio_num_codebooks=" + std::to_string(want), "audio_ids_concat",
                         "audio_num_codebooks"));
  }
  CodeLimits lim;
  lim.codebook_size = opt.codebook_size;
  lim.stream_bos = opt.stream.bos;
  lim.stream_eos = opt.stream.eos;
  lim.stream_ids_allowed = !opt.stream.transform;
  const int64_t keep = kept_codebooks(codes.rows, opt), n = static_cast<int64_t>(is_out_token.size());
  for (int64_t j = 0; j < n; ++j) {
    if (!is_out_token[j] && !opt.return_audio_in_tokens) continue;  // not in the batch
    const int64_t end = j + 1 < n ? starts[j + 1] : codes.cols;
    const std::string problem = code_range_problem(codes, CodeRegion{0, keep, starts[j], end}, lim,
                                                   " (audio segment " + std::to_string(j) + ")");
    if (!problem.empty()) fail(i, "audio_ids_concat", problem);
  }
}

// The sample's audio segments, one per placeholder token in order, checked against its codes.
void plan_segments(int64_t i, const HiggsSampleIn& s, const HiggsOptions& opt, bool with_labels,
                   const std::vector<char>& is_out_token, const std::vector<char>& no_train, HiggsPlan& plan) {
  const int64_t n_tokens = static_cast<int64_t>(is_out_token.size());
  const int64_t n_out = std::count(is_out_token.begin(), is_out_token.end(), 1);
  const CodesView& codes = s.audio_ids_concat;
  const IdsView& starts = s.audio_ids_start;
  if (!codes.error.empty()) fail(i, "audio_ids_concat", codes.error);
  if (!starts.error.empty()) fail(i, "audio_ids_start", starts.error);
  if (starts.size != n_tokens) {
    fail(i, "audio_ids_start",
         std::to_string(starts.size) + " audio segments for " + std::to_string(n_tokens) +
             " audio placeholder tokens (" + std::to_string(n_tokens - n_out) + " audio-in, " + std::to_string(n_out) +
             " audio-out)");
  }
  for (int64_t j = 0; j < n_tokens; ++j) {
    const int64_t start = starts[j];
    if (start < 0 || start > codes.cols) {
      fail(i, "audio_ids_start",
           "entry " + std::to_string(j) + " = " + std::to_string(start) + " is outside [0, " +
               std::to_string(codes.cols) + "]");
    }
    if (j > 0 && start < starts[j - 1]) {
      fail(i, "audio_ids_start",
           "decreases at entry " + std::to_string(j) + " (" + std::to_string(starts[j - 1]) + " > " +
               std::to_string(start) + ")");
    }
  }
  if (!opt.stream.transform && with_labels && n_out > 0) {
    const CodesView& labels = s.audio_label_ids_concat;
    if (!labels.present) {
      fail(i, "audio_label_ids_concat", "is None, but disable_audio_codes_transform=True with labels needs it");
    }
    if (!labels.error.empty()) fail(i, "audio_label_ids_concat", labels.error);
    if (labels.rows != codes.rows || labels.cols != codes.cols) {
      fail(i, "audio_label_ids_concat",
           "shape " + shape_str(labels) + " does not match audio_ids_concat shape " + shape_str(codes));
    }
  }
  check_codes(i, codes, starts, is_out_token, opt);
  int64_t out_index = 0;
  for (int64_t j = 0; j < n_tokens; ++j) {
    const int64_t begin = starts[j];
    const int64_t end = j + 1 < n_tokens ? starts[j + 1] : codes.cols;
    SegmentPlan seg{i, begin, end - begin, 0, false};
    if (is_out_token[j]) {
      seg.no_train = no_train[out_index++] != 0;
      plan.audio_out.push_back(seg);
    } else if (opt.return_audio_in_tokens) {
      plan.audio_in.push_back(seg);
    }
  }
}

// One codebook count per stream (segments are concatenated along time); then each segment's column.
void place_stream(std::vector<SegmentPlan>& segs, const HiggsBatchIn& in, const HiggsOptions& opt, const char* stream,
                  int64_t& codebooks, int64_t& width) {
  codebooks = 0;
  width = 0;
  for (size_t n = 0; n < segs.size(); ++n) {
    SegmentPlan& seg = segs[n];
    const int64_t k = kept_codebooks(in.samples[seg.sample].audio_ids_concat.rows, opt);
    if (n == 0) {
      codebooks = k;
    } else if (k != codebooks) {
      fail(seg.sample, "audio_ids_concat",
           std::to_string(k) + " codebooks in an " + stream + " segment, but earlier ones in the batch have " +
               std::to_string(codebooks));
    }
    seg.out_col = width;
    const auto too_big = [&] {
      return "sample " + std::to_string(seg.sample) + ": audio_ids_concat: the batch's " + stream + " stream of " +
             std::to_string(k) + " codebooks grows past what a process can address at this sample";
    };
    width = checked_add(width, audio_segment_width(seg.length, k, opt.stream), too_big);
    check_tensor_size(k, width, 8, too_big);
  }
  if (!segs.empty()) {
    check_fits_memory(static_cast<u128>(codebooks) * static_cast<u128>(width) * 8,
                      std::string("audio_ids_concat: the batch's ") + stream + " stream");
  }
}

}  // namespace

HiggsPlan plan_higgs_batch(const HiggsBatchIn& in, const HiggsOptions& opt) {
  HiggsPlan plan;
  plan.batch = static_cast<int64_t>(in.samples.size());
  plan.seq_len.resize(plan.batch);
  // Sample-level problems first, as the reference reads every sample before any field.
  for (int64_t i = 0; i < plan.batch; ++i) {
    const HiggsSampleIn& s = in.samples[i];
    if (!s.key_error.empty()) fail(i, s.key_error_field.c_str(), s.key_error);
  }

  // Upstream returns labels when any sample has them; a batch mixing None and labels is an error.
  int64_t first_without = -1, with = 0;
  for (int64_t i = 0; i < plan.batch; ++i) {
    if (in.samples[i].label_ids.present)
      ++with;
    else if (first_without < 0)
      first_without = i;
  }
  const bool derived = opt.label_spec.has_value();  // labels come from input_ids, never from the samples
  if (!derived && with > 0 && first_without >= 0) {
    fail(first_without, "label_ids", "is None while other samples in the batch have labels");
  }
  plan.with_labels = derived || with > 0;

  std::vector<char> is_out_token, no_train;  // scratch, reused across samples
  int64_t longest = 0;
  for (int64_t i = 0; i < plan.batch; ++i) {
    const HiggsSampleIn& s = in.samples[i];
    if (!s.input_ids.error.empty()) fail(i, "input_ids", s.input_ids.error);
    if (!s.start_index_error.empty()) fail(i, "start_index", s.start_index_error);
    const int64_t n = s.input_ids.size;
    if (plan.with_labels && !derived) {
      if (!s.label_ids.error.empty()) fail(i, "label_ids", s.label_ids.error);
      if (s.label_ids.size != n) {
        fail(i, "label_ids",
             "length " + std::to_string(s.label_ids.size) + " does not match input_ids length " + std::to_string(n));
      }
    }
    if (!s.reward_error.empty()) fail(i, "reward", s.reward_error);

    is_out_token.clear();
    no_train.clear();
    int64_t n_in = 0;
    visit_ids(s.input_ids, [&](const auto* ids) {
      const int64_t stride = s.input_ids.stride;
      for (int64_t t = 0; t < n; ++t) {
        const int64_t token = ids[t * stride];
        if (token == opt.audio_in_token_id) {
          is_out_token.push_back(0);
          ++n_in;
        } else if (token == opt.audio_out_token_id) {
          is_out_token.push_back(1);
          no_train.push_back(plan.with_labels && s.label_ids[t] < 0);
        }
      }
    });
    const bool reads_codes = !no_train.empty() || (opt.return_audio_in_tokens && n_in > 0);
    if (reads_codes) plan_segments(i, s, opt, plan.with_labels, is_out_token, no_train, plan);

    int64_t len = n;
    for (int64_t c = 0; c < s.chunk_count_size; ++c) {
      // Counts are >= 1 (checked where they are read); the repeated triples stay within addressable sizes.
      const int64_t extra = in.chunk_counts[s.chunk_count_offset + c] - 1;
      const auto too_big = [&] { return "sample " + std::to_string(i) + ": chunk_counts: too many chunks"; };
      len = checked_add(len, extra > (kMaxTensorBytes >> 5) ? kMaxTensorBytes : 3 * extra, too_big);
    }
    plan.seq_len[i] = len;
    longest = std::max(longest, len);
    if (s.has_reward && !opt.drop_rewards) plan.rewards.push_back(s.reward);
  }
  plan.seq_width = padded_width(plan.batch, longest, opt.round_to, "round_to");
  place_stream(plan.audio_in, in, opt, "audio-in", plan.in_codebooks, plan.in_width);
  place_stream(plan.audio_out, in, opt, "audio-out", plan.out_codebooks, plan.out_width);
  check_padded_memory(plan.batch, longest, opt.round_to, "round_to");  // after the streams' checks, as the twin
  return plan;
}

}  // namespace fastcollate
