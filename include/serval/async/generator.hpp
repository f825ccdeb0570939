// AsyncGenerator<T>: a coroutine that yields a sequence of T, and may co_await between yields.
//
// Streaming responses (SSE, chunked bodies, LLM tokens) are written as generators; the connection
// pulls the next value only when its socket has room, so a slow client bounds the producer's
// memory. Destroying the generator (client gone) destroys the suspended producer: its locals'
// destructors run at once, which is how a stream is cancelled.
//
//   serval::AsyncGenerator<std::string> count(int n) {
//     for (int i = 0; i < n; ++i) { co_await serval::sleep_for(10ms); co_yield std::to_string(i); }
//   }
//   while (auto v = co_await gen.next()) use(*v);
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace serval {

template <class T>
class [[nodiscard]] AsyncGenerator {
 public:
  struct promise_type {
    std::optional<T> current;
    std::exception_ptr error;
    std::coroutine_handle<> consumer = std::noop_coroutine();

    AsyncGenerator get_return_object() noexcept {
      return AsyncGenerator{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct ToConsumer {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().consumer;
      }
      void await_resume() noexcept {}
    };
    ToConsumer final_suspend() noexcept { return {}; }
    template <class U>
    ToConsumer yield_value(U&& v) {
      current.emplace(std::forward<U>(v));
      return {};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  AsyncGenerator() noexcept = default;
  explicit AsyncGenerator(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  AsyncGenerator(AsyncGenerator&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
  AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, {});
    }
    return *this;
  }
  ~AsyncGenerator() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Awaitable: the next value, or std::nullopt when the producer returned. Rethrows its exception.
  auto next() noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> h;
      bool await_ready() noexcept { return !h || h.done(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
        h.promise().current.reset();
        h.promise().consumer = consumer;
        return h;
      }
      std::optional<T> await_resume() {
        if (!h) return std::nullopt;
        auto& p = h.promise();
        if (p.error) std::rethrow_exception(std::exchange(p.error, nullptr));
        if (h.done()) return std::nullopt;
        return std::move(p.current);
      }
    };
    return Awaiter{handle_};
  }

 private:
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  std::coroutine_handle<promise_type> handle_;
};

}  // namespace serval
