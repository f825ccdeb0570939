// Sample-rate conversion for mono audio: a polyphase windowed-sinc interpolator (Blackman
// window, 16 zero crossings each side, cut-off at 95% of the lower Nyquist frequency).
//
// The ratio from/to is reduced by the gcd; each output phase gets its own precomputed filter
// (at most 4096 phases: beyond that, the nearest of 4096 evenly spaced phases is used, an error
// of at most 1/8192 of an input sample). DC gain is exactly 1; outside the input is silence.
//
//   std::vector<float> y = resample(x, 22050, 16000);   // y.size() == ceil(x.size() * 16000 / 22050)
#pragma once

#include <span>
#include <vector>

namespace serval::runtimes::vad {

// from, to > 0. Returns a copy when from == to.
std::vector<float> resample(std::span<const float> in, int from, int to);

}  // namespace serval::runtimes::vad
