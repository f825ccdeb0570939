// serval's task endpoints over the model registry, written with the public app API like a user's
// code: one typed, validated, documented route per task.
//
//   GET  /v1/models                 model cards (OpenAI list shape: {"object":"list","data":[...]})
//   GET  /v1/models/{name}          one card
//   POST /v1/classify               {"model","text","top_k"?} -> labels with scores
//   POST /v1/embed                  {"model","texts"} -> vectors
//   POST /v1/ocr                    a PNG/JPEG: multipart (field "image"), raw image body, or JSON base64
//   POST /v1/vad                    16 kHz WAV/PCM: raw body, multipart (field "audio") or JSON base64
//   POST /v1/generate               {"model","prompt",...,"stream"?} -> text, or SSE token events
//
// Every request may carry a deadline: the body field `deadline_ms` or the `X-Deadline-Ms` header
// (the model's limits.timeout_ms otherwise), and a `version` to pin one version of the model.
//
//   auto models = std::make_shared<serving::ModelRegistry>("models");
//   serval::protocols::add_task_routes(app, models);
#pragma once

#include <memory>

#include "serval/app/app.hpp"
#include "serval/serving/registry.hpp"

namespace serval::protocols {

void add_model_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry);
void add_task_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry);

}  // namespace serval::protocols
