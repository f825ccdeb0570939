// WAV and raw PCM decoding: valid files of every supported kind, and malformed input rejected
// with a message (never a crash).
#include "runtimes/vad/wav.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace serval::runtimes::vad {
namespace {

void put16(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v & 0xFF);
  s += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}

struct WavSpec {
  std::uint16_t tag = 1;  // 1 PCM, 3 float, 0xFFFE extensible
  std::uint16_t sub_tag = 1;
  int channels = 1;
  int rate = 16000;
  int bits = 16;
};

std::string fmt_chunk(const WavSpec& w) {
  std::string f;
  put16(f, w.tag);
  put16(f, static_cast<std::uint32_t>(w.channels));
  put32(f, static_cast<std::uint32_t>(w.rate));
  put32(f, static_cast<std::uint32_t>(w.rate * w.channels * w.bits / 8));
  put16(f, static_cast<std::uint32_t>(w.channels * w.bits / 8));
  put16(f, static_cast<std::uint32_t>(w.bits));
  if (w.tag == 0xFFFE) {
    put16(f, 22);
    put16(f, static_cast<std::uint32_t>(w.bits));
    put32(f, 0);  // channel mask
    put16(f, w.sub_tag);
    const unsigned char tail[14] = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
    f.append(reinterpret_cast<const char*>(tail), 14);
  }
  std::string c = "fmt ";
  put32(c, static_cast<std::uint32_t>(f.size()));
  return c + f;
}

std::string wav(const WavSpec& w, const std::string& data, const std::string& extra_chunks = "") {
  std::string body = "WAVE" + fmt_chunk(w) + extra_chunks + "data";
  put32(body, static_cast<std::uint32_t>(data.size()));
  body += data;
  std::string s = "RIFF";
  put32(s, static_cast<std::uint32_t>(body.size()));
  return s + body;
}

std::string s16(std::initializer_list<int> v) {
  std::string s;
  for (int x : v) put16(s, static_cast<std::uint32_t>(x) & 0xFFFF);
  return s;
}

std::string f32(std::initializer_list<float> v) {
  std::string s;
  for (float x : v) {
    std::uint32_t u;
    std::memcpy(&u, &x, 4);
    put32(s, u);
  }
  return s;
}

TEST(VadWav, Pcm16Mono) {
  auto a = parse_wav(wav({}, s16({0, 16384, -32768, 32767})));
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->sample_rate, 16000);
  EXPECT_EQ(a.value->channels, 1);
  ASSERT_EQ(a.value->samples.size(), 4u);
  EXPECT_FLOAT_EQ(a.value->samples[0], 0.f);
  EXPECT_FLOAT_EQ(a.value->samples[1], 0.5f);
  EXPECT_FLOAT_EQ(a.value->samples[2], -1.f);
  EXPECT_NEAR(a.value->samples[3], 1.f, 1e-4);
  auto h = parse_wav_header(wav({}, s16({0, 16384, -32768, 32767})));
  ASSERT_TRUE(h);
  EXPECT_EQ(h.value->frames, 4u);
  EXPECT_EQ(h.value->bits, 16);
}

TEST(VadWav, StereoIsMixedToMono) {
  WavSpec w;
  w.channels = 2;
  w.rate = 22050;
  // A LIST chunk with an odd size (padded) before data is skipped.
  std::string list = "LIST";
  put32(list, 3);
  list += "abc";
  list += '\0';
  auto a = parse_wav(wav(w, s16({16384, 0, -16384, -16384, 8192, 24576}), list));
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->channels, 2);
  EXPECT_EQ(a.value->sample_rate, 22050);
  ASSERT_EQ(a.value->samples.size(), 3u);
  EXPECT_FLOAT_EQ(a.value->samples[0], 0.25f);
  EXPECT_FLOAT_EQ(a.value->samples[1], -0.5f);
  EXPECT_FLOAT_EQ(a.value->samples[2], 0.5f);
}

TEST(VadWav, FloatAndExtensibleAndOtherDepths) {
  WavSpec w;
  w.tag = 3;
  w.bits = 32;
  auto a = parse_wav(wav(w, f32({0.25f, -0.75f})));
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->samples, (std::vector<float>{0.25f, -0.75f}));

  w.tag = 0xFFFE;
  w.sub_tag = 3;
  w.channels = 2;
  a = parse_wav(wav(w, f32({0.5f, 0.25f})));
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->samples, (std::vector<float>{0.375f}));

  WavSpec p24;
  p24.bits = 24;
  a = parse_wav(wav(p24, std::string("\x00\x00\xC0\x00\x00\x40", 6)));  // -0.5, 0.5
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->samples, (std::vector<float>{-0.5f, 0.5f}));

  WavSpec p8;
  p8.bits = 8;
  a = parse_wav(wav(p8, std::string("\x80\xC0\x40", 3)));
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->samples, (std::vector<float>{0.f, 0.5f, -0.5f}));
}

