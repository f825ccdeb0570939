#include "runtimes/llama/scheduler.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "runtimes/llama/sampling.hpp"
#include "runtimes/llama/text_assembler.hpp"
#include "runtimes/llama/vocab_text.hpp"
#include "serval/observe/log.hpp"

namespace serval::runtimes::llama {

using serving::ErrorClass;
using serving::GenerationEvent;
using serving::InferError;

struct Sequence {
  Scheduler::SequenceId id = 0;
  serving::GenerationParams params;
  std::vector<llama_token> prompt;
  serving::GenerationEngine::Sink sink;
  SamplerPtr sampler;
  TextAssembler text;
  llama_seq_id slot = -1;
  int n_past = 0;          // tokens of this sequence in the KV cache
  int n_queued = 0;        // its tokens in the current batch
  int output = -1;         // batch index of its output in the current batch, -1 if none
  llama_token next = -1;   // sampled, decoded in the next step
  int completion = 0;      // tokens sampled so far
  bool done = false;

  bool prefilling() const { return n_past < static_cast<int>(prompt.size()); }
};

namespace {

GenerationEvent make_event(GenerationEvent::Kind kind) {
  GenerationEvent ev;
  ev.kind = kind;
  return ev;
}

}  // namespace

Scheduler::Scheduler(llama_model* model, Config config)
    : config_(config), vocab_(llama_model_get_vocab(model)), batch_(config.n_batch + config.n_parallel) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(config.n_ctx) * static_cast<uint32_t>(config.n_parallel);
  cp.n_batch = static_cast<uint32_t>(batch_.capacity());
  cp.n_ubatch = static_cast<uint32_t>(std::min(batch_.capacity(), 512));
  cp.n_seq_max = static_cast<uint32_t>(config.n_parallel);
  cp.n_threads = config.threads;
  cp.n_threads_batch = config.threads;
  cp.kv_unified = true;  // one cell pool: a batch mixing slots is one ubatch, not one per slot
  cp.embeddings = false;
  cp.no_perf = true;
  ctx_.reset(llama_init_from_model(model, cp));
  if (!ctx_) throw std::runtime_error("llama.cpp could not create the generation context (n_ctx " +
                                      std::to_string(cp.n_ctx) + ")");
  for (int i = config.n_parallel - 1; i >= 0; --i) free_slots_.push_back(i);
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::variant<Scheduler::SequenceId, InferError> Scheduler::submit(serving::GenerationParams params,
                                                                  std::vector<llama_token> prompt,
                                                                  serving::GenerationEngine::Sink sink) {
  auto seq = std::make_unique<Sequence>();
  seq->sampler = make_sampler(params);
  seq->text = TextAssembler(params.stop);
  seq->params = std::move(params);
  seq->prompt = std::move(prompt);
  seq->sink = std::move(sink);
  std::lock_guard lock(mu_);
  if (stopping_) return InferError{ErrorClass::Unavailable, "the model is unloading"};
  if (waiting_.size() >= static_cast<std::size_t>(config_.max_waiting))
    return InferError{ErrorClass::Overload, std::to_string(waiting_.size()) +
                                                " sequences already wait for a generation slot; try again later"};
  seq->id = next_id_++;
  const SequenceId id = seq->id;
  waiting_.push_back(std::move(seq));
  cv_.notify_one();
  return id;
}

void Scheduler::cancel(SequenceId id) {
  std::unique_ptr<Sequence> dropped;  // destroyed (with its sink) after the lock is released
  std::lock_guard lock(mu_);
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [id](const auto& s) { return s->id == id; });
  if (it != waiting_.end()) {
    dropped = std::move(*it);
    waiting_.erase(it);
    return;
  }
  if (live_.count(id)) {
    cancelled_.insert(id);
    cv_.notify_one();
  }
}

serving::GenerationEngine::Stats Scheduler::stats() const {
  serving::GenerationEngine::Stats s;
  {
    std::lock_guard lock(mu_);
    s.active = static_cast<int>(live_.size());
    s.waiting = static_cast<int>(waiting_.size());
  }
  s.steps = steps_.load(std::memory_order_relaxed);
  s.tokens_generated = tokens_generated_.load(std::memory_order_relaxed);
  return s;
}

void Scheduler::run() {
  for (;;) {
    if (!admit()) break;
    if (active_.empty()) continue;
    try {
      step();
    } catch (const std::exception& e) {
      for (auto& s : active_)
        if (!s->done) fail(*s, InferError{ErrorClass::Inference, std::string("generation failed: ") + e.what()});
    }
    std::erase_if(active_, [](const auto& s) { return s->done; });
  }
  shutdown();
}

bool Scheduler::admit() {
  std::vector<Sequence*> dropped;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] {
      return stopping_ || !active_.empty() || (!waiting_.empty() && !free_slots_.empty());
    });
    if (stopping_) return false;
    for (auto& s : active_)
      if (cancelled_.count(s->id)) dropped.push_back(s.get());
    while (!waiting_.empty() && !free_slots_.empty()) {
      auto s = std::move(waiting_.front());
      waiting_.pop_front();
      s->slot = free_slots_.back();
      free_slots_.pop_back();
      live_.insert(s->id);
      active_.push_back(std::move(s));
    }
  }
  for (auto* s : dropped) release(*s);
  std::erase_if(active_, [](const auto& s) { return s->done; });
  return true;
}

