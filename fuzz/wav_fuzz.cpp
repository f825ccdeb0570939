// Fuzzes the VAD runtime's audio decoding (client bytes): WAV files of every codec and chunk layout,
// and raw PCM. Any input either fails with a message or yields finite mono samples whose count
// matches what the header promised. Sanitizers catch memory and UB bugs along the way.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.hpp"
#include "runtimes/vad/wav.hpp"

using namespace serval::runtimes::vad;
using serval::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const auto header = parse_wav_header(bytes);
  const auto audio = parse_wav(bytes);
  check(header || !header.error.empty());
  check(audio || !audio.error.empty());
  if (audio) {
    check(header.value.has_value());
    check(audio.value->sample_rate > 0 && audio.value->channels >= 1 && audio.value->channels <= 64);
    check(audio.value->samples.size() <= size);  // never more samples than input bytes
    for (float s : audio.value->samples) check(std::isfinite(s));
  }

  // The same bytes as headerless PCM, for both formats.
  for (PcmFormat f : {PcmFormat::S16LE, PcmFormat::F32LE}) {
    const int channels = size ? 1 + data[0] % 3 : 1;
    const auto pcm = parse_pcm(bytes, f, 16000, channels);
    check(pcm || !pcm.error.empty());
    if (pcm) {
      const std::size_t width = f == PcmFormat::S16LE ? 2 : 4;
      check(pcm.value->samples.size() * width * static_cast<std::size_t>(channels) == size);
      for (float s : pcm.value->samples) check(std::isfinite(s));
    }
  }
  return 0;
}
