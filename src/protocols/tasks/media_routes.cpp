// POST /v1/ocr and POST /v1/vad: an image or audio payload in, lines of text or speech segments out.
//
// The payload comes in one of three forms, told apart by Content-Type:
//   image/png, image/jpeg, audio/wav, application/octet-stream  the raw bytes (query: ?model=&version=)
//   application/json                                            {"model", "image_base64" | "audio_base64", ...}
//   multipart/form-data                                         a file part "image" | "audio" (+ fields
//                                                               model, version, deadline_ms, format, sample_rate, mode)
#include <charconv>
#include <optional>
#include <string>

#include "protocols/tasks/task_common.hpp"
#include "protocols/tasks/task_dto.hpp"
#include "protocols/tasks/task_routes.hpp"
#include "serval/app/json.hpp"
#include "serval/app/multipart.hpp"
#include "serval/app/params.hpp"

#include <boost/json/parse.hpp>

namespace serval::protocols::tasks {

namespace {

using Registry = std::shared_ptr<serving::ModelRegistry>;

// What the three body forms reduce to.
struct MediaInput {
  std::string model;
  std::optional<int> version;
  std::optional<int> deadline_ms;
  std::string bytes;
  boost::json::object params;
};

std::string lower_media_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

std::string default_model(const serving::ModelRegistry& reg, std::string_view task) {
  auto names = reg.names(task);
  if (names.size() == 1) return names.front();
  throw HttpError(422, "name the model (?model=...); models for " + std::string(task) + ": " +
                           (names.empty() ? std::string("none") : [&] {
                             std::string s;
                             for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
                             return s;
                           }()));
}

template <class In>
In parse_json_or_422(std::string_view body) {
  In in;
  ValidationErrors errs;
  if (!parse_json_body(body, in, errs)) throw HttpError(422, boost::json::parse(errs.to_json()).as_object().at("detail"));
  return in;
}

std::optional<int> int_field(std::string_view name, std::string_view v) {
  if (v.empty()) return std::nullopt;
  int out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size())
    throw HttpError(422, "form field '" + std::string(name) + "' must be an integer");
  return out;
}

// multipart/form-data: the file part ("image" or "audio") and text fields model, version,
// deadline_ms, format, sample_rate.
void read_multipart(MediaInput& m, std::string_view task, const http::Request& req) {
  auto boundary = multipart_boundary(req.header("content-type"));
  if (!boundary) throw HttpError(400, "multipart/form-data needs a boundary parameter");
  MultipartResult r = parse_multipart(req.body, *boundary);
  if (!r.ok()) throw HttpError(400, "malformed multipart body: " + r.error);
  const std::string_view file_field = task == "ocr" ? "image" : "audio";
  bool have_file = false;
  for (const MultipartPart& p : r.parts) {
    if (p.name == file_field) {
      m.bytes.assign(p.data.data(), p.data.size());
      have_file = true;
    } else if (p.name == "model") {
      m.model.assign(p.data.data(), p.data.size());
    } else if (p.name == "version") {
      m.version = int_field(p.name, p.data);
    } else if (p.name == "deadline_ms") {
      m.deadline_ms = int_field(p.name, p.data);
    } else if (p.name == "format") {
      m.params["format"] = std::string(p.data);
    } else if (p.name == "sample_rate") {
      if (auto v = int_field(p.name, p.data)) m.params["sample_rate"] = *v;
    } else if (p.name == "mode") {
      m.params["mode"] = std::string(p.data);
    }
  }
  if (!have_file) throw HttpError(422, "the multipart body has no '" + std::string(file_field) + "' file part");
}

// Raw, JSON or multipart forms.
MediaInput read_media(const serving::ModelRegistry& reg, std::string_view task, const http::Request& req,
                      const std::optional<std::string>& q_model, std::optional<int> q_version) {
  MediaInput m;
  const std::string type = lower_media_type(req.header("content-type"));
  if (req.body.empty()) throw HttpError(400, "the request has no body: send the " +
                                             std::string(task == "ocr" ? "image" : "audio") +
                                             " as the body, as JSON with base64, or as multipart/form-data");
  if (type == "application/json") {
    if (task == "ocr") {
      auto in = parse_json_or_422<OcrJsonIn>(req.body);
      if (!base64_decode(in.image_base64, m.bytes)) throw HttpError(422, "image_base64 is not valid base64");
      m.model = std::move(in.model);
      m.version = in.version;
      m.deadline_ms = in.deadline_ms;
    } else {
      auto in = parse_json_or_422<VadJsonIn>(req.body);
      if (!base64_decode(in.audio_base64, m.bytes)) throw HttpError(422, "audio_base64 is not valid base64");
      m.model = std::move(in.model);
      m.version = in.version;
      m.deadline_ms = in.deadline_ms;
      if (in.format) m.params["format"] = *in.format;
      if (in.sample_rate) m.params["sample_rate"] = *in.sample_rate;
      if (in.threshold) m.params["threshold"] = *in.threshold;
    }
    return m;
  }
  if (type == "multipart/form-data") {
    read_multipart(m, task, req);
    if (m.model.empty()) m.model = q_model ? *q_model : default_model(reg, task);
    if (!m.version) m.version = q_version;
    return m;
  }
  m.bytes.assign(req.body.data(), req.body.size());
  m.model = q_model ? *q_model : default_model(reg, task);
  m.version = q_version;
  return m;
}

template <class Out>
Task<Out> run_media(Registry reg, MediaInput m, std::string deadline_header, std::string task) {
  serving::InferRequest req;
  req.bytes = std::move(m.bytes);
  req.params = std::move(m.params);
  TaskCall call{std::move(m.model), m.version, m.deadline_ms, std::move(deadline_header)};
  return run_task<Out>(std::move(reg), std::move(call), std::move(task), std::move(req));
}

}  // namespace

