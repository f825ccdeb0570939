// Owning handles for llama.cpp's C objects, and the one-time process set-up of its backend.
//
// llama.cpp hands out raw pointers that must be released with a matching *_free call; these
// unique_ptr aliases do it. llama_backend() initialises the backend once per process and routes
// llama.cpp's own log lines into serval's log (warnings and errors only; the rest is debug).
//
//   serval::runtimes::llama::llama_backend();
//   ModelPtr model{llama_model_load_from_file(path.c_str(), llama_model_default_params())};
//   ContextPtr ctx{llama_init_from_model(model.get(), cparams)};
//   SamplerPtr chain{llama_sampler_chain_init(llama_sampler_chain_default_params())};
#pragma once

#include <memory>

#include <llama.h>

namespace serval::runtimes::llama {

struct ModelDeleter {
  void operator()(llama_model* m) const noexcept { llama_model_free(m); }
};
struct ContextDeleter {
  void operator()(llama_context* c) const noexcept { llama_free(c); }
};
struct SamplerDeleter {
  void operator()(llama_sampler* s) const noexcept { llama_sampler_free(s); }
};

using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<llama_context, ContextDeleter>;
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;

// A llama_batch from llama_batch_init(capacity, 0, 1): tokens only, one sequence id per token.
class Batch {
 public:
  explicit Batch(int capacity) : batch_(llama_batch_init(capacity, 0, 1)), capacity_(capacity) {}
  ~Batch() { llama_batch_free(batch_); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  void clear() noexcept { batch_.n_tokens = 0; }
  // Appends one token; returns its index in the batch (the index to read its logits with).
  int add(llama_token token, llama_pos pos, llama_seq_id seq, bool output) noexcept {
    const int i = batch_.n_tokens++;
    batch_.token[i] = token;
    batch_.pos[i] = pos;
    batch_.n_seq_id[i] = 1;
    batch_.seq_id[i][0] = seq;
    batch_.logits[i] = output ? 1 : 0;
    return i;
  }
  int size() const noexcept { return batch_.n_tokens; }
  int capacity() const noexcept { return capacity_; }
  const llama_batch& get() const noexcept { return batch_; }

 private:
  llama_batch batch_;
  int capacity_;
};

// Initialises llama.cpp's backend once per process (thread-safe) and installs the log router.
void llama_backend();

}  // namespace serval::runtimes::llama
