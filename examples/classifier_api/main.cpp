// classifier_api: the seed articles' minimal AI backend, in serval, serving a real model.
//
//   GET  /health    -> {"status":"ok"}
//   POST /predict   {"text": "..."} -> {"label":"spam"|"ham","score":0.98}   the `spam` fastText model
//   POST /generate  {"prompt": "...", "max_tokens": 32} -> text/event-stream (an SSE demo: the prompt's
//                   words, cycled — see `serval serve` and POST /v1/generate for a real language model)
//
// The spam model comes from the model repository (models/spam, prepared by `make setup`; --models-dir
// or $SERVAL_MODELS_DIR to point elsewhere). It loads once at start-up, on its own executor thread;
// /ready answers 503 until it is loaded, and /predict queues, batches and answers 429/504 as any model.
#include <serval/serval.hpp>

#include <serval/serving/registry.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

enum class Verdict { kHam, kSpam };
template <>
inline constexpr auto serval::enum_names<Verdict> =
    serval::enumerators(std::pair{Verdict::kHam, "ham"}, std::pair{Verdict::kSpam, "spam"});

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
  Verdict label = Verdict::kHam;
  double score = 0;
};
template <>
inline constexpr auto serval::schema<PredictOut> = serval::fields(
    serval::field("label", &PredictOut::label).doc("spam or ham (not spam)"),
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

using Models = std::shared_ptr<serval::serving::ModelRegistry>;

serval::Task<PredictOut> predict(Models models, PredictIn in) {
  serval::serving::InferRequest req;
  req.text = std::move(in.text);
  serval::serving::InferResponse r = co_await models->resolve("spam")->infer(std::move(req));
  const auto& top = r.json.at("labels").at(0).as_object();
  PredictOut out;
  out.label = top.at("label").as_string() == "spam" ? Verdict::kSpam : Verdict::kHam;
  out.score = std::clamp(top.at("score").to_number<double>(), 0.0, 1.0);
  co_return out;
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
  const char* env_models = std::getenv("SERVAL_MODELS_DIR");
  std::string models_dir = env_models ? env_models : "models";
  serval::CliOptions cli;
  cli.add("--models-dir", &models_dir, "model repository holding models/spam (default: $SERVAL_MODELS_DIR or models)");
  cli.add("--request-id", &request_id, "add X-Request-ID to every response (RequestId middleware)");
  cli.add("--cors-origin", &cors_origins, "comma-separated origins allowed by CORS (Cors middleware)");
  serval::net::ServerOptions options;
  if (auto rc = serval::parse_command_line(argc, argv, cli, options)) return *rc;

  serval::App app{{.title = "Classifier API", .version = "1.0.0",
                   .description = "A minimal AI backend: a real spam classifier, health, and token streaming."}};
  auto models = std::make_shared<serval::serving::ModelRegistry>(models_dir);
  app.on_startup([models] {
    serval::serving::register_builtin_runtimes();
    models->only({"spam"});
    models->discover();
    models->load();
  });
  app.on_shutdown([models] { models->stop(); });
  if (request_id) app.use(std::make_shared<serval::RequestId>());
  if (!cors_origins.empty())
    app.use(std::make_shared<serval::Cors>(serval::CorsOptions{.allow_origins = cors_origins, .allow_methods = {"GET", "POST"}}));

  app.get("/health", [] { return Health{"ok"}; }, {.summary = "Liveness check", .tags = {"ops"}});

  app.post("/predict", [models](PredictIn in) { return predict(models, std::move(in)); },
           {.summary = "Is this text spam?",
            .description = "The spam model (fastText, trained by the set-up on the SpamAssassin corpus).",
            .tags = {"model"},
            .responses = {{429, "The model's queue is full (Retry-After)"}, {504, "The deadline passed"}}});

  app.post("/generate", [](GenerateIn in) { return serval::EventStream(tokens(std::move(in))); },
           {.summary = "Stream generated tokens as Server-Sent Events", .tags = {"model"}});

  return app.run(std::move(options));
}
