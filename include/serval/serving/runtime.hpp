// The model contract: a runtime adapter loads one model version and executes batches.
//
// A batch of N requests in, exactly N results out, in order; one bad request fails alone (its
// result carries an InferError) and never the batch. execute() runs on the model's own executor
// thread, never on an event loop, and may block for as long as the computation takes. A runtime
// instance is used by one executor thread at a time (a model with `instances: 2` builds two).
//
//   class MyRuntime : public serval::serving::Runtime {
//     void execute(std::span<InferRequest* const> batch, std::span<InferResult> out) override {
//       for (size_t i = 0; i < batch.size(); ++i) out[i] = InferResult::ok({.json = ...});
//     }
//   };
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "serval/serving/model_spec.hpp"
#include "serval/serving/tensor.hpp"

namespace serval::serving {

// Why a request failed; each class maps to one HTTP status and one metrics label.
enum class ErrorClass {
  Client,       // 400/422: the input is wrong for this model (shape, dtype, undecodable image)
  Inference,    // 500: the runtime failed (or returned NaN/Inf)
  Timeout,      // 504: the deadline passed before a result
  Overload,     // 429: the model's queue is full
  Unavailable,  // 503: the model is not loaded (yet), or is unloading
};
std::string_view error_class_name(ErrorClass c) noexcept;  // "client", "inference", ...
int error_class_status(ErrorClass c) noexcept;

struct InferError {
  ErrorClass cls = ErrorClass::Inference;
  std::string message;
};

// One request to a model. Which fields a runtime reads depends on its task (see model_spec.hpp).
struct InferRequest {
  std::string text;                    // classify: the text; generate: the prompt
  std::vector<std::string> texts;      // embed: the texts
  std::string bytes;                   // ocr: PNG/JPEG bytes; vad: WAV or raw PCM bytes
  std::vector<Tensor> inputs;          // tensor models: named inputs
  std::vector<std::string> outputs;    // tensor models: requested outputs (empty = all)
  boost::json::object params;          // task parameters: top_k, threshold, sample_rate, ...
};

struct InferResponse {
  boost::json::value json;             // task result: labels, vectors, lines, segments
  std::vector<Tensor> outputs;         // tensor models: named outputs
};

class InferResult {
 public:
  InferResult() : error_(InferError{ErrorClass::Inference, "no result"}) {}
  static InferResult ok(InferResponse r) {
    InferResult x;
    x.error_.reset();
    x.value_ = std::move(r);
    return x;
  }
  static InferResult fail(ErrorClass cls, std::string message) {
    InferResult x;
    x.error_ = InferError{cls, std::move(message)};
    return x;
  }
  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  const InferError& error() const { return *error_; }
  InferResponse& value() { return value_; }
  const InferResponse& value() const { return value_; }

 private:
  std::optional<InferError> error_;
  InferResponse value_;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  // Executes one batch (1 <= batch.size() <= max_batch_size). out.size() == batch.size().
  virtual void execute(std::span<InferRequest* const> batch, std::span<InferResult> out) = 0;
  // Cheap checks on the event loop before queueing, so a malformed request is answered 4xx without
  // waiting for a batch. Returns the error, or nothing when the request is acceptable.
  virtual std::optional<InferError> validate(const InferRequest&) const { return std::nullopt; }
  // What the model card shows about the loaded version: input/output tensors with dtypes and
  // shapes, label count, embedding dimension, file sizes...
  virtual boost::json::object describe() const { return {}; }
};

// Everything a factory gets to build a runtime for one version.
struct LoadContext {
  const ModelSpec& spec;
  std::filesystem::path version_dir;   // models/<name>/<version>/
  int version = 1;
};

// Builds a runtime for spec.runtime ("onnx", "fasttext", "ocr", "vad", "llama"). Throws
// std::runtime_error with a clear message when the files are missing or invalid.
using RuntimeFactory = std::function<std::unique_ptr<Runtime>(const LoadContext&)>;

// Registered factories, keyed by runtime name. The built-in ones are registered by
// register_builtin_runtimes(); a user adds their own with register_runtime().
void register_runtime(std::string name, RuntimeFactory factory);
void register_builtin_runtimes();
const RuntimeFactory* find_runtime(std::string_view name);

}  // namespace serval::serving
