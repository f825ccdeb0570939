// GenerationStream: a running generation as something a coroutine can await token by token.
//
// The engine calls its sink on the scheduler thread; the stream buffers the events and resumes
// the awaiting coroutine on its own event loop. Destroying the stream before the end (the client
// went away, the handler threw) cancels the sequence, so its KV-cache slot is freed at once; a
// coroutine suspended in next() when the client leaves is unhooked through its CancelScope.
//
//   auto s = serving::GenerationStream::start(*engine, params);     // throws InferFailure (429/422)
//   while (auto ev = co_await s->next()) {
//     if (ev->kind == GenerationEvent::Kind::Token) send(ev->text);
//   }
#pragma once

#include <coroutine>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "serval/serving/generation.hpp"

namespace serval::net {
class EventLoop;
}

namespace serval::serving {

class GenerationStream : public std::enable_shared_from_this<GenerationStream> {
 public:
  // Submits the sequence. Must be called on an event loop thread.
  static std::shared_ptr<GenerationStream> start(GenerationEngine& engine, GenerationParams params);
  ~GenerationStream();

  struct NextAwaiter {
    std::shared_ptr<GenerationStream> s;
    bool await_ready();
    bool await_suspend(std::coroutine_handle<> h);
    std::optional<GenerationEvent> await_resume();
  };
  // The next event; nothing after Done or Error.
  NextAwaiter next() { return NextAwaiter{shared_from_this()}; }
  void cancel();

 private:
  GenerationStream() = default;
  void push(GenerationEvent ev);  // scheduler thread

  GenerationEngine* engine_ = nullptr;
  GenerationEngine::SequenceId id_ = 0;
  net::EventLoop* loop_ = nullptr;

  std::mutex mu_;
  std::deque<GenerationEvent> events_;
  bool finished_ = false;       // Done/Error received
  bool delivered_end_ = false;  // the consumer saw the end
  bool cancelled_ = false;
  std::coroutine_handle<> waiter_;
  void* scope_ = nullptr;  // the CancelScope the waiter suspended in
  bool wake_posted_ = false;
};

}  // namespace serval::serving
