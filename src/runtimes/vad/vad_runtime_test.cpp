// The Silero VAD runtime on the real model (models/vad/1/silero_vad.onnx) with speech made by
// espeak-ng: one segment where the speech is, none in silence or low noise, the same answer
// batched or alone and at 8, 16 or 22.05 kHz.
#include "runtimes/vad/vad_runtime.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "runtimes/vad/resample.hpp"
#include "runtimes/vad/silero.hpp"
#include "runtimes/vad/wav.hpp"

namespace serval::runtimes::vad {
namespace {

using serving::ErrorClass;
using serving::InferRequest;
using serving::InferResult;

const std::filesystem::path kVadDir = SERVAL_SOURCE_DIR "/models/vad/1";

void put16(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v & 0xFF);
  s += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}

// 16-bit mono WAV.
std::string to_wav(const std::vector<float>& x, int rate) {
  std::string data;
  for (float v : x) {
    const long q = std::lround(std::clamp(v, -1.f, 1.f) * 32767.f);
    put16(data, static_cast<std::uint32_t>(q) & 0xFFFF);
  }
  std::string s = "RIFF";
  put32(s, static_cast<std::uint32_t>(36 + data.size()));
  s += "WAVEfmt ";
  put32(s, 16);
  put16(s, 1);
  put16(s, 1);
  put32(s, static_cast<std::uint32_t>(rate));
  put32(s, static_cast<std::uint32_t>(rate * 2));
  put16(s, 2);
  put16(s, 16);
  s += "data";
  put32(s, static_cast<std::uint32_t>(data.size()));
  return s + data;
}

// espeak-ng's voice (22050 Hz), or nothing when espeak-ng is not installed.
std::optional<Audio> speak(const char* text) {
  std::string cmd = std::string("espeak-ng --stdout \"") + text + "\" 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  std::string bytes;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) bytes.append(buf, n);
  if (pclose(p) != 0) return std::nullopt;
  auto a = parse_wav(bytes);
  if (!a) return std::nullopt;
  return std::move(*a.value);
}

// Silence + speech + silence at `rate`, and where the speech (|x| > 0.02) begins and ends, in s.
struct Clip {
  std::vector<float> samples;
  double speech_start = 0, speech_end = 0;
};
Clip build_clip(const Audio& voice, int rate, double lead_s = 1.0, double tail_s = 1.0) {
  auto v = resample(voice.samples, voice.sample_rate, rate);
  Clip c;
  c.samples.assign(static_cast<std::size_t>(lead_s * rate), 0.f);
  c.samples.insert(c.samples.end(), v.begin(), v.end());
  c.samples.insert(c.samples.end(), static_cast<std::size_t>(tail_s * rate), 0.f);
  auto loud = [](float x) { return std::abs(x) > 0.02f; };
  auto first = std::find_if(c.samples.begin(), c.samples.end(), loud);
  auto last = std::find_if(c.samples.rbegin(), c.samples.rend(), loud);
  c.speech_start = static_cast<double>(first - c.samples.begin()) / rate;
  c.speech_end = static_cast<double>(c.samples.rend() - last) / rate;
  return c;
}

InferRequest wav_request(const std::vector<float>& x, int rate) {
  InferRequest r;
  r.bytes = to_wav(x, rate);
  return r;
}

std::vector<InferResult> run(serving::Runtime& rt, std::vector<InferRequest>& reqs) {
  std::vector<InferRequest*> ptrs;
  for (auto& r : reqs) ptrs.push_back(&r);
  std::vector<InferResult> out(reqs.size());
  rt.execute(ptrs, out);
  return out;
}

class Vad : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spec_ = new serving::ModelSpec;
    spec_->name = "vad";
    spec_->runtime = "vad";
    spec_->task = "vad";
    rt_ = make_vad_runtime(serving::LoadContext{*spec_, kVadDir, 1}).release();
    if (auto v = speak("The quick brown fox jumps over the lazy dog, then it runs away.")) voice_ = new Audio(*v);
  }
  static void TearDownTestSuite() {
    delete rt_;
    delete spec_;
    delete voice_;
  }
  void SetUp() override {
    if (!voice_) GTEST_SKIP() << "espeak-ng is not available";
  }
  static serving::ModelSpec* spec_;
  static serving::Runtime* rt_;
  static Audio* voice_;
};
serving::ModelSpec* Vad::spec_ = nullptr;
serving::Runtime* Vad::rt_ = nullptr;
Audio* Vad::voice_ = nullptr;

