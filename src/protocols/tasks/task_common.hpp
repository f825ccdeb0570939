// Shared pieces of the task endpoints: picking a model version for a task, the request deadline,
// base64 payloads, and the binary body forms (raw, multipart, JSON base64) of OCR and VAD.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "serval/app/errors.hpp"
#include "serval/app/json.hpp"
#include "serval/async/task.hpp"
#include "serval/http/request.hpp"
#include "serval/serving/model_version.hpp"
#include "serval/serving/registry.hpp"

namespace serval::protocols::tasks {

// The version that serves `model` for `task`: 404 when unknown, 400 when the model does another task.
std::shared_ptr<serving::ModelVersion> resolve_for_task(const serving::ModelRegistry& registry,
                                                        std::string_view model, std::optional<int> version,
                                                        std::string_view task);

// The deadline: the body's deadline_ms wins over the X-Deadline-Ms header; 422 when not positive.
serving::InferOptions deadline_options(std::optional<int> body_deadline_ms, std::string_view header_value);

// What every task endpoint does: resolve the version for `task`, apply the deadline, infer, and read
// the runtime's JSON result into the endpoint's response type `Out` (a described struct with `model`
// and `version` fields that the result lacks). A result that does not fit `Out` is a 500.
struct TaskCall {
  std::string model;
  std::optional<int> version;
  std::optional<int> deadline_ms;
  std::string deadline_header;
};

boost::json::object run_task_json(const serving::ModelVersion& mv, std::string_view model,
                                  serving::InferResponse&& r);

template <class Out>
Task<Out> run_task(std::shared_ptr<serving::ModelRegistry> reg, TaskCall call, std::string task,
                   serving::InferRequest req) {
  auto mv = resolve_for_task(*reg, call.model, call.version, task);
  serving::InferOptions options = deadline_options(call.deadline_ms, call.deadline_header);
  serving::InferResponse r = co_await mv->infer(std::move(req), options);
  boost::json::value v = run_task_json(*mv, call.model, std::move(r));
  Out out;
  std::vector<LocItem> loc;
  ValidationErrors errs;
  if (!from_json(v, out, loc, errs))
    throw HttpError(500, "model '" + call.model + "' returned a result of the wrong shape: " + errs.to_json());
  co_return out;
}

// Standard base64 (RFC 4648 §4), padding optional, whitespace ignored. False on any other byte.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace serval::protocols::tasks