void Scheduler::step() {
  batch_.clear();
  std::vector<Sequence*> in_batch;
  // Decoding sequences first: one token each, so they advance every step.
  for (auto& s : active_) {
    if (s->prefilling()) continue;
    s->output = batch_.add(s->next, s->n_past, s->slot, true);
    s->n_queued = 1;
    in_batch.push_back(s.get());
  }
  // Then prompt chunks, oldest first, within what is left of n_batch (at least one token, so a
  // prompt advances even when decoding sequences fill n_batch).
  int budget = std::max(config_.n_batch - batch_.size(), 1);
  for (auto& s : active_) {
    if (!s->prefilling() || budget <= 0) continue;
    const int left = static_cast<int>(s->prompt.size()) - s->n_past;
    const int n = std::min(budget, left);
    s->output = -1;
    for (int i = 0; i < n; ++i) {
      const int pos = s->n_past + i;
      const bool last = (i == left - 1);
      const int idx = batch_.add(s->prompt[static_cast<std::size_t>(pos)], pos, s->slot, last);
      if (last) s->output = idx;
    }
    s->n_queued = n;
    budget -= n;
    in_batch.push_back(s.get());
  }
  if (in_batch.empty()) return;

  const int rc = llama_decode(ctx_.get(), batch_.get());
  steps_.fetch_add(1, std::memory_order_relaxed);
  if (rc != 0) {
    const std::string why = rc == 1 ? "no room left in the KV cache" : "error " + std::to_string(rc);
    for (auto* s : in_batch) fail(*s, InferError{ErrorClass::Inference, "llama_decode failed: " + why});
    return;
  }
  for (auto* s : in_batch) {
    s->n_past += s->n_queued;
    if (s->output >= 0) sample(*s, s->output);
  }
}

void Scheduler::sample(Sequence& s, int batch_index) {
  const llama_token tok = llama_sampler_sample(s.sampler.get(), ctx_.get(), batch_index);
  ++s.completion;
  tokens_generated_.fetch_add(1, std::memory_order_relaxed);
  if (llama_vocab_is_eog(vocab_, tok)) {
    finish(s, "stop");
    return;
  }
  const bool at_limit = s.completion >= s.params.max_tokens;
  auto ev = make_event(GenerationEvent::Kind::Token);
  ev.token = tok;
  ev.text = s.text.push(token_piece(vocab_, tok));
  if (at_limit && !s.text.stopped()) ev.text += s.text.finish();
  deliver(s, std::move(ev));
  if (s.text.stopped()) {
    finish(s, "stop");
  } else if (at_limit) {
    finish(s, "length");
  } else {
    s.next = tok;
  }
}

void Scheduler::finish(Sequence& s, const char* reason) {
  if (std::string rest = s.text.finish(); !rest.empty()) {
    auto ev = make_event(GenerationEvent::Kind::Token);
    ev.text = std::move(rest);  // text held back until the end; no token of its own
    deliver(s, std::move(ev));
  }
  auto done = make_event(GenerationEvent::Kind::Done);
  done.finish_reason = reason;
  done.prompt_tokens = static_cast<int>(s.prompt.size());
  done.completion_tokens = s.completion;
  // The slot is free (stats().active has dropped) by the time the sink sees the end.
  if (!release(s)) call_sink(s, std::move(done));
}

void Scheduler::fail(Sequence& s, InferError error) {
  auto ev = make_event(GenerationEvent::Kind::Error);
  ev.error = std::move(error);
  if (!release(s)) call_sink(s, std::move(ev));
}

bool Scheduler::release(Sequence& s) {
  if (s.done) return true;
  s.done = true;
  if (s.slot >= 0) {
    llama_memory_seq_rm(llama_get_memory(ctx_.get()), s.slot, -1, -1);
    free_slots_.push_back(s.slot);
    s.slot = -1;
  }
  std::lock_guard lock(mu_);
  live_.erase(s.id);
  return cancelled_.erase(s.id) > 0;
}

void Scheduler::deliver(Sequence& s, GenerationEvent ev) {
  {
    std::lock_guard lock(mu_);
    if (cancelled_.count(s.id)) return;
  }
  call_sink(s, std::move(ev));
}

void Scheduler::call_sink(Sequence& s, GenerationEvent ev) {
  try {
    s.sink(std::move(ev));
  } catch (const std::exception& e) {
    serval::log::error("llama: a generation sink threw: ", e.what());
  } catch (...) {
    serval::log::error("llama: a generation sink threw");
  }
}

void Scheduler::shutdown() {
  const InferError unloading{ErrorClass::Unavailable, "the model was unloaded"};
  for (auto& s : active_)
    if (!s->done) fail(*s, unloading);
  active_.clear();
  std::deque<std::unique_ptr<Sequence>> waiting;
  {
    std::lock_guard lock(mu_);
    waiting.swap(waiting_);
  }
  for (auto& s : waiting) fail(*s, unloading);
}

}  // namespace serval::runtimes::llama