// `rate`: the rate the model ran at; `clip_rate`: the clip's own (0 = the same).
void expect_one_segment(const InferResult& r, const Clip& clip, int rate, int clip_rate = 0) {
  if (!clip_rate) clip_rate = rate;
  ASSERT_TRUE(r) << r.error().message;
  const auto& j = r.value().json.as_object();
  SCOPED_TRACE(boost::json::serialize(j) + " speech " + std::to_string(clip.speech_start) + ".." +
               std::to_string(clip.speech_end));
  EXPECT_EQ(j.at("sample_rate").as_int64(), rate);
  EXPECT_NEAR(j.at("duration_s").as_double(), static_cast<double>(clip.samples.size()) / clip_rate, 0.002);
  const auto& segs = j.at("segments").as_array();
  ASSERT_EQ(segs.size(), 1u);
  const auto& s = segs[0].as_object();
  EXPECT_NEAR(s.at("start_s").as_double(), clip.speech_start, 0.3);
  EXPECT_NEAR(s.at("end_s").as_double(), clip.speech_end, 0.3);
  EXPECT_GT(s.at("confidence").as_double(), 0.6);
  EXPECT_LE(s.at("confidence").as_double(), 1.0);
}

TEST_F(Vad, SpeechBetweenSilencesIsOneSegment) {
  Clip clip = build_clip(*voice_, 16000);
  ASSERT_NEAR(clip.speech_start, 1.0, 0.05);
  std::vector<InferRequest> reqs;
  reqs.push_back(wav_request(clip.samples, 16000));
  auto t0 = std::chrono::steady_clock::now();
  auto out = run(*rt_, reqs);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  expect_one_segment(out[0], clip, 16000);
  std::printf("[ vad ] %.2f s of 16 kHz audio in %.1f ms\n", static_cast<double>(clip.samples.size()) / 16000, ms);
}

TEST_F(Vad, OtherRatesAndRawPcm) {
  Clip c8 = build_clip(*voice_, 8000);
  Clip c22 = build_clip(*voice_, 22050);
  Clip c16 = build_clip(*voice_, 16000);
  std::vector<InferRequest> reqs;
  reqs.push_back(wav_request(c8.samples, 8000));     // runs at 8 kHz
  reqs.push_back(wav_request(c22.samples, 22050));   // resampled to 16 kHz
  InferRequest raw;
  for (float v : c16.samples) {
    std::uint32_t u;
    std::memcpy(&u, &v, 4);
    put32(raw.bytes, u);
  }
  raw.params["format"] = "pcm_f32le";
  raw.params["sample_rate"] = 16000;
  reqs.push_back(std::move(raw));
  auto out = run(*rt_, reqs);
  expect_one_segment(out[0], c8, 8000);
  expect_one_segment(out[1], c22, 16000, 22050);
  expect_one_segment(out[2], c16, 16000);
}

TEST_F(Vad, SilenceAndLowNoiseHaveNoSegments) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.01f, 0.01f);
  std::vector<float> noise(3 * 16000);
  for (auto& x : noise) x = u(rng);
  std::vector<InferRequest> reqs;
  reqs.push_back(wav_request(std::vector<float>(3 * 16000, 0.f), 16000));
  reqs.push_back(wav_request(noise, 16000));
  reqs.push_back(wav_request({}, 16000));  // empty data chunk
  auto out = run(*rt_, reqs);
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i]) << out[i].error().message;
    EXPECT_TRUE(out[i].value().json.at("segments").as_array().empty()) << boost::json::serialize(out[i].value().json);
  }
  EXPECT_EQ(out[0].value().json.at("duration_s").as_double(), 3.0);
  EXPECT_EQ(out[2].value().json.at("duration_s").as_double(), 0.0);
}

TEST_F(Vad, BatchedEqualsAloneAndBadRequestsFailAlone) {
  Clip a = build_clip(*voice_, 16000, 1.0, 1.0);
  Clip b = build_clip(*voice_, 16000, 0.5, 2.0);
  std::vector<InferRequest> reqs;
  reqs.push_back(wav_request(a.samples, 16000));
  reqs.push_back(InferRequest{});  // no audio
  reqs.back().bytes = "definitely not audio";
  reqs.push_back(wav_request(b.samples, 16000));
  reqs.push_back(wav_request(a.samples, 16000));
  reqs.back().params["threshold"] = 2.0;  // out of range
  reqs.push_back(wav_request(a.samples, 96000));  // rate out of range
  reqs.push_back(wav_request(a.samples, 16000));
  reqs.back().params["format"] = "pcm_s16le";  // no sample_rate
  reqs.push_back(wav_request(std::vector<float>(8000, 0.f), 16000));  // short silence
  auto out = run(*rt_, reqs);
  ASSERT_TRUE(out[0]) << out[0].error().message;
  ASSERT_TRUE(out[2]) << out[2].error().message;
  ASSERT_TRUE(out[6]) << out[6].error().message;
  const std::pair<int, std::string> bad[] = {
      {1, "not a WAV file: it does not start with RIFF....WAVE"},
      {3, "params.threshold must be a number between 0 and 1"},
      {4, "sample rate 96000 Hz is not supported (8000 to 48000 Hz)"},
      {5, "params.sample_rate is required with format pcm_s16le"}};
  for (const auto& [i, message] : bad) {
    ASSERT_FALSE(out[i]) << i;
    EXPECT_EQ(out[i].error().cls, ErrorClass::Client);
    EXPECT_EQ(out[i].error().message, message);
    auto v = rt_->validate(reqs[i]);
    ASSERT_TRUE(v.has_value()) << i;
    EXPECT_EQ(v->message, message);
  }
  EXPECT_FALSE(rt_->validate(reqs[0]).has_value());
  for (std::size_t i : {0u, 2u, 6u}) {
    std::vector<InferRequest> one{reqs[i]};
    auto alone = run(*rt_, one);
    ASSERT_TRUE(alone[0]);
    EXPECT_EQ(boost::json::serialize(alone[0].value().json), boost::json::serialize(out[i].value().json)) << i;
  }
  expect_one_segment(out[2], b, 16000);
}