TEST(VadWav, StreamingPlaceholderSizeRunsToTheEnd) {
  std::string w = wav({}, s16({100, 200, 300}) + "\x01");  // plus half a frame, dropped
  // Patch the data size to what espeak-ng --stdout writes.
  auto pos = w.find("data") + 4;
  w[pos] = '\x00';
  w[pos + 1] = '\xF0';
  w[pos + 2] = '\xFF';
  w[pos + 3] = '\x7F';
  auto a = parse_wav(w);
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->samples.size(), 3u);
}

void expect_error(const std::string& bytes, const std::string& fragment) {
  auto a = parse_wav(bytes);
  ASSERT_FALSE(a) << "accepted; expected: " << fragment;
  EXPECT_NE(a.error.find(fragment), std::string::npos) << a.error;
  auto h = parse_wav_header(bytes);
  if (!h) {
    EXPECT_EQ(h.error, a.error);
  }
}

TEST(VadWav, MalformedInputIsRejectedWithAReason) {
  const std::string good = wav({}, s16({1, 2, 3, 4}));
  expect_error("", "not a WAV file");
  expect_error("hello world, this is not audio at all", "not a WAV file");
  expect_error(good.substr(0, 11), "not a WAV file");
  expect_error(good.substr(0, 12), "no fmt chunk");
  expect_error(good.substr(0, 30), "'fmt ' chunk is truncated");
  expect_error(good.substr(0, good.size() - 3), "data chunk is truncated: it declares 8 bytes, 5 are present");
  expect_error(good.substr(0, 36), "no data chunk");
  {
    WavSpec w;
    w.tag = 85;  // MP3
    expect_error(wav(w, s16({1})), "codec 85 is not supported");
  }
  {
    WavSpec w;
    w.channels = 0;
    expect_error(wav(w, ""), "0 channels");
  }
  {
    WavSpec w;
    w.bits = 12;
    expect_error(wav(w, s16({1})), "12 bits per sample");
  }
  {
    WavSpec w;
    w.tag = 3;
    w.bits = 16;
    expect_error(wav(w, s16({1})), "float with 16 bits");
  }
  {
    WavSpec w;
    w.rate = 0;
    expect_error(wav(w, s16({1})), "sample rate 0 Hz");
  }
  {
    std::string w = good;
    w[32] = 7;  // block align
    expect_error(w, "block align 7");
  }
  {
    WavSpec w;
    w.tag = 3;
    w.bits = 32;
    expect_error(wav(w, f32({0.f, std::numeric_limits<float>::quiet_NaN()})), "sample 1 is NaN or infinite");
  }
  {
    // data before fmt
    std::string body = "WAVEdata";
    put32(body, 2);
    body += s16({1}) + fmt_chunk({});
    std::string s = "RIFF";
    put32(s, static_cast<std::uint32_t>(body.size()));
    expect_error(s + body, "before the fmt chunk");
  }
  {
    // A chunk that claims 4 GB.
    std::string big = "junk";
    put32(big, 0xFFFFFFF0u);
    expect_error(wav({}, s16({1}), big), "'junk' chunk is truncated");
  }
}

TEST(VadWav, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  const std::string good = wav({}, s16({1, 2, 3, 4, 5, 6}));
  for (int round = 0; round < 2000; ++round) {
    std::string s = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    s.resize(rng() % (s.size() + 1));
    auto a = parse_wav(s);
    if (a) {
      EXPECT_LE(a.value->samples.size(), s.size());
    } else {
      EXPECT_FALSE(a.error.empty());
    }
  }
}

TEST(VadPcm, RawSamples) {
  auto a = parse_pcm(s16({16384, -16384}), PcmFormat::S16LE, 8000);
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->sample_rate, 8000);
  EXPECT_EQ(a.value->samples, (std::vector<float>{0.5f, -0.5f}));
  a = parse_pcm(f32({0.5f, 0.25f, -1.f, 0.f}), PcmFormat::F32LE, 16000, 2);
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.value->samples, (std::vector<float>{0.375f, -0.5f}));
  a = parse_pcm("abc", PcmFormat::S16LE, 16000);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error, "raw PCM of 3 bytes is not a whole number of 2-byte frames");
  EXPECT_FALSE(parse_pcm("ab", PcmFormat::S16LE, 0));
  EXPECT_EQ(pcm_format_from_name("pcm_f32le"), PcmFormat::F32LE);
  EXPECT_FALSE(pcm_format_from_name("mp3"));
}

}  // namespace
}  // namespace serval::runtimes::vad
