#include "serval/serving/generation_stream.hpp"

#include <stdexcept>

#include "serval/async/cancel.hpp"
#include "serval/net/event_loop.hpp"
#include "serval/serving/model_version.hpp"

namespace serval::serving {

std::shared_ptr<GenerationStream> GenerationStream::start(GenerationEngine& engine, GenerationParams params) {
  auto* loop = net::EventLoop::current();
  if (loop == nullptr) throw std::logic_error("GenerationStream::start called outside an event loop");
  std::shared_ptr<GenerationStream> s(new GenerationStream());
  s->engine_ = &engine;
  s->loop_ = loop;
  std::weak_ptr<GenerationStream> weak = s;
  auto r = engine.submit(std::move(params), [weak](GenerationEvent ev) {
    if (auto self = weak.lock()) self->push(std::move(ev));
  });
  if (auto* err = std::get_if<InferError>(&r)) throw InferFailure(err->cls, err->message, err->cls == ErrorClass::Overload ? 1 : 0);
  s->id_ = std::get<GenerationEngine::SequenceId>(r);
  return s;
}

GenerationStream::~GenerationStream() { cancel(); }

void GenerationStream::cancel() {
  bool do_cancel = false;
  {
    std::lock_guard lock(mu_);
    if (!cancelled_ && !finished_) do_cancel = true;
    cancelled_ = true;
    waiter_ = nullptr;
  }
  if (do_cancel && engine_ != nullptr) engine_->cancel(id_);
}

void GenerationStream::push(GenerationEvent ev) {
  std::coroutine_handle<> wake;
  {
    std::lock_guard lock(mu_);
    if (cancelled_) return;
    if (ev.kind != GenerationEvent::Kind::Token) finished_ = true;
    events_.push_back(std::move(ev));
    if (waiter_ && !wake_posted_) {
      wake_posted_ = true;
      wake = waiter_;
    }
  }
  if (wake) {
    loop_->post([self = shared_from_this()] {
      std::coroutine_handle<> h;
      CancelScope* scope = nullptr;
      {
        std::lock_guard lock(self->mu_);
        self->wake_posted_ = false;
        h = std::exchange(self->waiter_, nullptr);
        scope = static_cast<CancelScope*>(self->scope_);
      }
      if (!h) return;  // cancelled meanwhile
      if (scope != nullptr) scope->clear();
      CancelScope::Enter enter(scope);
      h.resume();
    });
  }
}

bool GenerationStream::NextAwaiter::await_ready() {
  std::lock_guard lock(s->mu_);
  return !s->events_.empty() || s->delivered_end_ || s->cancelled_;
}

bool GenerationStream::NextAwaiter::await_suspend(std::coroutine_handle<> h) {
  CancelScope* scope = CancelScope::current();
  {
    std::lock_guard lock(s->mu_);
    if (!s->events_.empty() || s->cancelled_) return false;  // an event arrived since await_ready
    s->waiter_ = h;
    s->scope_ = scope;
  }
  if (scope != nullptr) {
    // The client left while we wait for a token: stop the sequence; the chain is destroyed.
    scope->on_cancel([weak = std::weak_ptr<GenerationStream>(s)] {
      if (auto self = weak.lock()) self->cancel();
    });
  }
  return true;
}

std::optional<GenerationEvent> GenerationStream::NextAwaiter::await_resume() {
  std::lock_guard lock(s->mu_);
  if (s->events_.empty()) return std::nullopt;
  GenerationEvent ev = std::move(s->events_.front());
  s->events_.pop_front();
  if (ev.kind != GenerationEvent::Kind::Token) s->delivered_end_ = true;
  return ev;
}

}  // namespace serval::serving
