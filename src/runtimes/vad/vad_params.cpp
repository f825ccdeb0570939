#include "runtimes/vad/vad_params.hpp"

#include <cmath>

namespace serval::runtimes::vad {

namespace {
constexpr double kMaxMs = 600000;

std::optional<double> number(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double() && std::isfinite(v.as_double())) return v.as_double();
  return std::nullopt;
}
}  // namespace

std::optional<std::string> read_vad_params(const boost::json::object& params, VadParams& p, const char* prefix) {
  const std::string pre = prefix;
  auto range = [&](const char* key, double lo, double hi, double& into) -> std::optional<std::string> {
    auto it = params.find(key);
    if (it == params.end()) return std::nullopt;
    auto v = number(it->value());
    if (!v || *v < lo || *v > hi)
      return pre + key + " must be a number between " + std::to_string(static_cast<long long>(lo)) + " and " +
             std::to_string(static_cast<long long>(hi));
    into = *v;
    return std::nullopt;
  };
  auto integer = [&](const char* key, int lo, int hi, int& into) -> std::optional<std::string> {
    auto it = params.find(key);
    if (it == params.end()) return std::nullopt;
    auto v = number(it->value());
    if (!v || *v != std::floor(*v) || *v < lo || *v > hi)
      return pre + key + " must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
    into = static_cast<int>(*v);
    return std::nullopt;
  };

  if (auto it = params.find("format"); it != params.end()) {
    const auto* s = it->value().if_string();
    if (!s) return pre + "format must be a string: wav, pcm_s16le or pcm_f32le";
    if (*s == "wav") p.pcm.reset();
    else if (auto f = pcm_format_from_name(*s)) p.pcm = *f;
    else return pre + "format '" + std::string(*s) + "' is not one of wav, pcm_s16le, pcm_f32le";
  }
  if (auto e = integer("sample_rate", 1, 1'000'000, p.sample_rate)) return e;
  if (auto e = integer("channels", 1, 64, p.channels)) return e;
  if (p.pcm && p.sample_rate == 0) return pre + "sample_rate is required with format " +
                                          (*p.pcm == PcmFormat::S16LE ? "pcm_s16le" : "pcm_f32le");

  auto& o = p.options;
  const bool threshold_set = params.contains("threshold");
  if (auto e = range("threshold", 0, 1, o.threshold)) return e;
  if (auto e = range("neg_threshold", 0, 1, o.neg_threshold)) return e;
  if (threshold_set && !params.contains("neg_threshold")) o.neg_threshold = -1;  // derived from the new threshold
  if (o.neg_threshold > o.threshold)
    return pre + "neg_threshold (" + std::to_string(o.neg_threshold) + ") must not exceed threshold (" +
           std::to_string(o.threshold) + ")";
  if (auto e = range("min_speech_ms", 0, kMaxMs, o.min_speech_ms)) return e;
  if (auto e = range("min_silence_ms", 0, kMaxMs, o.min_silence_ms)) return e;
  if (auto e = range("speech_pad_ms", 0, kMaxMs, o.speech_pad_ms)) return e;
  return std::nullopt;
}

}  // namespace serval::runtimes::vad
