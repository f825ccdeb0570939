// Speech segments from Silero's per-window speech probabilities: the post-processing of
// silero-vad's get_speech_timestamps (hysteresis between threshold and neg_threshold, minimum
// speech and silence durations, padding split between close neighbours).
//
// Speech starts at the first window with p >= threshold; it ends at the first window with
// p < neg_threshold that is followed by min_silence_ms without a window >= threshold. Segments
// not longer than min_speech_ms are dropped; the rest are padded by speech_pad_ms on each side
// (half the gap each when two segments are closer than twice the pad), within the audio.
// A segment's confidence is the mean probability of its windows before padding.
//
//   VadOptions opt;                       // threshold 0.5, neg 0.35, 250/100/30 ms
//   auto segs = speech_segments(probs, samples.size(), 16000, 512, opt);
//   // segs[0].start, segs[0].end: sample indices at 16 kHz
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace serval::runtimes::vad {

struct VadOptions {
  double threshold = 0.5;
  double neg_threshold = -1;  // < 0: max(threshold - 0.15, 0.01)
  double min_speech_ms = 250;
  double min_silence_ms = 100;
  double speech_pad_ms = 30;
};

struct Segment {
  std::int64_t start = 0;  // samples
  std::int64_t end = 0;    // samples, exclusive
  float confidence = 0;
};

// probs[i] is the speech probability of samples [i * window, (i + 1) * window).
std::vector<Segment> speech_segments(std::span<const float> probs, std::int64_t total_samples, int sample_rate,
                                     int window, const VadOptions& options);

}  // namespace serval::runtimes::vad
