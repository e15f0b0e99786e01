// Per-element rules of the transformers Higgs Audio v2 collation (HiggsAudioV2Collator), shared by the CPU
// fill and any CUDA kernel. The audio layout itself is csrc/delay/delay_layout.h (one definition of the delay
// pattern): a clip of L codes and K codebooks is the ragged delay pattern with the stream BOS/EOS, default
// delays k, in "BTK" order: L + K + 1 frames of K codes.
#pragma once

#include <cstdint>

#include "common/host_device.h"
#include "common/labels.h"
#include "delay/delay_layout.h"

namespace fastcollate {

// Frames (and text positions) of one clip: L + 2 audio tokens (the wrapped stream), then K - 1 delay tokens.
FC_HD int64_t hf_clip_frames(int64_t length, int64_t codebooks) {
  return delayed_width(length, codebooks - 1, /*wrap=*/true, /*extend=*/true);
}

// Codebook k of a clip: delayed by k frames, wrapped in the stream BOS and EOS.
FC_HD DelayRow hf_clip_row(int64_t k, int64_t length, int64_t codebooks) {
  return delay_row(length, k, /*wrap=*/true, hf_clip_frames(length, codebooks));
}

// Text positions of a clip that hold the audio token (the others, K - 1 of them, hold the delay token).
FC_HD int64_t hf_clip_audio_tokens(int64_t length) { return length + 2; }

// label_mode "processor": the processor masks these three ids wherever they are (padding included).
FC_HD int64_t hf_processor_text_label(int64_t token, int64_t audio_token, int64_t pad, int64_t audio_bos) {
  return (token == audio_token || token == pad || token == audio_bos) ? kIgnoreIndex : token;
}

// label_mode "processor": every stream BOS and EOS value is masked (fills and padding included).
FC_HD int64_t hf_processor_audio_label(int64_t id, int64_t stream_bos, int64_t stream_eos) {
  return (id == stream_bos || id == stream_eos) ? kIgnoreIndex : id;
}

}  // namespace fastcollate
