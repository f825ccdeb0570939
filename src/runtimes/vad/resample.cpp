#include "runtimes/vad/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>

namespace serval::runtimes::vad {

namespace {
constexpr int kZeroCrossings = 16;
constexpr double kRolloff = 0.95;
constexpr std::int64_t kMaxPhases = 4096;
}  // namespace

std::vector<float> resample(std::span<const float> in, int from, int to) {
  if (from == to || in.empty()) return {in.begin(), in.end()};
  const std::int64_t g = std::gcd(from, to);
  const std::int64_t up = to / g, down = from / g;  // output n sits at input position n * down / up
  const std::int64_t phases = std::min(up, kMaxPhases);
  const double ratio = static_cast<double>(to) / from;
  const double cutoff = 0.5 * std::min(1.0, ratio) * kRolloff;  // cycles per input sample
  const int half = static_cast<int>(std::ceil(kZeroCrossings / (2.0 * cutoff)));
  const int taps = 2 * half;  // input offsets -half+1 .. half around floor(position)

  // filter[p * taps + j] weighs input floor(t) + (j - half + 1) for fractional position p / phases.
  std::vector<float> filter(static_cast<std::size_t>(phases * taps));
  for (std::int64_t p = 0; p < phases; ++p) {
    const double frac = static_cast<double>(p) / static_cast<double>(phases);
    double sum = 0;
    std::vector<double> h(static_cast<std::size_t>(taps));
    for (int j = 0; j < taps; ++j) {
      const double x = (j - half + 1) - frac;  // distance from the output position, in input samples
      const double u = x / half;
      double w = 0;
      if (std::abs(u) < 1) w = 0.42 + 0.5 * std::cos(std::numbers::pi * u) + 0.08 * std::cos(2 * std::numbers::pi * u);
      const double arg = 2 * cutoff * x;
      const double sinc = arg == 0 ? 1.0 : std::sin(std::numbers::pi * arg) / (std::numbers::pi * arg);
      h[static_cast<std::size_t>(j)] = 2 * cutoff * sinc * w;
      sum += h[static_cast<std::size_t>(j)];
    }
    for (int j = 0; j < taps; ++j)
      filter[static_cast<std::size_t>(p * taps + j)] = static_cast<float>(h[static_cast<std::size_t>(j)] / sum);
  }

  const auto n_in = static_cast<std::int64_t>(in.size());
  const std::int64_t n_out = (n_in * up + down - 1) / down;
  std::vector<float> out(static_cast<std::size_t>(n_out));
  for (std::int64_t n = 0; n < n_out; ++n) {
    const std::int64_t pos = n * down;  // in units of 1/up input samples
    const std::int64_t base = pos / up;
    const std::int64_t rem = pos % up;
    const std::int64_t phase = phases == up ? rem : (rem * phases + up / 2) / up;
    std::int64_t first = base - half + 1;
    const float* f = filter.data() + (phase == phases ? 0 : phase) * taps;
    if (phase == phases) {
      ++first;  // rounded up to the next whole input sample
    }
    double acc = 0;
    const std::int64_t lo = std::max<std::int64_t>(0, first), hi = std::min<std::int64_t>(n_in, first + taps);
    for (std::int64_t k = lo; k < hi; ++k) acc += static_cast<double>(in[static_cast<std::size_t>(k)]) * f[k - first];
    out[static_cast<std::size_t>(n)] = static_cast<float>(acc);
  }
  return out;
}

}  // namespace serval::runtimes::vad