void add_media_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry) {
  app.post(
      "/v1/ocr",
      [registry](const http::Request& req, Query<std::optional<std::string>, "model"> model,
                 Query<std::optional<int>, "version", rules().ge(1)> version,
                 Query<std::optional<std::string>, "mode", rules().pattern("^(page|recognize)$")> mode,
                 Header<std::optional<std::string>, "x-deadline-ms"> deadline) {
        MediaInput m = read_media(*registry, "ocr", req, *model, *version);
        if (mode->has_value()) m.params["mode"] = **mode;
        return run_media<OcrOut>(registry, std::move(m), deadline->value_or(""), "ocr");
      },
      {.summary = "Read the text in an image",
       .description = "PP-OCRv4 detection, direction classification and recognition. Send a PNG or JPEG as the "
                      "body (Content-Type image/png or image/jpeg; ?model=ocr), a multipart form with a file part "
                      "`image` (curl -F image=@page.png), or JSON "
                      "{\"model\":\"ocr\",\"image_base64\":\"...\"}. Lines come back top to bottom with boxes "
                      "and confidences. ?mode=recognize treats the whole image as one text line (no detection).",
       .tags = {"tasks"},
       .responses = {{400, "No body, or not an image"}, {404, "Unknown model"}, {422, "Invalid input"},
                     {429, "The model's queue is full (Retry-After)"}, {504, "The deadline passed"}}});
  app.post(
      "/v1/vad",
      [registry](const http::Request& req, Query<std::optional<std::string>, "model"> model,
                 Query<std::optional<int>, "version", rules().ge(1)> version,
                 Query<std::optional<std::string>, "format"> format,
                 Query<std::optional<int>, "sample_rate", rules().ge(8000).le(48000)> sample_rate,
                 Header<std::optional<std::string>, "x-deadline-ms"> deadline) {
        MediaInput m = read_media(*registry, "vad", req, *model, *version);
        if (format->has_value()) m.params["format"] = **format;
        if (sample_rate->has_value()) m.params["sample_rate"] = **sample_rate;
        return run_media<VadOut>(registry, std::move(m), deadline->value_or(""), "vad");
      },
      {.summary = "Find speech in audio",
       .description = "Silero VAD. Send a WAV file as the body (Content-Type audio/wav), raw PCM "
                      "(application/octet-stream with ?format=pcm_s16le|pcm_f32le&sample_rate=16000), a multipart "
                      "form with a file part `audio`, or JSON "
                      "{\"model\":\"vad\",\"audio_base64\":\"...\"}. Speech segments come back in seconds.",
       .tags = {"tasks"},
       .responses = {{400, "No body, or not audio"}, {404, "Unknown model"}, {422, "Invalid input"},
                     {429, "The model's queue is full (Retry-After)"}, {504, "The deadline passed"}}});
}

}  // namespace serval::protocols::tasks
