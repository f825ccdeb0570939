// The parameters of a VAD request: how its bytes are encoded and the segmentation options.
//
// Read from InferRequest::params over defaults that come from model.yaml `parameters` (same
// keys). Audio: format ("wav" default, "pcm_s16le", "pcm_f32le"); for raw PCM sample_rate
// (required) and channels (default 1). Segmentation: threshold (0..1, default 0.5),
// neg_threshold (0..threshold, default max(threshold - 0.15, 0.01)), min_speech_ms (250),
// min_silence_ms (100), speech_pad_ms (30), each 0..600000. Other keys are ignored.
//
//   VadParams p = defaults;
//   if (auto err = read_vad_params(req.params, p)) return fail(Client, *err);
//   // *err: "params.threshold must be a number between 0 and 1"
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "runtimes/vad/segments.hpp"
#include "runtimes/vad/wav.hpp"

namespace serval::runtimes::vad {

struct VadParams {
  std::optional<PcmFormat> pcm;  // nothing: a WAV file
  int sample_rate = 0;           // raw PCM only
  int channels = 1;              // raw PCM only
  VadOptions options;
};

// Overrides `p` with what `params` sets; the message names the offending key ("params.<key> ...").
std::optional<std::string> read_vad_params(const boost::json::object& params, VadParams& p,
                                           const char* prefix = "params.");

}  // namespace serval::runtimes::vad
