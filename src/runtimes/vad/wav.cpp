#include "runtimes/vad/wav.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <new>

namespace serval::runtimes::vad {

namespace {

constexpr int kMaxChannels = 64;
constexpr int kMaxSampleRate = 1'000'000;
constexpr std::uint16_t kPcm = 1, kFloat = 3, kExtensible = 0xFFFE;
// The 14 bytes after the format tag in a KSDATAFORMAT_SUBTYPE_* GUID (…-0000-0010-8000-00AA00389B71).
constexpr unsigned char kGuidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                         0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

std::uint32_t u16(const unsigned char* p) { return static_cast<std::uint32_t>(p[0] | (p[1] << 8)); }
std::uint32_t u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

template <class T>
Parsed<T> error(std::string message) {
  Parsed<T> p;
  p.error = std::move(message);
  return p;
}

// One sample of `bits`/`is_float` at p, as a float at full scale 1.0.
float sample(const unsigned char* p, int bits, bool is_float) {
  if (is_float) {
    if (bits == 32) return std::bit_cast<float>(u32(p));
    std::uint64_t v = u32(p) | (static_cast<std::uint64_t>(u32(p + 4)) << 32);
    return static_cast<float>(std::bit_cast<double>(v));
  }
  switch (bits) {
    case 8: return (static_cast<float>(p[0]) - 128.f) / 128.f;
    case 16: return static_cast<float>(static_cast<std::int16_t>(u16(p))) / 32768.f;
    case 24: {
      std::int32_t v = static_cast<std::int32_t>((p[0] << 8) | (p[1] << 16) | (static_cast<std::uint32_t>(p[2]) << 24)) >> 8;
      return static_cast<float>(v) / 8388608.f;
    }
    default: return static_cast<float>(static_cast<double>(static_cast<std::int32_t>(u32(p))) / 2147483648.0);
  }
}

// Mixes interleaved frames to mono.
Parsed<Audio> decode(const unsigned char* data, std::size_t frames, int channels, int sample_rate, int bits,
                     bool is_float) {
  Parsed<Audio> out;
  Audio audio;
  audio.sample_rate = sample_rate;
  audio.channels = channels;
  audio.samples.resize(frames);
  const std::size_t step = static_cast<std::size_t>(bits / 8);
  const float scale = 1.f / static_cast<float>(channels);
  const unsigned char* p = data;
  for (std::size_t f = 0; f < frames; ++f) {
    float sum = 0.f;
    for (int c = 0; c < channels; ++c, p += step) sum += sample(p, bits, is_float);
    if (!std::isfinite(sum)) {
      return error<Audio>("audio sample " + std::to_string(f) + " is NaN or infinite");
    }
    audio.samples[f] = channels == 1 ? sum : sum * scale;
  }
  out.value = std::move(audio);
  return out;
}

Parsed<WavInfo> header(std::string_view bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  if (n < 12 || std::memcmp(b, "RIFF", 4) != 0 || std::memcmp(b + 8, "WAVE", 4) != 0) {
    if (n >= 4 && std::memcmp(b, "RF64", 4) == 0) return error<WavInfo>("RF64 WAV files are not supported");
    return error<WavInfo>("not a WAV file: it does not start with RIFF....WAVE");
  }
  WavInfo info;
  bool have_fmt = false;
  std::size_t pos = 12;
  while (true) {
    if (n - pos < 8) {
      return error<WavInfo>(have_fmt ? "WAV file has no data chunk" : "WAV file has no fmt chunk");
    }
    const unsigned char* id = b + pos;
    const std::size_t size = u32(b + pos + 4);
    const std::size_t body = pos + 8;
    const std::size_t remaining = n - body;
    const std::string name(reinterpret_cast<const char*>(id), 4);
    if (std::memcmp(id, "data", 4) == 0) {
      if (!have_fmt) return error<WavInfo>("WAV data chunk comes before the fmt chunk");
      std::size_t data_size = size;
      if (size > remaining) {
        if (size < 0x7FFF0000u)
          return error<WavInfo>("WAV data chunk is truncated: it declares " + std::to_string(size) + " bytes, " +
                                std::to_string(remaining) + " are present");
        data_size = remaining;  // streaming placeholder: to the end of the input
      }
      const std::size_t frame = static_cast<std::size_t>(info.channels) * static_cast<std::size_t>(info.bits / 8);
      info.data_offset = body;
      info.frames = data_size / frame;
      return {info, {}};
    }
    if (size > remaining)
      return error<WavInfo>("WAV '" + name + "' chunk is truncated: it declares " + std::to_string(size) +
                            " bytes, " + std::to_string(remaining) + " are present");
    if (std::memcmp(id, "fmt ", 4) == 0) {
      if (have_fmt) return error<WavInfo>("WAV file has two fmt chunks");
      if (size < 16) return error<WavInfo>("WAV fmt chunk is too short (" + std::to_string(size) + " bytes)");
      const unsigned char* f = b + body;
      std::uint32_t tag = u16(f);
      info.channels = static_cast<int>(u16(f + 2));
      const std::uint32_t rate = u32(f + 4);
      const std::uint32_t block_align = u16(f + 12);
      info.bits = static_cast<int>(u16(f + 14));
      if (tag == kExtensible) {
        if (size < 40 || u16(f + 16) < 22)
          return error<WavInfo>("WAV fmt chunk says WAVE_FORMAT_EXTENSIBLE but is too short");
        if (std::memcmp(f + 26, kGuidTail, sizeof kGuidTail) != 0)
          return error<WavInfo>("WAV sub-format GUID is not PCM or IEEE float");
        tag = u16(f + 24);
        const int valid_bits = static_cast<int>(u16(f + 18));
        if (valid_bits != 0 && valid_bits != info.bits && tag == kFloat)
          return error<WavInfo>("WAV float samples with " + std::to_string(valid_bits) + " valid bits are not supported");
      }
      if (tag == kPcm) {
        if (info.bits != 8 && info.bits != 16 && info.bits != 24 && info.bits != 32)
          return error<WavInfo>("WAV PCM with " + std::to_string(info.bits) + " bits per sample is not supported (8, 16, 24, 32)");
      } else if (tag == kFloat) {
        info.is_float = true;
        if (info.bits != 32 && info.bits != 64)
          return error<WavInfo>("WAV float with " + std::to_string(info.bits) + " bits per sample is not supported (32, 64)");
      } else {
        return error<WavInfo>("WAV codec " + std::to_string(tag) + " is not supported (PCM or IEEE float only)");
      }
      if (info.channels < 1 || info.channels > kMaxChannels)
        return error<WavInfo>("WAV file has " + std::to_string(info.channels) + " channels (1.." +
                              std::to_string(kMaxChannels) + " supported)");
      if (rate < 1 || rate > static_cast<std::uint32_t>(kMaxSampleRate))
        return error<WavInfo>("WAV sample rate " + std::to_string(rate) + " Hz is out of range");
      info.sample_rate = static_cast<int>(rate);
      if (block_align != static_cast<std::uint32_t>(info.channels * info.bits / 8))
        return error<WavInfo>("WAV block align " + std::to_string(block_align) + " does not match " +
                              std::to_string(info.channels) + " channels of " + std::to_string(info.bits) + " bits");
      have_fmt = true;
    }
    // Next chunk (bodies are padded to an even size; a missing pad byte at the end is tolerated).
    pos = body + size + (size & 1);
    if (pos > n) pos = n;
  }
}

}  // namespace

Parsed<WavInfo> parse_wav_header(std::string_view bytes) noexcept {
  try {
    return header(bytes);
  } catch (const std::bad_alloc&) {
    return Parsed<WavInfo>{std::nullopt, "out of memory"};
  }
}

Parsed<Audio> parse_wav(std::string_view bytes) noexcept {
  try {
    auto h = header(bytes);
    if (!h) return error<Audio>(std::move(h.error));
    const WavInfo& info = *h.value;
    return decode(reinterpret_cast<const unsigned char*>(bytes.data()) + info.data_offset, info.frames,
                  info.channels, info.sample_rate, info.bits, info.is_float);
  } catch (const std::bad_alloc&) {
    return Parsed<Audio>{std::nullopt, "out of memory"};
  }
}

std::optional<PcmFormat> pcm_format_from_name(std::string_view name) noexcept {
  if (name == "pcm_s16le") return PcmFormat::S16LE;
  if (name == "pcm_f32le") return PcmFormat::F32LE;
  return std::nullopt;
}

std::optional<std::string> check_pcm(std::size_t bytes, PcmFormat format, int sample_rate, int channels) {
  if (sample_rate < 1 || sample_rate > kMaxSampleRate)
    return "sample_rate " + std::to_string(sample_rate) + " Hz is out of range";
  if (channels < 1 || channels > kMaxChannels)
    return "channels must be between 1 and " + std::to_string(kMaxChannels);
  const std::size_t frame = static_cast<std::size_t>(channels) * (format == PcmFormat::S16LE ? 2 : 4);
  if (bytes % frame != 0)
    return "raw PCM of " + std::to_string(bytes) + " bytes is not a whole number of " + std::to_string(frame) +
           "-byte frames";
  return std::nullopt;
}

Parsed<Audio> parse_pcm(std::string_view bytes, PcmFormat format, int sample_rate, int channels) noexcept {
  try {
    if (auto err = check_pcm(bytes.size(), format, sample_rate, channels)) return error<Audio>(std::move(*err));
    const bool is_float = format == PcmFormat::F32LE;
    const int bits = is_float ? 32 : 16;
    const std::size_t frames = bytes.size() / (static_cast<std::size_t>(channels) * static_cast<std::size_t>(bits / 8));
    return decode(reinterpret_cast<const unsigned char*>(bytes.data()), frames, channels, sample_rate, bits, is_float);
  } catch (const std::bad_alloc&) {
    return Parsed<Audio>{std::nullopt, "out of memory"};
  }
}

}  // namespace serval::runtimes::vad
