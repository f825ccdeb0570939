// The Silero VAD v5 ONNX model, run over several audio streams at once.
//
// v5 takes `input` [B, context + window] float, `state` [2, B, 128] float and (except in the
// 16 kHz-only exports) `sr` int64 scalar; it gives `output` [B, 1] (speech probability of the
// window) and `stateN`. A window is 512 samples at 16 kHz (256 at 8 kHz) and each one is
// preceded by the last 64 (32) samples of the previous window, zeros before the first; the
// recurrent state starts at zero. The streams of one call advance together, one window each per
// session run, with a batch that shrinks as the shorter streams end; a stream's last window is
// padded with zeros. Batching does not change any stream's probabilities.
//
//   SileroModel model(path, spec.parameters);
//   auto probs = model.probabilities({a, b}, 16000);   // probs[0].size() == ceil(a.size() / 512.0)
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include <boost/json/object.hpp>

namespace serval::runtimes::vad {

class SileroModel {
 public:
  // Throws std::runtime_error when the file is missing or is not a Silero VAD v5 model.
  SileroModel(const std::filesystem::path& file, const boost::json::object& parameters);

  // Speech probability of every window of every stream; 8000 or 16000 Hz (see supports()).
  // Throws Ort::Exception when a session run fails.
  std::vector<std::vector<float>> probabilities(std::span<const std::span<const float>> streams, int sample_rate);

  static int window_size(int sample_rate) noexcept { return sample_rate == 8000 ? 256 : 512; }
  static int context_size(int sample_rate) noexcept { return sample_rate == 8000 ? 32 : 64; }
  bool supports(int sample_rate) const noexcept {
    return sample_rate == 16000 || (sample_rate == 8000 && has_sr_);
  }
  const std::string& version() const noexcept { return version_; }
  bool has_sample_rate_input() const noexcept { return has_sr_; }

 private:
  Ort::Session session_;
  std::string version_ = "v5";
  bool has_sr_ = false;
  std::vector<std::string> input_names_, output_names_;
  std::size_t prob_output_ = 0, state_output_ = 1;
};

}  // namespace serval::runtimes::vad
