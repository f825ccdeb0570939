// classifier_api: the seed articles' minimal AI backend, in serval.
//
//   GET  /health    -> {"status":"ok"}
//   POST /predict   {"text": "..."} -> {"label":"POSITIVE"|"NEGATIVE","score":0.75}
//   POST /generate  {"prompt": "...", "max_tokens": 32} -> text/event-stream of tokens
//
// The scorer is a deterministic word-list stand-in; the serving work replaces it with a real model.
#include <serval/serval.hpp>

#include <array>
#include <string>
#include <string_view>

enum class Sentiment { kPositive, kNegative };
template <>
inline constexpr auto serval::enum_names<Sentiment> =
    serval::enumerators(std::pair{Sentiment::kPositive, "POSITIVE"}, std::pair{Sentiment::kNegative, "NEGATIVE"});

struct Health {
  std::string status;
};
template <>
inline constexpr auto serval::schema<Health> = serval::fields(serval::field("status", &Health::status));

struct PredictIn {
  std::string text;
};
template <>
inline constexpr auto serval::schema<PredictIn> = serval::fields(
    serval::field("text", &PredictIn::text).min_length(1).max_length(10000).doc("The text to classify"));

struct PredictOut {
  Sentiment label = Sentiment::kPositive;
  double score = 0;
};
template <>
inline constexpr auto serval::schema<PredictOut> = serval::fields(
    serval::field("label", &PredictOut::label).doc("Predicted sentiment"),
    serval::field("score", &PredictOut::score).ge(0).le(1).doc("Confidence of the label"));

struct GenerateIn {
  std::string prompt;
  int max_tokens = 32;
};
template <>
inline constexpr auto serval::schema<GenerateIn> = serval::fields(
    serval::field("prompt", &GenerateIn::prompt).min_length(1).max_length(10000),
    serval::field("max_tokens", &GenerateIn::max_tokens).ge(1).le(256).optional().doc("Tokens to stream"));

namespace {

constexpr std::array<std::string_view, 8> kPositive{"good", "great", "love", "excellent", "happy", "wonderful", "best", "nice"};
constexpr std::array<std::string_view, 8> kNegative{"bad", "terrible", "hate", "awful", "sad", "worst", "poor", "horrible"};

PredictOut score(std::string_view text) {
  int pos = 0, neg = 0;
  std::string word;
  auto count = [&] {
    for (auto w : kPositive) pos += w == word;
    for (auto w : kNegative) neg += w == word;
    word.clear();
  };
  for (char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      word.push_back(static_cast<char>(c | 0x20));
    } else if (!word.empty()) {
      count();
    }
  }
  if (!word.empty()) count();
  PredictOut out;
  out.label = pos >= neg ? Sentiment::kPositive : Sentiment::kNegative;
  out.score = static_cast<double>(std::max(pos, neg) + 1) / static_cast<double>(pos + neg + 2);
  return out;
}

// Stand-in tokens: the prompt's words, cycled.
serval::AsyncGenerator<serval::Event> tokens(GenerateIn in) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : in.prompt) {
    if (c == ' ' || c == '\n' || c == '\t') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  if (words.empty()) words.emplace_back("token");
  for (int i = 0; i < in.max_tokens; ++i) {
    std::string data = "{\"token\":";
    serval::write_json_string(data, words[static_cast<std::size_t>(i) % words.size()]);
    data += ",\"index\":" + std::to_string(i) + "}";
    serval::Event event{.data = std::move(data)};  // named: GCC 12 miscompiles co_yield of a braced temporary
    co_yield std::move(event);
  }
  serval::Event done{.data = "[DONE]"};
  co_yield std::move(done);
}

}  // namespace

int main(int argc, char** argv) {
  bool request_id = false;
  std::vector<std::string> cors_origins;
  serval::CliOptions cli;
  cli.add("--request-id", &request_id, "add X-Request-ID to every response (RequestId middleware)");
  cli.add("--cors-origin", &cors_origins, "comma-separated origins allowed by CORS (Cors middleware)");
  serval::net::ServerOptions options;
  if (auto rc = serval::parse_command_line(argc, argv, cli, options)) return *rc;

  serval::App app{{.title = "Classifier API", .version = "1.0.0",
                   .description = "A minimal AI backend: health, prediction and token streaming."}};
  if (request_id) app.use(std::make_shared<serval::RequestId>());
  if (!cors_origins.empty())
    app.use(std::make_shared<serval::Cors>(serval::CorsOptions{.allow_origins = cors_origins, .allow_methods = {"GET", "POST"}}));

  app.get("/health", [] { return Health{"ok"}; }, {.summary = "Liveness check", .tags = {"ops"}});

  app.post("/predict", [](const PredictIn& in) { return score(in.text); },
           {.summary = "Classify the sentiment of a text", .tags = {"model"}});

  app.post("/generate", [](GenerateIn in) { return serval::EventStream(tokens(std::move(in))); },
           {.summary = "Stream generated tokens as Server-Sent Events", .tags = {"model"}});

  return app.run(std::move(options));
}
