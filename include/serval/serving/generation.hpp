// Generation: the streaming side of the model contract, for language models (llama.cpp).
//
// A GenerationEngine owns its model and one scheduler thread that runs continuous batching: all
// active sequences advance together, one token each per decode step, and new sequences join
// between steps. submit() never blocks: it queues the sequence (or refuses it at once when the
// waiting queue is full) and events arrive through `sink`, called on the scheduler thread — the
// caller hands them back to its event loop. cancel() frees the sequence (its KV cache slot) before
// the next step.
//
//   auto id = engine.submit(params, [loop](GenerationEvent ev) { loop->post(...); });
//   engine.cancel(id);   // client went away
#pragma once

#include <cstdint>
#include <functional>
#include <variant>
#include <optional>
#include <string>
#include <vector>

#include "serval/serving/runtime.hpp"

namespace serval::serving {

struct GenerationParams {
  std::string prompt;                   // raw text (a chat template is applied by the caller)
  int max_tokens = 128;
  float temperature = 0.8f;             // 0 = greedy
  float top_p = 0.95f;
  int top_k = 40;
  std::vector<std::string> stop;        // generation ends before any of these strings
  std::optional<std::uint32_t> seed;    // same seed + same prompt + same params = same text
};

struct GenerationEvent {
  enum class Kind { Token, Done, Error } kind = Kind::Token;
  std::string text;                     // Token: the new text (may be empty while a stop string is pending)
  std::int32_t token = -1;
  // Done:
  std::string finish_reason;            // "stop" | "length"
  int prompt_tokens = 0;
  int completion_tokens = 0;
  // Error:
  std::optional<InferError> error;
};

class GenerationEngine {
 public:
  using Sink = std::function<void(GenerationEvent)>;
  using SequenceId = std::uint64_t;

  virtual ~GenerationEngine() = default;
  // Queues a sequence. Returns its id, or an InferError (Overload when the waiting queue is full,
  // Client when the prompt does not fit the context).
  virtual std::variant<SequenceId, InferError> submit(GenerationParams params, Sink sink) = 0;
  // Stops a sequence; no event is delivered for it after cancel() returns... except one already
  // being delivered on the scheduler thread at that moment (sinks must tolerate a late event).
  virtual void cancel(SequenceId id) = 0;

  virtual std::vector<std::int32_t> tokenize(const std::string& text, bool add_special) const = 0;
  virtual std::string detokenize(const std::vector<std::int32_t>& tokens) const = 0;
  // The chat template stored in the GGUF (tokenizer.chat_template), or "" when there is none.
  virtual std::string chat_template() const = 0;
  virtual int context_length() const = 0;

  struct Stats {
    int active = 0;         // sequences decoding
    int waiting = 0;        // queued for a slot
    std::uint64_t steps = 0;            // decode steps run
    std::uint64_t tokens_generated = 0;
  };
  virtual Stats stats() const = 0;
};

}  // namespace serval::serving
