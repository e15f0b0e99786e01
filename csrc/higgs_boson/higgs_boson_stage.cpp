// Packs a planned Higgs Audio batch into the staging buffer of backend="cuda" (see higgs_stage.h).
#include "higgs_boson/higgs_boson_stage.h"

#include <cstring>

#include "higgs_boson/higgs_boson_cuda.h"
#include "runtime/run.h"

namespace fastcollate {
namespace {

int64_t stream_cols(const std::vector<SegmentPlan>& segs) {
  int64_t n = 0;
  for (const SegmentPlan& s : segs) n += s.length;
  return n;
}

// One sample's text row, unpadded: ids and (raw) labels, whisper long-audio triples repeated as
// fill_text_row repeats them. Returns whether a label survives text_label (the row learns text).
bool stage_text_row(const HiggsSampleIn& s, const int64_t* chunk_counts, const HiggsOptions& opt, int64_t* ids,
                    int64_t* labels) {
  int64_t cursor = 0;
  bool learned = false;
  auto emit = [&](int64_t t) {
    const int64_t token = s.input_ids[t];
    ids[cursor] = token;
    if (labels) {
      const int64_t label = s.label_ids[t];
      labels[cursor] = label;
      learned =
          learned || text_label(token, label, opt.audio_out_token_id, opt.mask_audio_out_token_label) != kIgnoreIndex;
    }
    ++cursor;
  };
  int64_t audio_in_seen = 0;
  for (int64_t t = 0; t < s.input_ids.size; ++t) {
    emit(t);
    if (s.chunk_count_size == 0 || s.input_ids[t] != opt.audio_in_token_id) continue;
    const int64_t copies = chunk_counts[audio_in_seen++];
    if (copies == 1) continue;
    emit(++t);  // the triple's closing token (the Python layer checked that it exists)
    for (int64_t c = 1; c < copies; ++c) {
      emit(t - 2);
      emit(t - 1);
      emit(t);
    }
  }
  return learned;
}

// A stream's segment offsets (input columns in the packed codes, output columns) and its codes, (K, N).
void stage_stream(const HiggsBatchIn& in, const std::vector<SegmentPlan>& segs, int64_t codebooks, int64_t width,
                  bool label_codes, int64_t* src_offsets, int64_t* out_offsets, int64_t* codes, int64_t n_cols) {
  int64_t col = 0;
  for (size_t n = 0; n < segs.size(); ++n) {
    const SegmentPlan& seg = segs[n];
    src_offsets[n] = col;
    out_offsets[n] = seg.out_col;
    const CodesView& v =
        label_codes ? in.samples[seg.sample].audio_label_ids_concat : in.samples[seg.sample].audio_ids_concat;
    for (int64_t k = 0; k < codebooks; ++k) {
      int64_t* dst = codes + k * n_cols + col;
      for (int64_t t = 0; t < seg.length; ++t) dst[t] = v.at(k, seg.src_begin + t);
    }
    col += seg.length;
  }
  src_offsets[segs.size()] = col;
  out_offsets[segs.size()] = width;
}

}  // namespace

HiggsStageLayout plan_higgs_stage(const HiggsBatchIn&, const HiggsOptions& opt, const HiggsPlan& plan) {
  HiggsStageLayout l;
  int64_t w = 0;
  auto take = [&](int64_t words) {
    const int64_t at = w;
    w += words;
    return at;
  };
  for (int64_t n : plan.seq_len) l.text_tokens += n;
  l.in_cols = stream_cols(plan.audio_in);
  l.out_cols = stream_cols(plan.audio_out);
  l.out_label_codes_used = !opt.stream.transform && plan.with_labels && !plan.audio_out.empty();
  const int64_t s_in = static_cast<int64_t>(plan.audio_in.size()), s_out = static_cast<int64_t>(plan.audio_out.size());
  l.row_offsets = take(plan.batch + 1);
  l.ids = take(l.text_tokens);
  l.labels = take(plan.with_labels ? l.text_tokens : 0);
  l.in_src = take(s_in + 1);
  l.in_out = take(s_in + 1);
  l.in_codes = take(plan.in_codebooks * l.in_cols);
  l.out_src = take(s_out + 1);
  l.out_out = take(s_out + 1);
  l.out_codes = take(plan.out_codebooks * l.out_cols);
  l.out_label_codes = take(l.out_label_codes_used ? plan.out_codebooks * l.out_cols : 0);
  l.no_train = take(s_out);
  l.group_loc = take(plan.batch);
  l.rewards = take((static_cast<int64_t>(plan.rewards.size()) + 1) / 2);  // float32, two a word
  l.words = w;
  return l;
}

int64_t stage_higgs_batch(const HiggsBatchIn& in, const HiggsOptions& opt, const HiggsPlan& plan,
                          const HiggsStageLayout& l, int64_t* stage) {
  int64_t rows_without_learned_text = 0, offset = 0;
  int64_t* row_offsets = stage + l.row_offsets;
  for (int64_t r = 0; r < plan.batch; ++r) {
    const HiggsSampleIn& s = in.samples[r];
    row_offsets[r] = offset;
    const bool learned = stage_text_row(s, in.chunk_counts.data() + s.chunk_count_offset, opt, stage + l.ids + offset,
                                        plan.with_labels ? stage + l.labels + offset : nullptr);
    rows_without_learned_text += plan.with_labels && !learned;
    offset += plan.seq_len[r];
  }
  row_offsets[plan.batch] = offset;
  stage_stream(in, plan.audio_in, plan.in_codebooks, plan.in_width, false, stage + l.in_src, stage + l.in_out,
               stage + l.in_codes, l.in_cols);
  stage_stream(in, plan.audio_out, plan.out_codebooks, plan.out_width, false, stage + l.out_src, stage + l.out_out,
               stage + l.out_codes, l.out_cols);
  if (l.out_label_codes_used) {
    stage_stream(in, plan.audio_out, plan.out_codebooks, plan.out_width, true, stage + l.out_src, stage + l.out_out,
                 stage + l.out_label_codes, l.out_cols);
  }
  for (size_t n = 0; n < plan.audio_out.size(); ++n) stage[l.no_train + n] = plan.audio_out[n].no_train ? 1 : 0;
  for (int64_t r = 0; r < plan.batch; ++r) stage[l.group_loc + r] = r;
  if (!plan.rewards.empty()) {
    std::memcpy(stage + l.rewards, plan.rewards.data(), plan.rewards.size() * sizeof(float));
  }
  return rows_without_learned_text;
}

HiggsLaunch higgs_launch(const HiggsOptions& opt, const HiggsPlan& plan, const HiggsStageLayout& l,
                         const int64_t* stage, const HiggsOutputs& out) {
  HiggsLaunch a;
  HiggsTextLaunch& t = a.text;
  t.row_offsets = stage + l.row_offsets;
  t.ids = stage + l.ids;
  t.labels = plan.with_labels ? stage + l.labels : nullptr;
  t.batch = plan.batch;
  t.width = plan.seq_width;
  t.out_ids = out.input_ids;
  t.out_mask = out.attention_mask;
  t.out_labels = plan.with_labels ? out.label_ids : nullptr;
  t.pad_left = opt.pad_left;
  t.mask_audio_out = opt.mask_audio_out_token_label;
  t.pad_token_id = opt.pad_token_id;
  t.audio_out_token_id = opt.audio_out_token_id;

  auto stream = [&](HiggsStreamLaunch& s, const std::vector<SegmentPlan>& segs, int64_t codebooks, int64_t width,
                    int64_t src, int64_t dst, int64_t codes, int64_t n_cols, int64_t* ids) {
    s.codes = stage + codes;
    s.src_offsets = stage + src;
    s.out_offsets = stage + dst;
    s.n_segments = static_cast<int64_t>(segs.size());
    s.codebooks = codebooks;
    s.n_cols = n_cols;
    s.width = width;
    s.stream = opt.stream;
    s.out_ids = ids;
  };
  if (opt.return_audio_in_tokens) {
    stream(a.audio_in, plan.audio_in, plan.in_codebooks, plan.in_width, l.in_src, l.in_out, l.in_codes, l.in_cols,
           out.audio_in_ids);
    a.copies[a.n_copies++] =
        StagedCopy{out.audio_in_start, stage + l.in_out, static_cast<int64_t>(plan.audio_in.size() * sizeof(int64_t))};
  }
  stream(a.audio_out, plan.audio_out, plan.out_codebooks, plan.out_width, l.out_src, l.out_out, l.out_codes, l.out_cols,
         out.audio_out_ids);
  if (plan.with_labels) {
    a.audio_out.out_labels = out.label_audio_ids;
    a.audio_out.no_train = stage + l.no_train;
    if (l.out_label_codes_used) a.audio_out.label_codes = stage + l.out_label_codes;
  }
  a.copies[a.n_copies++] =
      StagedCopy{out.audio_out_start, stage + l.out_out, static_cast<int64_t>(plan.audio_out.size() * sizeof(int64_t))};
  if (!plan.audio_out.empty()) {
    a.copies[a.n_copies++] = StagedCopy{out.group_loc, stage + l.group_loc, plan.batch * 8};
  }
  a.copies[a.n_copies++] =
      StagedCopy{out.rewards, stage + l.rewards, static_cast<int64_t>(plan.rewards.size() * sizeof(float))};
  return a;
}

void run_higgs(const Target& target, const HiggsLaunch& a) {
  run_on(
      target, [&](CpuLauncher& l) { launch_higgs(l, a); }, [&](const CudaTarget& t) { FC_ON_CUDA(cuda_higgs(t, a)); });
}

}  // namespace fastcollate
