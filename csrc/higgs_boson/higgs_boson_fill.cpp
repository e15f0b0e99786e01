// Pass 2: write every output exactly once from the plan. Runs without the GIL; touches only raw buffers.
#include <algorithm>
#include <iterator>

#include "delay/delay_row_fill.h"
#include "higgs_boson/higgs_boson_collate.h"

namespace fastcollate {
namespace {

void fill_value(int64_t* dst, int64_t n, int64_t value) {
  for (int64_t c = 0; c < n; ++c) dst[c] = value;
}

// Codebook k of a segment whose codes start at column col0 of `src` (int32/int64, any stride): one row of
// the delay layout (csrc/delay/delay_row_fill.h, the same code the ops run).
void fill_stream_row(int64_t* dst, const DelayRow& row, const DelayFill& fill, const CodesView& src, int64_t k,
                     int64_t col0) {
  const int64_t first = k * src.row_stride + col0 * src.col_stride;
  if (src.type == ElemType::kInt64) {
    fill_delay_row(dst, 1, row, fill, static_cast<const int64_t*>(src.data) + first, src.col_stride);
  } else {
    fill_delay_row(dst, 1, row, fill, static_cast<const int32_t*>(src.data) + first, src.col_stride);
  }
}

// Token ids and their labels for a row without repeated triples, typed and unit-stride where possible.
void copy_text(int64_t* ids, int64_t* labels, const HiggsSampleIn& s, const HiggsOptions& opt) {
  const int64_t n = s.input_ids.size, id_stride = s.input_ids.stride;
  visit_ids(s.input_ids, [&](const auto* src) {
    if (id_stride == 1) {
      for (int64_t t = 0; t < n; ++t) ids[t] = src[t];
    } else {
      for (int64_t t = 0; t < n; ++t) ids[t] = src[t * id_stride];
    }
  });
  if (!labels) return;
  const int64_t label_stride = s.label_ids.stride;
  const int64_t audio_out = opt.audio_out_token_id;
  const bool mask = opt.mask_audio_out_token_label;
  visit_ids(s.label_ids, [&](const auto* src) {
    // Reads the ids just written (int64, contiguous) rather than the caller's buffer a second time.
    if (label_stride == 1) {
      for (int64_t t = 0; t < n; ++t) labels[t] = text_label(ids[t], src[t], audio_out, mask);
    } else {
      for (int64_t t = 0; t < n; ++t) labels[t] = text_label(ids[t], src[t * label_stride], audio_out, mask);
    }
  });
}

// One padded text row: input ids, attention mask and labels, with whisper long-audio triples repeated.
void fill_text_row(const HiggsSampleIn& s, const int64_t* chunk_counts, const HiggsOptions& opt, const HiggsPlan& plan,
                   int64_t r, const HiggsOutputs& out) {
  const int64_t width = plan.seq_width;
  const int64_t n = plan.seq_len[r];
  const int64_t off = padded_row_offset(n, width, opt.pad_left);
  int64_t* ids = out.input_ids + r * width;
  int64_t* mask = out.attention_mask + r * width;
  // Flags, not null pointers, decide what is written: an empty tensor's data_ptr() may be null.
  int64_t* labels = plan.with_labels ? out.label_ids + r * width : nullptr;

  fill_value(ids, off, opt.pad_token_id);
  fill_value(ids + off + n, width - off - n, opt.pad_token_id);
  fill_value(mask, off, 0);
  fill_value(mask + off, n, 1);
  fill_value(mask + off + n, width - off - n, 0);
  if (labels) {
    fill_value(labels, off, kIgnoreIndex);
    fill_value(labels + off + n, width - off - n, kIgnoreIndex);
  }

  int64_t cursor = off;
  auto emit = [&](int64_t t) {
    const int64_t token = s.input_ids[t];
    ids[cursor] = token;
    if (labels)
      labels[cursor] = text_label(token, s.label_ids[t], opt.audio_out_token_id, opt.mask_audio_out_token_label);
    ++cursor;
  };
  const int64_t n_src = s.input_ids.size;
  if (s.chunk_count_size == 0) {  // the hot path: one typed loop per field
    copy_text(ids + off, labels ? labels + off : nullptr, s, opt);
    return;
  }
  // The Python layer checked that a repeated <|AUDIO|> has a non-audio token on each side.
  int64_t audio_in_seen = 0;
  for (int64_t t = 0; t < n_src; ++t) {
    emit(t);
    if (s.input_ids[t] != opt.audio_in_token_id) continue;
    const int64_t copies = chunk_counts[audio_in_seen++];
    if (copies == 1) continue;
    emit(++t);  // the triple's closing token
    for (int64_t c = 1; c < copies; ++c) {
      emit(t - 2);
      emit(t - 1);
      emit(t);
    }
  }
}

void fill_audio_stream(const HiggsBatchIn& in, const HiggsOptions& opt, const std::vector<SegmentPlan>& segs,
                       int64_t codebooks, int64_t width, int64_t* ids, int64_t* starts, int64_t* labels) {
  const AudioStreamParams& p = opt.stream;
  const DelayFill id_fill = delay_ids_fill(p.bos, p.eos);
  for (size_t n = 0; n < segs.size(); ++n) {
    const SegmentPlan& seg = segs[n];
    const HiggsSampleIn& s = in.samples[seg.sample];
    starts[n] = seg.out_col;
    // Without the transform, labels are copied from audio_label_ids_concat (no stream tokens, no delay).
    const CodesView& label_src = p.transform ? s.audio_ids_concat : s.audio_label_ids_concat;
    const DelayFill label_fill = delay_labels_fill(p.eos, seg.no_train);
    for (int64_t k = 0; k < codebooks; ++k) {
      const DelayRow row = audio_row(k, seg.length, codebooks, p);
      fill_stream_row(ids + k * width + seg.out_col, row, id_fill, s.audio_ids_concat, k, seg.src_begin);
      if (labels) fill_stream_row(labels + k * width + seg.out_col, row, label_fill, label_src, k, seg.src_begin);
    }
  }
}

}  // namespace

int64_t fill_higgs_batch(const HiggsBatchIn& in, const HiggsOptions& opt, const HiggsPlan& plan,
                         const HiggsOutputs& out) {
  int64_t rows_without_learned_text = 0;
  for (int64_t r = 0; r < plan.batch; ++r) {
    const HiggsSampleIn& s = in.samples[r];
    fill_text_row(s, in.chunk_counts.data() + s.chunk_count_offset, opt, plan, r, out);
    if (plan.with_labels) {
      // Scanned from the end, where the assistant's learned tokens usually are: one cache-hot pass at most.
      const int64_t* row = out.label_ids + r * plan.seq_width;
      const bool learned =
          std::any_of(std::make_reverse_iterator(row + plan.seq_width), std::make_reverse_iterator(row),
                      [](int64_t label) { return label != kIgnoreIndex; });
      rows_without_learned_text += !learned;
    }
  }
  if (opt.return_audio_in_tokens) {
    fill_audio_stream(in, opt, plan.audio_in, plan.in_codebooks, plan.in_width, out.audio_in_ids, out.audio_in_start,
                      nullptr);
  }
  fill_audio_stream(in, opt, plan.audio_out, plan.out_codebooks, plan.out_width, out.audio_out_ids, out.audio_out_start,
                    plan.with_labels ? out.label_audio_ids : nullptr);
  if (!plan.audio_out.empty()) {
    for (int64_t r = 0; r < plan.batch; ++r) out.group_loc[r] = r;
  }
  for (size_t n = 0; n < plan.rewards.size(); ++n) out.rewards[n] = plan.rewards[n];
  return rows_without_learned_text;
}

}  // namespace fastcollate
