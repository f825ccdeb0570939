// Request and response bodies of the task endpoints, described once: the same declarations drive
// validation (422), JSON in and out, and /openapi.json.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "serval/app/schema.hpp"

namespace serval::protocols::tasks {

struct ClassifyIn {
  std::string model;
  std::string text;
  std::optional<int> top_k;
  std::optional<double> threshold;
  std::optional<int> version;
  std::optional<int> deadline_ms;
};
struct LabelScore {
  std::string label;
  double score = 0;
};
struct ClassifyOut {
  std::string model;
  int version = 0;
  std::vector<LabelScore> labels;
};

struct EmbedIn {
  std::string model;
  std::vector<std::string> texts;
  std::optional<int> version;
  std::optional<int> deadline_ms;
};
struct EmbedOut {
  std::string model;
  int version = 0;
  int dim = 0;
  std::vector<std::vector<double>> vectors;
};

struct OcrJsonIn {
  std::string model;
  std::string image_base64;
  std::optional<int> version;
  std::optional<int> deadline_ms;
};
struct OcrLine {
  std::string text;
  double confidence = 0;
  std::vector<std::vector<double>> box;
};
struct OcrOut {
  std::string model;
  int version = 0;
  int width = 0;
  int height = 0;
  std::vector<OcrLine> lines;
};

struct VadJsonIn {
  std::string model;
  std::string audio_base64;
  std::optional<std::string> format;
  std::optional<int> sample_rate;
  std::optional<double> threshold;
  std::optional<int> version;
  std::optional<int> deadline_ms;
};
struct SpeechSegment {
  double start_s = 0;
  double end_s = 0;
  double confidence = 0;
};
struct VadOut {
  std::string model;
  int version = 0;
  int sample_rate = 0;
  double duration_s = 0;
  std::vector<SpeechSegment> segments;
};

struct GenerateIn {
  std::string model;
  std::string prompt;
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> top_k;
  std::optional<std::vector<std::string>> stop;
  std::optional<long long> seed;
  std::optional<bool> stream;
  std::optional<int> version;
  std::optional<int> deadline_ms;
};
struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int total_tokens = 0;
};
struct GenerateOut {
  std::string model;
  int version = 0;
  std::string text;
  std::string finish_reason;
  Usage usage;
};

}  // namespace serval::protocols::tasks

