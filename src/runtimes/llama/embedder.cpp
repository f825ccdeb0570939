#include "runtimes/llama/embedder.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "runtimes/llama/vocab_text.hpp"

namespace serval::runtimes::llama {

using serving::ErrorClass;
using serving::InferError;

Embedder::Embedder(llama_model* model, int n_ctx, int n_batch, int threads)
    : vocab_(llama_model_get_vocab(model)),
      n_ctx_(n_ctx),
      dim_(llama_model_n_embd(model)),
      batch_(std::min(n_batch, n_ctx)) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n_ctx);
  cp.n_batch = static_cast<uint32_t>(batch_.capacity());
  cp.n_ubatch = static_cast<uint32_t>(batch_.capacity());
  cp.n_seq_max = 1;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.embeddings = true;
  cp.pooling_type = LLAMA_POOLING_TYPE_NONE;  // per-token states; the mean is taken here, over all chunks
  cp.no_perf = true;
  ctx_.reset(llama_init_from_model(model, cp));
  if (!ctx_) throw std::runtime_error("llama.cpp could not create the embedding context");
}

std::variant<std::vector<float>, InferError> Embedder::embed(const std::string& text) {
  const std::vector<llama_token> tokens = tokenize(vocab_, text, true);
  if (tokens.empty()) return InferError{ErrorClass::Client, "the text has no tokens"};
  if (static_cast<int>(tokens.size()) > n_ctx_)
    return InferError{ErrorClass::Client, "text is " + std::to_string(tokens.size()) +
                                              " tokens; embeddings take at most " + std::to_string(n_ctx_)};
  llama_memory_clear(llama_get_memory(ctx_.get()), true);
  std::vector<double> sum(static_cast<std::size_t>(dim_), 0.0);
  for (std::size_t start = 0; start < tokens.size(); start += static_cast<std::size_t>(batch_.capacity())) {
    const std::size_t end = std::min(tokens.size(), start + static_cast<std::size_t>(batch_.capacity()));
    batch_.clear();
    for (std::size_t i = start; i < end; ++i) batch_.add(tokens[i], static_cast<llama_pos>(i), 0, true);
    if (const int rc = llama_decode(ctx_.get(), batch_.get()); rc != 0)
      return InferError{ErrorClass::Inference, "llama_decode failed (" + std::to_string(rc) + ") computing an embedding"};
    for (int i = 0; i < batch_.size(); ++i) {
      const float* e = llama_get_embeddings_ith(ctx_.get(), i);
      if (!e) return InferError{ErrorClass::Inference, "llama.cpp returned no embedding"};
      for (int d = 0; d < dim_; ++d) sum[static_cast<std::size_t>(d)] += e[d];
    }
  }
  double norm = 0.0;
  for (double v : sum) norm += v * v;
  norm = std::sqrt(norm);
  if (!std::isfinite(norm) || norm == 0.0)
    return InferError{ErrorClass::Inference, "the embedding is zero or not finite"};
  std::vector<float> out(sum.size());
  for (std::size_t d = 0; d < sum.size(); ++d) out[d] = static_cast<float>(sum[d] / norm);
  return out;
}

}  // namespace serval::runtimes::llama
