// LlamaRuntime: a GGUF language model served by llama.cpp — streaming generation with continuous
// batching (GenerationEngine), plus the batch contract (Runtime) for embeddings and non-streamed
// generation.
//
// Runtime::execute() answers, per request:
//   texts: ["a", "b"]        -> {"dim": D, "vectors": [[...], [...]]}  (mean-pooled, L2-normalised)
//   text: "prompt", params   -> {"text": "...", "finish_reason": "stop"|"length",
//                                "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
// params: max_tokens, temperature, top_p, top_k, stop (string or array), seed. A generation in
// execute() goes through the same scheduler as streamed ones and waits for its end (at most the
// model's timeout, then it is cancelled and fails with Timeout).
//
// Settings come from model.yaml `parameters` (see llama_options.hpp).
//
//   auto rt = serval::runtimes::llama::make_llama_runtime({spec, "models/tiny-llm/1", 1});
//   auto* engine = dynamic_cast<serval::serving::GenerationEngine*>(rt.get());
//   engine->submit(params, [](serval::serving::GenerationEvent ev) { ... });
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "runtimes/llama/embedder.hpp"
#include "runtimes/llama/llama_handles.hpp"
#include "runtimes/llama/llama_options.hpp"
#include "runtimes/llama/scheduler.hpp"
#include "serval/serving/generation.hpp"
#include "serval/serving/runtime.hpp"

namespace serval::runtimes::llama {

class LlamaRuntime : public serving::Runtime, public serving::GenerationEngine {
 public:
  // Loads the model and starts the scheduler. Throws std::runtime_error with a clear message.
  explicit LlamaRuntime(const serving::LoadContext& load);
  ~LlamaRuntime() override;

  // Runtime
  void execute(std::span<serving::InferRequest* const> batch, std::span<serving::InferResult> out) override;
  std::optional<serving::InferError> validate(const serving::InferRequest& request) const override;
  boost::json::object describe() const override;

  // GenerationEngine
  std::variant<SequenceId, serving::InferError> submit(serving::GenerationParams params, Sink sink) override;
  void cancel(SequenceId id) override;
  std::vector<std::int32_t> tokenize(const std::string& text, bool add_special) const override;
  std::string detokenize(const std::vector<std::int32_t>& tokens) const override;
  std::string chat_template() const override { return chat_template_; }
  int context_length() const override { return n_ctx_; }
  Stats stats() const override;

 private:
  serving::InferResult embed(const serving::InferRequest& request);
  std::string meta(const char* key) const;

  LlamaOptions options_;
  std::chrono::milliseconds timeout_;
  ModelPtr model_;
  const llama_vocab* vocab_ = nullptr;
  int n_ctx_ = 0;
  // No prompt longer than this can fit n_ctx tokens (n_ctx x the longest token text): longer ones are
  // refused before tokenizing, so submit() costs little on the caller's thread (an event loop).
  std::size_t max_prompt_bytes_ = 0;
  std::string chat_template_;
  std::unique_ptr<Embedder> embedder_;   // null when parameters.embeddings is false
  std::unique_ptr<Scheduler> scheduler_;  // last: its thread stops first
};

// The factory registered under "llama".
std::unique_ptr<serving::Runtime> make_llama_runtime(const serving::LoadContext& load);

}  // namespace serval::runtimes::llama
