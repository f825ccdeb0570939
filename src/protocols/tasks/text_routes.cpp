// POST /v1/classify and POST /v1/embed: text in, labels or vectors out.
#include "protocols/tasks/task_routes.hpp"

#include "protocols/tasks/task_common.hpp"
#include "protocols/tasks/task_dto.hpp"
#include "serval/app/params.hpp"

namespace serval::protocols::tasks {

namespace {

using Registry = std::shared_ptr<serving::ModelRegistry>;

Task<ClassifyOut> classify(Registry reg, ClassifyIn in, std::string deadline_header) {
  serving::InferRequest req;
  req.text = std::move(in.text);
  if (in.top_k) req.params["top_k"] = *in.top_k;
  if (in.threshold) req.params["threshold"] = *in.threshold;
  TaskCall call{std::move(in.model), in.version, in.deadline_ms, std::move(deadline_header)};
  return run_task<ClassifyOut>(std::move(reg), std::move(call), "classify", std::move(req));
}

Task<EmbedOut> embed(Registry reg, EmbedIn in, std::string deadline_header) {
  serving::InferRequest req;
  req.texts = std::move(in.texts);
  TaskCall call{std::move(in.model), in.version, in.deadline_ms, std::move(deadline_header)};
  return run_task<EmbedOut>(std::move(reg), std::move(call), "embed", std::move(req));
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
