// Embedder: sentence embeddings from a llama model — the mean of the last hidden states of a
// text's tokens, L2-normalised.
//
// It owns a second llama.cpp context (embeddings on, one sequence, n_ctx tokens), separate from
// the generation scheduler's, and is used only from the executor thread that calls
// Runtime::execute(). A text longer than one decode call is fed in chunks and the mean taken over
// all of them.
//
//   Embedder e(model, /*n_ctx=*/2048, /*n_batch=*/128, /*threads=*/2);
//   auto v = e.embed("hello world");   // std::vector<float> of e.dim() values, |v| = 1
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "runtimes/llama/llama_handles.hpp"
#include "serval/serving/runtime.hpp"

namespace serval::runtimes::llama {

class Embedder {
 public:
  // Throws std::runtime_error when the context cannot be created.
  Embedder(llama_model* model, int n_ctx, int n_batch, int threads);

  // The embedding, or a Client error when the text is longer than n_ctx tokens; an Inference
  // error when llama.cpp fails.
  std::variant<std::vector<float>, serving::InferError> embed(const std::string& text);
  int dim() const noexcept { return dim_; }

 private:
  const llama_vocab* vocab_;
  int n_ctx_;
  int dim_;
  ContextPtr ctx_;
  Batch batch_;
};

}  // namespace serval::runtimes::llama
