// Pass 2: write every output exactly once from the plan. Runs without the GIL; touches only raw buffers.
#include <algorithm>

#include "higgs_v2/hf_higgs_collate.h"
#include "higgs_v2/hf_higgs_rules.h"
#include "ops/delay_row_fill.h"

namespace fastcollate {
namespace {

// Frames per block: a clip is written a block of frames at a time for every codebook, so the block's cache
// lines, which all K codebooks share in the (T, K) layout, are filled while they are in L1 (as the ops'
// "BTK" fill does).
constexpr int64_t kFrameBlock = 64;

int64_t count_learned(const int64_t* labels, int64_t n) {
  int64_t learned = 0;
  for (int64_t i = 0; i < n; ++i) learned += labels[i] != kIgnoreIndex;
  return learned;
}

// One text row: the feature's ids with every placeholder expanded, its attention mask and labels.
int64_t fill_text_row(const HfHiggsFeatureIn& f, const HfHiggsOptions& opt, const HfHiggsPlan& plan, int64_t r,
                      const HfHiggsOutputs& out) {
  const int64_t W = plan.width, n = plan.text_len[r], K = plan.codebooks;
  const int64_t off = opt.pad_left ? W - n : 0;
  int64_t* ids = out.input_ids + r * W;
  int64_t* mask = out.attention_mask + r * W;
  int64_t* labels = out.labels + r * W;
  std::fill(ids, ids + off, opt.pad_token_id);
  std::fill(ids + off + n, ids + W, opt.pad_token_id);
  std::fill(mask, mask + W, 0);
  std::fill(mask + off, mask + off + n, 1);
  std::fill(labels, labels + off, kIgnoreIndex);  // the processor's rule masks pad_token_id too
  std::fill(labels + off + n, labels + W, kIgnoreIndex);

  const bool correct = opt.spec.has_value();
  const int64_t* spec = correct ? plan.spec_labels.data() + plan.spec_offsets[r] : nullptr;
  auto text_label = [&](int64_t token, int64_t t) {
    return correct ? spec[t] : hf_processor_text_label(token, opt.audio_token_id, opt.pad_token_id,
                                                       opt.audio_bos_token_id);
  };
  // Placeholder positions: masked in the correct mode; the processor masks only the audio token.
  const int64_t delay_label = correct ? kIgnoreIndex : text_label(opt.audio_delay_token_id, 0);
  int64_t cursor = off, clip = 0;
  visit_ids(f.input_ids, [&](const auto* p) {
    const int64_t stride = f.input_ids.stride;
    for (int64_t t = 0; t < f.input_ids.size; ++t) {
      const int64_t token = p[t * stride];
      if (token != opt.audio_token_id) {
        ids[cursor] = token;
        labels[cursor++] = text_label(token, t);
        continue;
      }
      const int64_t audio = hf_clip_audio_tokens(f.clips[clip++].cols);
      std::fill(ids + cursor, ids + cursor + audio, opt.audio_token_id);
      std::fill(labels + cursor, labels + cursor + audio, kIgnoreIndex);
      cursor += audio;
      std::fill(ids + cursor, ids + cursor + K - 1, opt.audio_delay_token_id);
      std::fill(labels + cursor, labels + cursor + K - 1, delay_label);
      cursor += K - 1;
    }
  });
  return count_learned(labels + off, n);
}

// Columns [first, last) of every codebook of one clip (codes of type T), into (frames, K) rows at `ids`.
template <typename T>
void fill_clip_block(const CodesView& c, int64_t K, const DelayFill& id_fill, const DelayFill* label_fill,
                     int64_t* ids, int64_t* labels, int64_t first, int64_t last) {
  const T* src = static_cast<const T*>(c.data);
  for (int64_t k = 0; k < K; ++k) {
    const DelayRow row = hf_clip_row(k, c.cols, K);
    fill_delay_columns(ids + k, K, row, id_fill, src + k * c.row_stride, c.col_stride, first, last);
    if (label_fill) fill_delay_columns(labels + k, K, row, *label_fill, src + k * c.row_stride, c.col_stride, first, last);
  }
}

// One audio row: the feature's clips one after the other, then padding (stream EOS, mask False, -100).
int64_t fill_audio_row(const HfHiggsFeatureIn& f, const HfHiggsOptions& opt, const HfHiggsPlan& plan, int64_t r,
                       const HfHiggsOutputs& out) {
  const int64_t K = plan.codebooks, TA = plan.frames;
  int64_t* ids = out.audio_ids + r * TA * K;
  int64_t* labels = out.audio_labels + r * TA * K;
  const bool correct = opt.spec.has_value();
  const DelayFill id_fill = delay_ids_fill(opt.stream_bos, opt.stream_eos);
  int64_t frame = 0;
  for (size_t j = 0; j < f.clips.size(); ++j) {
    const CodesView& c = f.clips[j];
    const int64_t T = hf_clip_frames(c.cols, K);
    const DelayFill label_fill = delay_labels_fill(opt.stream_eos, plan.no_train[plan.clip_begin[r] + j] != 0);
    int64_t* clip_ids = ids + frame * K;
    int64_t* clip_labels = labels + frame * K;
    for (int64_t first = 0; first < T; first += kFrameBlock) {
      const int64_t last = std::min(T, first + kFrameBlock);
      if (c.type == IntType::I64) {
        fill_clip_block<int64_t>(c, K, id_fill, correct ? &label_fill : nullptr, clip_ids, clip_labels, first, last);
      } else {
        fill_clip_block<int32_t>(c, K, id_fill, correct ? &label_fill : nullptr, clip_ids, clip_labels, first, last);
      }
      if (!correct) {  // the processor's labels: the ids with every stream BOS/EOS value masked
        for (int64_t e = first * K; e < last * K; ++e) {
          clip_labels[e] = hf_processor_audio_label(clip_ids[e], opt.stream_bos, opt.stream_eos);
        }
      }
    }
    frame += T;
  }
  std::fill(ids + frame * K, ids + TA * K, opt.stream_eos);
  std::fill(labels + frame * K, labels + TA * K, kIgnoreIndex);
  std::fill(out.audio_mask + r * TA, out.audio_mask + r * TA + frame, true);
  std::fill(out.audio_mask + r * TA + frame, out.audio_mask + (r + 1) * TA, false);
  return count_learned(labels, frame * K);
}

}  // namespace

void fill_hf_higgs_batch(const std::vector<HfHiggsFeatureIn>& in, const HfHiggsOptions& opt,
                         const HfHiggsPlan& plan, const HfHiggsOutputs& out) {
  for (int64_t r = 0; r < plan.batch; ++r) {
    int64_t learned = fill_text_row(in[r], opt, plan, r, out);
    if (plan.codebooks > 0) learned += fill_audio_row(in[r], opt, plan, r, out);
    out.num_learned[r] = learned;
  }
}

}  // namespace fastcollate