TEST_F(Vad, ParamsChangeTheSegmentation) {
  Clip clip = build_clip(*voice_, 16000);
  std::vector<InferRequest> reqs;
  reqs.push_back(wav_request(clip.samples, 16000));
  reqs.push_back(wav_request(clip.samples, 16000));
  reqs.back().params["min_speech_ms"] = 60000;  // longer than the clip: nothing qualifies
  reqs.push_back(wav_request(clip.samples, 16000));
  reqs.back().params["speech_pad_ms"] = 500;
  auto out = run(*rt_, reqs);
  ASSERT_TRUE(out[0] && out[1] && out[2]);
  EXPECT_TRUE(out[1].value().json.at("segments").as_array().empty());
  const auto& s0 = out[0].value().json.at("segments").as_array();
  const auto& s2 = out[2].value().json.at("segments").as_array();
  ASSERT_FALSE(s0.empty());
  ASSERT_FALSE(s2.empty());
  EXPECT_NEAR(s0[0].at("start_s").as_double() - s2[0].at("start_s").as_double(), 0.47, 0.002);
}

TEST(VadSilero, BatchedProbabilitiesEqualOneStreamAtATime) {
  SileroModel model(kVadDir / "silero_vad.onnx", {});
  EXPECT_EQ(model.version(), "v5");
  EXPECT_TRUE(model.supports(8000));
  EXPECT_TRUE(model.supports(16000));
  EXPECT_FALSE(model.supports(22050));
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.f, 0.3f);
  std::vector<std::vector<float>> streams(3);
  const std::size_t lengths[] = {16000, 5000, 9000};
  for (std::size_t s = 0; s < 3; ++s) {
    streams[s].resize(lengths[s]);
    for (std::size_t i = 0; i < lengths[s]; ++i)  // a warbling tone with noise
      streams[s][i] = 0.4f * std::sin(static_cast<float>(i) * (0.05f + 0.02f * static_cast<float>(s)) +
                                      3.f * std::sin(static_cast<float>(i) * 0.001f)) + 0.1f * g(rng);
  }
  std::vector<std::span<const float>> spans(streams.begin(), streams.end());
  auto batched = model.probabilities(spans, 16000);
  ASSERT_EQ(batched.size(), 3u);
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(batched[s].size(), (lengths[s] + 511) / 512);
    std::span<const float> one[] = {streams[s]};
    auto alone = model.probabilities(one, 16000);
    ASSERT_EQ(alone[0].size(), batched[s].size());
    for (std::size_t w = 0; w < alone[0].size(); ++w) EXPECT_NEAR(alone[0][w], batched[s][w], 1e-5) << s << " " << w;
  }
}

TEST(VadLoad, DescribeAndBadConfiguration) {
  serving::ModelSpec spec;
  auto rt = make_vad_runtime(serving::LoadContext{spec, kVadDir, 1});
  auto d = rt->describe();
  SCOPED_TRACE(boost::json::serialize(d));
  EXPECT_EQ(d["version"].as_string(), "v5");
  EXPECT_EQ(boost::json::serialize(d["sample_rates"]), "[8000,16000]");
  EXPECT_EQ(d["window_samples"].at("16000").as_int64(), 512);
  EXPECT_EQ(d["window_samples"].at("8000").as_int64(), 256);
  EXPECT_EQ(d["defaults"].at("threshold").as_double(), 0.5);
  EXPECT_NEAR(d["defaults"].at("neg_threshold").as_double(), 0.35, 1e-9);

  spec.parameters["threshold"] = "high";
  EXPECT_THROW(make_vad_runtime(serving::LoadContext{spec, kVadDir, 1}), std::runtime_error);
  spec.parameters = {{"file", "nope.onnx"}};
  EXPECT_THROW(make_vad_runtime(serving::LoadContext{spec, kVadDir, 1}), std::runtime_error);
  // A model that is not Silero: the OCR direction classifier.
  spec.parameters = {{"file", "cls.onnx"}};
  EXPECT_THROW(make_vad_runtime(serving::LoadContext{spec, SERVAL_SOURCE_DIR "/models/ocr/1", 1}),
               std::runtime_error);
  // Defaults from model.yaml apply to every request.
  spec.parameters = {{"min_speech_ms", 60000}};
  auto strict = make_vad_runtime(serving::LoadContext{spec, kVadDir, 1});
  EXPECT_EQ(strict->describe()["defaults"].at("min_speech_ms").as_double(), 60000);
}

}  // namespace
}  // namespace serval::runtimes::vad
