#include "runtimes/vad/segments.hpp"

#include <algorithm>

namespace serval::runtimes::vad {

std::vector<Segment> speech_segments(std::span<const float> probs, std::int64_t total_samples, int sample_rate,
                                     int window, const VadOptions& options) {
  const double threshold = options.threshold;
  const double neg = options.neg_threshold >= 0 ? options.neg_threshold : std::max(threshold - 0.15, 0.01);
  const double per_ms = sample_rate / 1000.0;
  const double min_speech = options.min_speech_ms * per_ms;
  const double min_silence = options.min_silence_ms * per_ms;
  const auto pad = static_cast<std::int64_t>(options.speech_pad_ms * per_ms);

  std::vector<Segment> speeches;
  bool triggered = false;
  std::int64_t start = 0, temp_end = 0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    const double p = probs[i];
    const std::int64_t at = static_cast<std::int64_t>(i) * window;
    if (p >= threshold && temp_end) temp_end = 0;
    if (p >= threshold && !triggered) {
      triggered = true;
      start = at;
      continue;
    }
    if (p < neg && triggered) {
      if (!temp_end) temp_end = at;
      if (static_cast<double>(at - temp_end) < min_silence) continue;
      if (static_cast<double>(temp_end - start) > min_speech) speeches.push_back({start, temp_end, 0});
      triggered = false;
      temp_end = 0;
    }
  }
  if (triggered && static_cast<double>(total_samples - start) > min_speech)
    speeches.push_back({start, total_samples, 0});

  for (auto& s : speeches) {
    double sum = 0;
    std::size_t n = 0;
    for (std::int64_t at = s.start; at < s.end; at += window) {
      const auto i = static_cast<std::size_t>(at / window);
      if (i >= probs.size()) break;
      sum += probs[i];
      ++n;
    }
    s.confidence = n ? static_cast<float>(sum / static_cast<double>(n)) : 0.f;
  }

  for (std::size_t i = 0; i < speeches.size(); ++i) {
    auto& s = speeches[i];
    if (i == 0) s.start = std::max<std::int64_t>(0, s.start - pad);
    if (i + 1 < speeches.size()) {
      auto& next = speeches[i + 1];
      const std::int64_t gap = next.start - s.end;
      if (gap < 2 * pad) {
        s.end += gap / 2;
        next.start = std::max<std::int64_t>(0, next.start - gap / 2);
      } else {
        s.end = std::min(total_samples, s.end + pad);
        next.start = std::max<std::int64_t>(0, next.start - pad);
      }
    } else {
      s.end = std::min(total_samples, s.end + pad);
    }
  }
  return speeches;
}

}  // namespace serval::runtimes::vad
