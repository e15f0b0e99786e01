// Pass 1: check every feature in the order of fastcollate/higgs_hf/features.py (so both raise the same first
// error), derive the correct mode's spec labels and no-train clips, and size every output. Runs without the GIL.
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/checked_size.h"
#include "common/code_range.h"
#include "higgs_hf/higgs_hf_collate.h"
#include "higgs_hf/higgs_hf_rules.h"

namespace fastcollate {
namespace {

[[noreturn]] void fail(size_t i, const std::string& field, const std::string& problem) {
  throw std::invalid_argument("sample " + std::to_string(i) + ": " + field + ": " + problem);
}

std::string clip_field(size_t j) { return "audio_codes[" + std::to_string(j) + "]"; }

CodeLimits code_limits(const HiggsHfOptions& opt) {
  CodeLimits lim;
  lim.codebook_size = opt.codebook_size;
  lim.stream_bos = opt.stream_bos;
  lim.stream_eos = opt.stream_eos;
  return lim;
}

// The feature's placeholder positions; a delay token in its ids is an error (the collator writes those).
void scan_ids(size_t i, const IdsView& ids, const HiggsHfOptions& opt, std::vector<int64_t>& placeholders) {
  visit_ids(ids, [&](const auto* p) {
    for (int64_t t = 0; t < ids.size; ++t) {
      const int64_t token = p[t * ids.stride];
      if (token == opt.audio_delay_token_id) {
        fail(i, "input_ids",
             "holds the audio delay token " + std::to_string(token) + " at position " + std::to_string(t) +
                 "; give one audio token (" + std::to_string(opt.audio_token_id) +
                 ") per clip: the collator writes each clip's placeholders and delay tokens itself");
      }
      if (token == opt.audio_token_id) placeholders.push_back(t);
    }
  });
}

void check_clips(size_t i, const HiggsHfFeatureIn& f, size_t n_placeholders, const HiggsHfOptions& opt,
                 bool check_codes, int64_t& codebooks) {
  if (!f.codes_error.empty()) fail(i, "audio_codes", f.codes_error);
  if (f.clips.size() != n_placeholders) {
    fail(i, "audio_codes",
         std::to_string(f.clips.size()) + " clip(s) for " + std::to_string(n_placeholders) + " audio placeholder(s) (" +
             std::to_string(opt.audio_token_id) + ") in input_ids");
  }
  for (size_t j = 0; j < f.clips.size(); ++j) {
    const CodesView& c = f.clips[j];
    if (!c.error.empty()) fail(i, clip_field(j), c.error);
    if (c.rows == 0) {
      fail(i, clip_field(j),
           "has 0 codebooks (shape (0, " + std::to_string(c.cols) + ")); expected (K, L) with K >= 1");
    }
    if (opt.num_codebooks >= 0 && c.rows != opt.num_codebooks) {
      fail(i, clip_field(j),
           wrong_codebooks(c, opt.num_codebooks, "expected num_codebooks=" + std::to_string(opt.num_codebooks),
                           "a clip", "num_codebooks"));
    }
    if (codebooks > 0 && c.rows != codebooks) {
      fail(i, clip_field(j),
           wrong_codebooks(c, codebooks, "but earlier clips in the batch have " + std::to_string(codebooks)));
    }
    if (check_codes) {
      const std::string bad = code_range_problem(c, CodeRegion{0, c.rows, 0, c.cols}, code_limits(opt));
      if (!bad.empty()) fail(i, clip_field(j), bad);
    }
    codebooks = c.rows;
  }
  if (!f.no_train_error.empty()) fail(i, "audio_no_train", f.no_train_error);
  if (f.has_no_train && f.no_train.size() != f.clips.size()) {
    fail(i, "audio_no_train",
         std::to_string(f.no_train.size()) + " flag(s) for " + std::to_string(f.clips.size()) + " clip(s)");
  }
}

// The spec's labels of one feature's ids (labels only: the ids are written later, expanded).
void spec_labels(const RolespanSpecView& spec, const HiggsHfFeatureIn& f, int64_t* labels) {
  const IdsView& ids = f.input_ids;
  visit_ids(ids, [&](const auto* p) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(p)>>;
    rolespan_fill_row<T, false, false>(spec, RowIn<T>{p, ids.stride, ids.size}, f.start_index,
                                       RowOut{nullptr, labels, nullptr});
  });
}

HiggsHfPlan plan_batch(const std::vector<HiggsHfFeatureIn>& in, const HiggsHfOptions& opt, bool check_codes) {
  HiggsHfPlan plan;
  plan.codes_unchecked = !check_codes;
  plan.batch = static_cast<int64_t>(in.size());
  for (size_t i = 0; i < in.size(); ++i) {  // every feature's keys before any value
    if (!in[i].key_error.empty()) fail(i, in[i].key_error_field, in[i].key_error);
  }
  plan.clip_begin.assign(1, 0);
  for (size_t i = 0; i < in.size(); ++i) {
    const HiggsHfFeatureIn& f = in[i];
    if (!f.input_ids.error.empty()) fail(i, "input_ids", f.input_ids.error);
    if (!f.start_index_error.empty()) fail(i, "start_index", f.start_index_error);
    const size_t first = plan.placeholder.size();
    scan_ids(i, f.input_ids, opt, plan.placeholder);
    check_clips(i, f, plan.placeholder.size() - first, opt, check_codes, plan.codebooks);
    plan.clip_begin.push_back(static_cast<int64_t>(plan.placeholder.size()));
  }

  // label_mode "correct": the spec's labels; a clip is learned where the spec learns its placeholder.
  plan.no_train.assign(plan.placeholder.size(), 0);
  if (opt.spec) {
    const RolespanSpecView view = opt.spec->view();
    plan.spec_offsets.assign(1, 0);
    for (const HiggsHfFeatureIn& f : in) plan.spec_offsets.push_back(plan.spec_offsets.back() + f.input_ids.size);
    plan.spec_labels.assign(plan.spec_offsets.back(), kIgnoreIndex);
    for (size_t i = 0; i < in.size(); ++i) {
      const int64_t* labels = plan.spec_labels.data() + plan.spec_offsets[i];
      spec_labels(view, in[i], plan.spec_labels.data() + plan.spec_offsets[i]);
      for (int64_t c = plan.clip_begin[i]; c < plan.clip_begin[i + 1]; ++c) {
        const bool flagged = in[i].has_no_train && in[i].no_train[c - plan.clip_begin[i]];
        plan.no_train[c] = labels[plan.placeholder[c]] == kIgnoreIndex || flagged;
      }
    }
  }

  // Sizes: each placeholder becomes L + K + 1 positions, as many audio frames.
  int64_t longest = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const HiggsHfFeatureIn& f = in[i];
    // Inputs lie within their storage (csrc/python/reader.h), so these sums stay small; still checked.
    const auto too_big = [&] {
      return "sample " + std::to_string(i) + ": audio_codes: more frames than a process can address";
    };
    int64_t frames = 0;
    for (const CodesView& c : f.clips) frames = checked_add(frames, hf_clip_frames(c.cols, plan.codebooks), too_big);
    plan.audio_len.push_back(frames);
    plan.text_len.push_back(checked_add(f.input_ids.size - static_cast<int64_t>(f.clips.size()), frames, too_big));
    longest = std::max(longest, plan.text_len.back());
    plan.frames = std::max(plan.frames, frames);
  }
  plan.longest = longest;
  if (!plan.placeholder.empty()) {  // before the text's checks, as the twin checks it before delaying any clip
    u128 frames = static_cast<u128>(plan.frames), rows = static_cast<u128>(plan.batch);
    if (opt.packed) {
      frames = 0;
      for (const int64_t n : plan.audio_len) frames += static_cast<u128>(n);
      rows = 1;
    }
    check_fits_memory(rows * frames * static_cast<u128>(plan.codebooks) * 8,
                      "audio_codes: the batch's audio_input_ids");
  }
  if (!opt.packed) {
    plan.width = padded_width(static_cast<int64_t>(in.size()), longest, opt.pad_to_multiple_of, "pad_to_multiple_of");
    check_padded_memory(static_cast<int64_t>(in.size()), longest, opt.pad_to_multiple_of, "pad_to_multiple_of");
    return plan;
  }
  // Packed: one row of every feature's text and audio frames. Each length lies within its inputs' storage,
  // so the sums fit int64; the text total must also fit the int32 cu_seq_lens.
  plan.text_begin.assign(1, 0);
  plan.audio_begin.assign(1, 0);
  for (size_t i = 0; i < in.size(); ++i) {
    plan.text_begin.push_back(plan.text_begin.back() + plan.text_len[i]);
    plan.audio_begin.push_back(plan.audio_begin.back() + plan.audio_len[i]);
  }
  plan.width = plan.text_begin.back();
  plan.frames = plan.audio_begin.back();
  if (plan.width > std::numeric_limits<int32_t>::max()) {
    throw std::invalid_argument("packed: " + std::to_string(plan.width) + " tokens do not fit the int32 cu_seq_lens");
  }
  return plan;
}

}  // namespace

HiggsHfPlan plan_higgs_hf_batch(const std::vector<HiggsHfFeatureIn>& in, const HiggsHfOptions& opt) {
  const int64_t size = opt.codebook_size;
  if (size <= 0 || (size & (size - 1)) != 0) return plan_batch(in, opt, true);
  try {
    return plan_batch(in, opt, false);
  } catch (...) {
    plan_batch(in, opt, true);  // throws the error the codes give first, if any comes before this one
    throw;
  }
}

void raise_code_range_error(const std::vector<HiggsHfFeatureIn>& in, const HiggsHfOptions& opt) {
  plan_batch(in, opt, true);
  // Only an input changed by another thread during the call reaches this: the checked plan read other codes.
  throw std::runtime_error(
      "audio_codes: a code outside [0, codebook_size) was read while the batch was written, but not when the codes "
      "were checked again: was a clip changed by another thread during the call?");
}

}  // namespace fastcollate
