// Scheduler: continuous batching of generation sequences over one llama.cpp context.
//
// One thread runs steps. Each step builds ONE llama_batch: the next token of every decoding
// sequence first, then prompt chunks of newly admitted sequences (filling the batch up to n_batch
// tokens, at least one prompt token per step, so a long prompt is prefilled over several steps
// while the others keep decoding); one
// llama_decode; then each sequence whose output is in the batch samples its next token with its
// own sampler chain. Sequences join from the waiting queue between steps, up to n_parallel, each
// on its own KV-cache sequence id (slot); a finished or cancelled one frees its KV cells at once.
// With nothing to do the thread sleeps on a condition variable.
//
// The KV cache is unified (one pool of n_parallel * n_ctx cells shared by the slots), so a batch
// mixing any slots is decoded in one pass; each sequence is kept within n_ctx by submit()'s caller.
//
//   Scheduler s(model, {.n_ctx = 2048, .n_parallel = 8, .n_batch = 512, .threads = 2, .max_waiting = 256});
//   auto id = s.submit(params, tokenize(vocab, params.prompt, true), sink);   // or an Overload error
//   s.cancel(std::get<0>(id));
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <variant>
#include <vector>

#include "runtimes/llama/llama_handles.hpp"
#include "serval/serving/generation.hpp"

namespace serval::runtimes::llama {

struct Sequence;

class Scheduler {
 public:
  struct Config {
    int n_ctx = 2048;       // per sequence
    int n_parallel = 8;     // slots
    int n_batch = 512;      // tokens per step
    int threads = 2;
    int max_waiting = 256;
  };
  using SequenceId = serving::GenerationEngine::SequenceId;

  // Creates the generation context and starts the thread. Throws std::runtime_error when the
  // context cannot be created. `model` must outlive the scheduler.
  Scheduler(llama_model* model, Config config);
  // Stops the thread; sequences still queued or running get an Unavailable error event.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a checked sequence with its prompt tokens (non-empty, prompt + max_tokens <= n_ctx).
  // Refuses with Overload when max_waiting sequences already wait.
  std::variant<SequenceId, serving::InferError> submit(serving::GenerationParams params,
                                                       std::vector<llama_token> prompt,
                                                       serving::GenerationEngine::Sink sink);
  void cancel(SequenceId id);
  serving::GenerationEngine::Stats stats() const;

 private:
  void run();
  bool admit();                  // under mu_: drops cancelled, admits waiting; false when stopping
  void step();
  void sample(Sequence& s, int batch_index);
  void finish(Sequence& s, const char* reason);
  void fail(Sequence& s, serving::InferError error);
  // Frees the slot and KV cells and marks the sequence done; true when it had been cancelled.
  bool release(Sequence& s);
  void deliver(Sequence& s, serving::GenerationEvent ev);  // unless cancelled
  void call_sink(Sequence& s, serving::GenerationEvent ev);
  void shutdown();

  Config config_;
  const llama_vocab* vocab_;
  ContextPtr ctx_;
  Batch batch_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::unordered_set<SequenceId> live_;       // admitted and not finished
  std::unordered_set<SequenceId> cancelled_;  // subset of live_ to drop before the next step
  int active_count_ = 0;
  SequenceId next_id_ = 1;

  // Scheduler thread only.
  std::vector<std::unique_ptr<Sequence>> active_;
  std::vector<llama_seq_id> free_slots_;

  std::atomic<std::uint64_t> steps_{0};
  std::atomic<std::uint64_t> tokens_generated_{0};
  std::thread thread_;
};

}  // namespace serval::runtimes::llama
