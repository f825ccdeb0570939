// Silero post-processing on hand-made probability sequences, and the resampler on tones.
#include "runtimes/vad/segments.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "runtimes/vad/resample.hpp"

namespace serval::runtimes::vad {
namespace {

constexpr int kWin = 512, kRate = 16000;  // 32 ms windows

std::vector<float> probs(std::initializer_list<std::pair<int, float>> runs) {
  std::vector<float> p;
  for (auto [n, v] : runs) p.insert(p.end(), static_cast<std::size_t>(n), v);
  return p;
}

TEST(VadSegments, OneSegmentPaddedAndScored) {
  auto p = probs({{30, 0.05f}, {20, 0.9f}, {30, 0.05f}});  // speech in windows 30..49
  auto s = speech_segments(p, 80 * kWin, kRate, kWin, {});
  ASSERT_EQ(s.size(), 1u);
  const std::int64_t pad = 30 * 16;
  EXPECT_EQ(s[0].start, 30 * kWin - pad);
  EXPECT_EQ(s[0].end, 50 * kWin + pad);
  EXPECT_NEAR(s[0].confidence, 0.9f, 1e-6);
}

TEST(VadSegments, ShortBurstsAndShortPausesAndHysteresis) {
  // 5 windows = 160 ms < 250 ms: dropped.
  EXPECT_TRUE(speech_segments(probs({{10, 0.f}, {5, 0.9f}, {10, 0.f}}), 25 * kWin, kRate, kWin, {}).empty());
  // A 2-window pause (64 ms < 100 ms) does not split; 0.4 (above neg 0.35) never ends speech.
  auto s = speech_segments(probs({{5, 0.f}, {10, 0.9f}, {2, 0.f}, {10, 0.9f}, {20, 0.4f}, {10, 0.9f}, {10, 0.f}}),
                           67 * kWin, kRate, kWin, {});
  ASSERT_EQ(s.size(), 1u);
  // A long pause splits in two; the gap is wide, so each side gets the full pad.
  s = speech_segments(probs({{5, 0.f}, {10, 0.9f}, {10, 0.f}, {10, 0.8f}, {5, 0.f}}), 40 * kWin, kRate, kWin, {});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].end, 15 * kWin + 480);
  EXPECT_EQ(s[1].start, 25 * kWin - 480);
  EXPECT_NEAR(s[1].confidence, 0.8f, 1e-6);
  // Speech running to the end ends at the last sample.
  s = speech_segments(probs({{5, 0.f}, {20, 0.9f}}), 25 * kWin - 100, kRate, kWin, {});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].end, 25 * kWin - 100);
  // Options: a higher threshold sees nothing.
  VadOptions strict;
  strict.threshold = 0.95;
  EXPECT_TRUE(speech_segments(probs({{5, 0.f}, {20, 0.9f}, {5, 0.f}}), 30 * kWin, kRate, kWin, strict).empty());
}

TEST(VadSegments, ClosePadsShareTheGap) {
  VadOptions o;
  o.speech_pad_ms = 200;  // 3200 samples each side; the gap is 10 windows = 5120 samples
  auto s = speech_segments(probs({{5, 0.f}, {10, 0.9f}, {10, 0.f}, {10, 0.9f}, {5, 0.f}}), 40 * kWin, kRate, kWin, o);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].start, 0);
  EXPECT_EQ(s[0].end, 15 * kWin + 2560);
  EXPECT_EQ(s[1].start, 25 * kWin - 2560);
  EXPECT_EQ(s[1].end, 40 * kWin);
}

double tone_amplitude(const std::vector<float>& x, double freq, int rate, std::size_t from, std::size_t to) {
  double c = 0, s = 0;
  for (std::size_t i = from; i < to; ++i) {
    const double ph = 2 * std::numbers::pi * freq * static_cast<double>(i) / rate;
    c += x[i] * std::cos(ph);
    s += x[i] * std::sin(ph);
  }
  return 2 * std::hypot(c, s) / static_cast<double>(to - from);
}

std::vector<float> tone(double freq, int rate, double seconds, double amp) {
  std::vector<float> x(static_cast<std::size_t>(seconds * rate));
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(amp * std::sin(2 * std::numbers::pi * freq * static_cast<double>(i) / rate));
  return x;
}

TEST(VadResample, KeepsTonesAndRemovesWhatCannotBeRepresented) {
  for (int from : {22050, 44100, 48000, 11025, 12345, 44101}) {
    SCOPED_TRACE(from);
    auto x = tone(1000, from, 1.0, 0.5);
    auto y = resample(x, from, 16000);
    EXPECT_EQ(y.size(), (x.size() * 16000 + from - 1) / from);
    EXPECT_NEAR(tone_amplitude(y, 1000, 16000, 800, y.size() - 800), 0.5, 0.01);
  }
  // 12 kHz at 48 kHz is above the new Nyquist (8 kHz): filtered out, not aliased to 4 kHz.
  auto hi = resample(tone(12000, 48000, 1.0, 0.5), 48000, 16000);
  EXPECT_LT(tone_amplitude(hi, 4000, 16000, 800, hi.size() - 800), 0.005);
  // DC stays DC.
  auto dc = resample(std::vector<float>(22050, 0.25f), 22050, 16000);
  EXPECT_NEAR(dc[dc.size() / 2], 0.25f, 1e-4);
  EXPECT_EQ(resample(std::vector<float>{1.f, 2.f}, 16000, 16000), (std::vector<float>{1.f, 2.f}));
  EXPECT_TRUE(resample({}, 44100, 16000).empty());
}

}  // namespace
}  // namespace serval::runtimes::vad
