// Pass 2: write every output exactly once from the plan. Runs without the GIL; touches only raw buffers.
#include <algorithm>

#include "higgs_hf/code_frames.h"
#include "higgs_hf/higgs_hf_collate.h"
#include "higgs_hf/higgs_hf_rules.h"

namespace fastcollate {
namespace {

// Padded: row r's padding and attention mask; returns where the feature's tokens start in the outputs.
int64_t pad_text_row(const HiggsHfOptions& opt, const HiggsHfPlan& plan, int64_t r, const HiggsHfOutputs& out) {
  const int64_t W = plan.width, n = plan.text_len[r];
  const int64_t off = opt.pad_left ? W - n : 0;
  int64_t* ids = out.input_ids + r * W;
  int64_t* mask = out.attention_mask + r * W;
  int64_t* labels = out.labels + r * W;
  std::fill(ids, ids + off, opt.pad_token_id);
  std::fill(ids + off + n, ids + W, opt.pad_token_id);
  std::fill(mask, mask + off, 0);
  std::fill(mask + off, mask + off + n, 1);
  std::fill(mask + off + n, mask + W, 0);
  std::fill(labels, labels + off, kIgnoreIndex);  // the processor's rule masks pad_token_id too
  std::fill(labels + off + n, labels + W, kIgnoreIndex);
  return r * W + off;
}

// One feature's text: its ids with every placeholder expanded and their labels, from output position `off`
// (padded: after the row's left padding; packed: where the feature starts in the one row).
int64_t fill_text(const HiggsHfFeatureIn& f, const HiggsHfOptions& opt, const HiggsHfPlan& plan, int64_t r, int64_t off,
                  const HiggsHfOutputs& out) {
  const int64_t K = plan.codebooks;
  int64_t* ids = out.input_ids;
  int64_t* labels = out.labels;

  // Every id in a local and the count in the loop: the output stores (int64) could alias `opt` and a counter
  // kept behind a reference, which would reload them and chain every token on a store.
  const bool correct = opt.spec.has_value();
  const int64_t* spec = correct ? plan.spec_labels.data() + plan.spec_offsets[r] : nullptr;
  const int64_t audio_token = opt.audio_token_id, pad = opt.pad_token_id, audio_bos = opt.audio_bos_token_id;
  const int64_t delay_token = opt.audio_delay_token_id;
  // Placeholder positions: masked in the correct mode; the processor masks only the audio token.
  const int64_t delay_label =
      correct ? kIgnoreIndex : hf_processor_text_label(delay_token, audio_token, pad, audio_bos);
  const CodesView* clip = f.clips.data();
  const int64_t n_ids = f.input_ids.size, stride = f.input_ids.stride;
  const int64_t learned = visit_ids(f.input_ids, [&](const auto* p) {
    int64_t cursor = off, count = 0;
    for (int64_t t = 0; t < n_ids; ++t) {
      const int64_t token = p[t * stride];
      if (token != audio_token) {
        const int64_t label = correct ? spec[t] : hf_processor_text_label(token, audio_token, pad, audio_bos);
        ids[cursor] = token;
        labels[cursor++] = label;
        count += label != kIgnoreIndex;
        continue;
      }
      const int64_t audio = hf_clip_audio_tokens((clip++)->cols);
      std::fill(ids + cursor, ids + cursor + audio, audio_token);
      std::fill(labels + cursor, labels + cursor + audio, kIgnoreIndex);
      cursor += audio;
      std::fill(ids + cursor, ids + cursor + K - 1, delay_token);
      std::fill(labels + cursor, labels + cursor + K - 1, delay_label);
      cursor += K - 1;
      count += delay_label != kIgnoreIndex ? K - 1 : 0;
    }
    return count;
  });
  return learned;
}

// Packed: feature r's text at its place in the one row, its position ids from 0, and its first label -100
// (the shifted loss would otherwise train the previous feature's last token on it).
int64_t fill_packed_text(const HiggsHfFeatureIn& f, const HiggsHfOptions& opt, const HiggsHfPlan& plan, int64_t r,
                         const HiggsHfOutputs& out) {
  const int64_t begin = plan.text_begin[r], n = plan.text_len[r];
  int64_t learned = fill_text(f, opt, plan, r, begin, out);
  if (n > 0) {
    learned -= out.labels[begin] != kIgnoreIndex;
    out.labels[begin] = kIgnoreIndex;
  }
  for (int64_t t = 0; t < n; ++t) out.position_ids[begin + t] = t;
  return learned;
}

// One clip (codes of type T) into `frames` rows of K ids and labels, frame by frame so that every write is
// contiguous (the (T, K) layout). Each cell is the delay layout's (csrc/delay/delay_layout.h): the frames
// where some codebook holds no code (the first K, the last K) go through delay_cell()/delay_value(); in the
// frames between, every codebook holds a code by that same layout (codebook k's code run is
// [hf_clip_row(k).code_begin, code_end)), so they are transposed without asking per cell (code_frames.h).
template <typename T, bool correct>
FramesWritten fill_clip(const CodesView& c, int64_t K, const HiggsHfOptions& opt, bool no_train, int64_t* ids,
                        int64_t* labels) {
  const int64_t L = c.cols, frames = hf_clip_frames(L, K);
  const T* src = static_cast<const T*>(c.data);
  const int64_t rs = c.row_stride, cs = c.col_stride;
  const int64_t bos = opt.stream_bos, eos = opt.stream_eos;
  const DelayFill id_fill = delay_ids_fill(bos, eos);
  const DelayFill label_fill = delay_labels_fill(eos, no_train);
  // Counts in locals, as in fill_text: a counter behind a reference would be reloaded after every store.
  int64_t codes_or = 0;
  auto edge_frame = [&](int64_t t) {
    int64_t count = 0;
    for (int64_t k = 0; k < K; ++k) {
      const DelayRow row = hf_clip_row(k, L, K);
      const DelayCell kind = delay_cell(t, row);
      const int64_t code = kind == kCode ? static_cast<int64_t>(src[k * rs + (t - row.code_begin) * cs]) : 0;
      codes_or |= code;
      const int64_t id = delay_value(kind, code, id_fill);
      const int64_t label = correct ? delay_value(kind, code, label_fill) : hf_processor_audio_label(id, bos, eos);
      ids[t * K + k] = id;
      labels[t * K + k] = label;
      count += label != kIgnoreIndex;
    }
    return count;
  };
  // Every codebook is inside its code run from the last codebook's first code to the first codebook's last.
  const int64_t lo = hf_clip_row(K - 1, L, K).code_begin, hi = hf_clip_row(0, L, K).code_end;
  int64_t learned = 0;
  for (int64_t t = 0; t < lo; ++t) learned += edge_frame(t);
  // Codebook k's code for frame t is src[k][t - code_begin(k)]: from codebook 0's code of frame lo, codebook
  // k + 1's code of a frame is (row stride - col stride) further on.
  if (hi > lo) {
    CodeFrames middle;
    middle.codebooks = K;
    middle.frames = hi - lo;
    middle.step = rs - cs;
    middle.col_stride = cs;
    middle.labels = !correct ? CodeLabels::kProcessor : no_train ? CodeLabels::kIgnore : CodeLabels::kCopy;
    middle.stream_bos = bos;
    middle.stream_eos = eos;
    const FramesWritten w =
        write_code_frames(src + (lo - hf_clip_row(0, L, K).code_begin) * cs, middle, ids + lo * K, labels + lo * K);
    learned += w.learned;
    codes_or |= w.codes_or;
  }
  for (int64_t t = std::max(lo, hi); t < frames; ++t) learned += edge_frame(t);
  return {learned, codes_or};
}

// One feature's clips one after the other, from frame `first` of the outputs (padded: its row's first frame;
// packed: where the feature starts in the one row), their mask True. `written` gets the frames.
FramesWritten fill_clips(const HiggsHfFeatureIn& f, const HiggsHfOptions& opt, const HiggsHfPlan& plan, int64_t r,
                         int64_t first, const HiggsHfOutputs& out, int64_t& written) {
  const int64_t K = plan.codebooks;
  int64_t* ids = out.audio_ids + first * K;
  int64_t* labels = out.audio_labels + first * K;
  const bool correct = opt.spec.has_value();
  int64_t frame = 0;
  FramesWritten all;
  for (size_t j = 0; j < f.clips.size(); ++j) {
    const CodesView& c = f.clips[j];
    const bool no_train = plan.no_train[plan.clip_begin[r] + j] != 0;
    int64_t* clip_ids = ids + frame * K;
    int64_t* clip_labels = labels + frame * K;
    FramesWritten w;
    if (c.type == ElemType::kInt64) {
      w = correct ? fill_clip<int64_t, true>(c, K, opt, no_train, clip_ids, clip_labels)
                  : fill_clip<int64_t, false>(c, K, opt, no_train, clip_ids, clip_labels);
    } else {
      w = correct ? fill_clip<int32_t, true>(c, K, opt, no_train, clip_ids, clip_labels)
                  : fill_clip<int32_t, false>(c, K, opt, no_train, clip_ids, clip_labels);
    }
    all.learned += w.learned;
    all.codes_or |= w.codes_or;
    frame += hf_clip_frames(c.cols, K);
  }
  std::fill(out.audio_mask + first, out.audio_mask + first + frame, true);
  written = frame;
  return all;
}

// One padded audio row: the feature's clips, then padding (stream EOS, mask False, -100).
FramesWritten fill_audio_row(const HiggsHfFeatureIn& f, const HiggsHfOptions& opt, const HiggsHfPlan& plan, int64_t r,
                             const HiggsHfOutputs& out) {
  const int64_t K = plan.codebooks, TA = plan.frames;
  int64_t frame = 0;
  const FramesWritten clips = fill_clips(f, opt, plan, r, r * TA, out, frame);
  std::fill(out.audio_ids + (r * TA + frame) * K, out.audio_ids + (r + 1) * TA * K, opt.stream_eos);
  std::fill(out.audio_labels + (r * TA + frame) * K, out.audio_labels + (r + 1) * TA * K, kIgnoreIndex);
  std::fill(out.audio_mask + r * TA + frame, out.audio_mask + (r + 1) * TA, false);
  return clips;
}

}  // namespace

void fill_higgs_hf_batch(const std::vector<HiggsHfFeatureIn>& in, const HiggsHfOptions& opt, const HiggsHfPlan& plan,
                         const HiggsHfOutputs& out) {
  int64_t codes_or = 0;
  if (opt.packed) {
    for (int64_t r = 0; r <= plan.batch; ++r) out.cu_seqlens[r] = static_cast<int32_t>(plan.text_begin[r]);
    for (int64_t r = 0; r < plan.batch; ++r) {
      int64_t learned = fill_packed_text(in[r], opt, plan, r, out), frames = 0;
      if (plan.codebooks > 0) {
        const FramesWritten clips = fill_clips(in[r], opt, plan, r, plan.audio_begin[r], out, frames);
        learned += clips.learned;
        codes_or |= clips.codes_or;
      }
      out.num_learned[r] = learned;
    }
  } else {
    for (int64_t r = 0; r < plan.batch; ++r) {
      int64_t learned = fill_text(in[r], opt, plan, r, pad_text_row(opt, plan, r, out), out);
      if (plan.codebooks > 0) {
        const FramesWritten clips = fill_audio_row(in[r], opt, plan, r, out);
        learned += clips.learned;
        codes_or |= clips.codes_or;
      }
      out.num_learned[r] = learned;
    }
  }
  if (plan.codes_unchecked && (codes_or & ~(opt.codebook_size - 1)) != 0) raise_code_range_error(in, opt);
}

}  // namespace fastcollate
