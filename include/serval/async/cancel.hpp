// CancelScope: lets a connection stop the coroutine chain serving it the moment the client goes
// away — a streaming producer sleeping between events, a handler waiting for a model — instead of
// discovering it at the next write.
//
// The connection enters its scope while it runs a handler or pulls a stream. An awaitable that
// suspends inside a scope registers how to unhook itself (a timer to cancel, a queue entry to
// remove) with on_cancel(), and re-enters the scope when it resumes the coroutine. On disconnect
// the connection calls cancel(): the unhook runs, then the suspended chain is destroyed, so its
// locals' destructors run at once (that is how a producer notices it was cancelled).
//
//   struct MyAwaiter {
//     void await_suspend(std::coroutine_handle<> h) {
//       auto* scope = serval::CancelScope::current();
//       queue.push(h, scope);                                       // resumed later with Enter{scope}
//       if (scope) scope->on_cancel([this, h] { queue.remove(h); });
//     }
//   };
#pragma once

#include <functional>
#include <utility>

namespace serval {

class CancelScope {
 public:
  static CancelScope* current() noexcept;

  // Makes `scope` current for the lifetime of this object (restores the previous one after).
  class Enter {
   public:
    explicit Enter(CancelScope* scope) noexcept;
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    CancelScope* previous_;
  };

  // Registers the unhook of the awaitable the chain is suspended in (replaces any earlier one).
  void on_cancel(std::function<void()> unhook) { unhook_ = std::move(unhook); }
  // Called by an awaitable when it resumes the chain normally.
  void clear() noexcept { unhook_ = nullptr; }

  void cancel() {
    cancelled_ = true;
    if (unhook_) std::exchange(unhook_, nullptr)();
  }
  bool cancelled() const noexcept { return cancelled_; }
  void reset() noexcept {
    cancelled_ = false;
    unhook_ = nullptr;
  }

 private:
  std::function<void()> unhook_;
  bool cancelled_ = false;
};

}  // namespace serval
