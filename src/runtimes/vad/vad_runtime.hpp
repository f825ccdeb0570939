// The Silero VAD runtime (`runtime: vad`, `task: vad`): audio in, speech segments out.
//
// InferRequest::bytes holds a WAV file (PCM 8/16/24/32-bit or float 32/64-bit, any channel count,
// mixed to mono) or raw PCM with params.format = "pcm_s16le" | "pcm_f32le" and
// params.sample_rate (see vad_params.hpp for every parameter). Audio at 8000 or 16000 Hz goes to
// the model as it is; any other rate from 8000 to 48000 Hz is resampled to 16000 Hz (polyphase
// windowed sinc, resample.hpp). The response json:
//
//   {"sample_rate": 16000, "duration_s": 3.2,
//    "segments": [{"start_s": 0.51, "end_s": 1.73, "confidence": 0.93}]}
//
// sample_rate is the rate the model ran at; times are seconds rounded to the millisecond. All the
// requests of a batch at one rate run together, one window of each per session run.
//
// model.yaml parameters: file (default "silero_vad.onnx"), the segmentation defaults (threshold,
// neg_threshold, min_speech_ms, min_silence_ms, speech_pad_ms) and the ONNX session options of
// ort_env.hpp.
//
//   # models/vad/model.yaml
//   runtime: vad
//   task: vad
//   batching: {max_batch_size: 8, max_queue_delay_ms: 5}
//   parameters: {threshold: 0.5}
//
//   auto rt = serval::runtimes::vad::make_vad_runtime({spec, "models/vad/1", 1});
#pragma once

#include <memory>

#include "serval/serving/runtime.hpp"

namespace serval::runtimes::vad {

// Throws std::runtime_error when the model file is missing or is not Silero VAD v5, or a
// parameter is invalid.
std::unique_ptr<serving::Runtime> make_vad_runtime(const serving::LoadContext& ctx);

}  // namespace serval::runtimes::vad