namespace serval {

template <>
inline constexpr auto schema<protocols::tasks::ClassifyIn> = fields(
    field("model", &protocols::tasks::ClassifyIn::model).min_length(1).doc("A classify model: langid, spam, ..."),
    field("text", &protocols::tasks::ClassifyIn::text).min_length(1).max_length(1 << 20).doc("The text to classify"),
    field("top_k", &protocols::tasks::ClassifyIn::top_k).ge(1).le(1000).doc("How many labels to return (default: the model's)"),
    field("threshold", &protocols::tasks::ClassifyIn::threshold).ge(0).le(1).doc("Drop labels scoring below this"),
    field("version", &protocols::tasks::ClassifyIn::version).ge(1).doc("Pin a model version (default: the newest ready one)"),
    field("deadline_ms", &protocols::tasks::ClassifyIn::deadline_ms).ge(1).doc("Answer 504 if no result within this time"));
template <>
inline constexpr auto schema<protocols::tasks::LabelScore> =
    fields(field("label", &protocols::tasks::LabelScore::label), field("score", &protocols::tasks::LabelScore::score).ge(0).le(1));
template <>
inline constexpr auto schema<protocols::tasks::ClassifyOut> =
    fields(field("model", &protocols::tasks::ClassifyOut::model), field("version", &protocols::tasks::ClassifyOut::version),
           field("labels", &protocols::tasks::ClassifyOut::labels).doc("Labels, highest score first"));

template <>
inline constexpr auto schema<protocols::tasks::EmbedIn> = fields(
    field("model", &protocols::tasks::EmbedIn::model).min_length(1).doc("An embed model, e.g. embed"),
    field("texts", &protocols::tasks::EmbedIn::texts).min_length(1).max_length(256).doc("1 to 256 texts"),
    field("version", &protocols::tasks::EmbedIn::version).ge(1), field("deadline_ms", &protocols::tasks::EmbedIn::deadline_ms).ge(1));
template <>
inline constexpr auto schema<protocols::tasks::EmbedOut> =
    fields(field("model", &protocols::tasks::EmbedOut::model), field("version", &protocols::tasks::EmbedOut::version),
           field("dim", &protocols::tasks::EmbedOut::dim), field("vectors", &protocols::tasks::EmbedOut::vectors).doc("One vector per text"));

template <>
inline constexpr auto schema<protocols::tasks::OcrJsonIn> = fields(
    field("model", &protocols::tasks::OcrJsonIn::model).min_length(1).doc("An ocr model, e.g. ocr"),
    field("image_base64", &protocols::tasks::OcrJsonIn::image_base64).min_length(1).doc("A PNG or JPEG, base64"),
    field("version", &protocols::tasks::OcrJsonIn::version).ge(1), field("deadline_ms", &protocols::tasks::OcrJsonIn::deadline_ms).ge(1));
template <>
inline constexpr auto schema<protocols::tasks::OcrLine> =
    fields(field("text", &protocols::tasks::OcrLine::text), field("confidence", &protocols::tasks::OcrLine::confidence),
           field("box", &protocols::tasks::OcrLine::box).doc("Four corners [x, y] in image pixels, clockwise from top-left"));
template <>
inline constexpr auto schema<protocols::tasks::OcrOut> =
    fields(field("model", &protocols::tasks::OcrOut::model), field("version", &protocols::tasks::OcrOut::version),
           field("width", &protocols::tasks::OcrOut::width), field("height", &protocols::tasks::OcrOut::height),
           field("lines", &protocols::tasks::OcrOut::lines).doc("Lines of text, top to bottom"));

template <>
inline constexpr auto schema<protocols::tasks::VadJsonIn> = fields(
    field("model", &protocols::tasks::VadJsonIn::model).min_length(1).doc("A vad model, e.g. vad"),
    field("audio_base64", &protocols::tasks::VadJsonIn::audio_base64).min_length(1).doc("WAV file or raw PCM, base64"),
    field("format", &protocols::tasks::VadJsonIn::format).doc("wav (default), pcm_s16le or pcm_f32le"),
    field("sample_rate", &protocols::tasks::VadJsonIn::sample_rate).ge(8000).le(48000).doc("Required for raw PCM"),
    field("threshold", &protocols::tasks::VadJsonIn::threshold).ge(0).le(1).doc("Speech probability threshold"),
    field("version", &protocols::tasks::VadJsonIn::version).ge(1), field("deadline_ms", &protocols::tasks::VadJsonIn::deadline_ms).ge(1));
template <>
inline constexpr auto schema<protocols::tasks::SpeechSegment> =
    fields(field("start_s", &protocols::tasks::SpeechSegment::start_s), field("end_s", &protocols::tasks::SpeechSegment::end_s),
           field("confidence", &protocols::tasks::SpeechSegment::confidence));
template <>
inline constexpr auto schema<protocols::tasks::VadOut> =
    fields(field("model", &protocols::tasks::VadOut::model), field("version", &protocols::tasks::VadOut::version),
           field("sample_rate", &protocols::tasks::VadOut::sample_rate), field("duration_s", &protocols::tasks::VadOut::duration_s),
           field("segments", &protocols::tasks::VadOut::segments).doc("Speech segments in seconds"));

template <>
inline constexpr auto schema<protocols::tasks::GenerateIn> = fields(
    field("model", &protocols::tasks::GenerateIn::model).min_length(1).doc("A generate model, e.g. tiny-llm"),
    field("prompt", &protocols::tasks::GenerateIn::prompt).min_length(1).max_length(1 << 20),
    field("max_tokens", &protocols::tasks::GenerateIn::max_tokens).ge(1).le(65536).doc("Default 128"),
    field("temperature", &protocols::tasks::GenerateIn::temperature).ge(0).le(2).doc("0 = greedy; default 0.8"),
    field("top_p", &protocols::tasks::GenerateIn::top_p).gt(0).le(1).doc("Default 0.95"),
    field("top_k", &protocols::tasks::GenerateIn::top_k).ge(0).doc("Default 40; 0 = off"),
    field("stop", &protocols::tasks::GenerateIn::stop).max_length(16).doc("Stop strings (not included in the text)"),
    field("seed", &protocols::tasks::GenerateIn::seed).ge(0).le(4294967295.0).doc("Same seed, same text"),
    field("stream", &protocols::tasks::GenerateIn::stream).doc("true: text/event-stream of token events"),
    field("version", &protocols::tasks::GenerateIn::version).ge(1), field("deadline_ms", &protocols::tasks::GenerateIn::deadline_ms).ge(1));
template <>
inline constexpr auto schema<protocols::tasks::Usage> =
    fields(field("prompt_tokens", &protocols::tasks::Usage::prompt_tokens), field("completion_tokens", &protocols::tasks::Usage::completion_tokens),
           field("total_tokens", &protocols::tasks::Usage::total_tokens));
template <>
inline constexpr auto schema<protocols::tasks::GenerateOut> =
    fields(field("model", &protocols::tasks::GenerateOut::model), field("version", &protocols::tasks::GenerateOut::version),
           field("text", &protocols::tasks::GenerateOut::text), field("finish_reason", &protocols::tasks::GenerateOut::finish_reason),
           field("usage", &protocols::tasks::GenerateOut::usage));

}  // namespace serval
