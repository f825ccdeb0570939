// Audio decoding for the VAD runtime: a RIFF/WAVE parser and raw PCM, mixed down to mono floats.
//
// The bytes come from clients, so everything is bounds-checked and nothing throws: each function
// returns the audio or a message that says what is wrong ("WAV data chunk is truncated: it
// declares 64000 bytes, 1200 are present"). Supported WAV codecs: PCM 8/16/24/32-bit integer and
// IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE, 1..64 channels. A data chunk whose size
// is a streaming placeholder (0xFFFFFFFF, or >= 0x7FFF0000 as espeak-ng and sox write to a pipe)
// runs to the end of the input; a trailing partial frame is dropped. Chunks after `data` are not
// read.
//
//   Parsed<Audio> a = parse_wav(body);
//   if (!a) return fail(a.error);          // "not a WAV file: it does not start with RIFF....WAVE"
//   use(a.value->samples, a.value->sample_rate);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace serval::runtimes::vad {

// A value or the reason there is none.
template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const noexcept { return value.has_value(); }
};

// What the fmt and data chunks say, without decoding a sample.
struct WavInfo {
  int channels = 0;
  int sample_rate = 0;
  int bits = 0;            // per sample
  bool is_float = false;
  std::size_t data_offset = 0;  // where the samples start in the input
  std::size_t frames = 0;       // whole frames in the data chunk
};

struct Audio {
  int sample_rate = 0;
  int channels = 0;            // of the input, before the mix to mono
  std::vector<float> samples;  // mono, full scale = 1.0
};

// Checks the RIFF structure and the fmt chunk; cheap (reads no sample).
Parsed<WavInfo> parse_wav_header(std::string_view bytes) noexcept;
// Header + samples, mixed to mono. A NaN or infinite float sample is an error.
Parsed<Audio> parse_wav(std::string_view bytes) noexcept;

enum class PcmFormat { S16LE, F32LE };
// "pcm_s16le" / "pcm_f32le".
std::optional<PcmFormat> pcm_format_from_name(std::string_view name) noexcept;
// Headerless interleaved little-endian samples; the size must be a whole number of frames.
std::optional<std::string> check_pcm(std::size_t bytes, PcmFormat format, int sample_rate, int channels);
Parsed<Audio> parse_pcm(std::string_view bytes, PcmFormat format, int sample_rate, int channels = 1) noexcept;

}  // namespace serval::runtimes::vad
