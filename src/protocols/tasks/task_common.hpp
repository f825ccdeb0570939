// Shared pieces of the task endpoints: picking a model version for a task, the request deadline,
// base64 payloads, and the binary body forms (raw, multipart, JSON base64) of OCR and VAD.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

// Standard base64 (RFC 4648 §4), padding optional, whitespace ignored. False on any other byte.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace serval::protocols::tasks
