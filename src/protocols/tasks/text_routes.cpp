// POST /v1/classify and POST /v1/embed: text in, labels or vectors out.
#include "protocols/tasks/task_routes.hpp"

#include "protocols/tasks/task_common.hpp"
#include "protocols/tasks/task_dto.hpp"
#include "serval/app/params.hpp"

namespace serval::protocols::tasks {

namespace {

using Registry = std::shared_ptr<serving::ModelRegistry>;

Task<ClassifyOut> classify(Registry reg, ClassifyIn in, std::string deadline_header) {
  auto mv = resolve_for_task(*reg, in.model, in.version, "classify");
  serving::InferOptions options = deadline_options(in.deadline_ms, deadline_header);
  serving::InferRequest req;
  req.text = std::move(in.text);
  if (in.top_k) req.params["top_k"] = *in.top_k;
  if (in.threshold) req.params["threshold"] = *in.threshold;
  serving::InferResponse r = co_await mv->infer(std::move(req), options);
  ClassifyOut out;
  out.model = std::move(in.model);
  out.version = mv->version();
  if (const auto* labels = r.json.is_object() ? r.json.as_object().if_contains("labels") : nullptr) {
    for (const auto& l : labels->as_array()) {
      const auto& o = l.as_object();
      LabelScore ls;
      ls.label = std::string(o.at("label").as_string());
      ls.score = o.at("score").to_number<double>();
      out.labels.push_back(std::move(ls));
    }
  }
  co_return out;
}

Task<EmbedOut> embed(Registry reg, EmbedIn in, std::string deadline_header) {
  auto mv = resolve_for_task(*reg, in.model, in.version, "embed");
  serving::InferOptions options = deadline_options(in.deadline_ms, deadline_header);
  serving::InferRequest req;
  req.texts = std::move(in.texts);
  serving::InferResponse r = co_await mv->infer(std::move(req), options);
  EmbedOut out;
  out.model = std::move(in.model);
  out.version = mv->version();
  const auto& o = r.json.as_object();
  out.dim = static_cast<int>(o.at("dim").to_number<std::int64_t>());
  for (const auto& v : o.at("vectors").as_array()) {
    std::vector<double> vec;
    vec.reserve(v.as_array().size());
    for (const auto& x : v.as_array()) vec.push_back(x.to_number<double>());
    out.vectors.push_back(std::move(vec));
  }
  co_return out;
}

}  // namespace

void add_text_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry) {
  app.post(
      "/v1/classify",
      [registry](ClassifyIn in, Header<std::optional<std::string>, "x-deadline-ms"> deadline) {
        return classify(registry, std::move(in), deadline->value_or(""));
      },
      {.summary = "Classify a text",
       .description = "Top-k labels with scores from a classify model (langid: 176 languages; spam: ham/spam).",
       .tags = {"tasks"},
       .responses = {{400, "The model does another task"}, {404, "Unknown model or version"},
                     {429, "The model's queue is full (Retry-After)"}, {503, "The model is not ready"},
                     {504, "The deadline passed before a result"}}});
  app.post(
      "/v1/embed",
      [registry](EmbedIn in, Header<std::optional<std::string>, "x-deadline-ms"> deadline) {
        return embed(registry, std::move(in), deadline->value_or(""));
      },
      {.summary = "Embed texts",
       .description = "One sentence vector per text from an embed model.",
       .tags = {"tasks"},
       .responses = {{400, "The model does another task"}, {404, "Unknown model or version"},
                     {429, "The model's queue is full (Retry-After)"}, {504, "The deadline passed"}}});
}

}  // namespace serval::protocols::tasks
