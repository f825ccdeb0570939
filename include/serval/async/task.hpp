// Task<T>: a lazily started coroutine that produces one T (or throws).
//
// Handlers that wait for something (a model result, a timer) return Task<T> and `co_await` other
// tasks. A task starts when it is awaited (or spawned) and resumes its awaiter by symmetric
// transfer when it finishes, so long chains don't grow the stack.
//
//   serval::Task<int> answer() { co_return 42; }
//   serval::Task<std::string> greet() { int n = co_await answer(); co_return std::to_string(n); }
//   serval::spawn(greet(), [](serval::Result<std::string> r) { ... });   // from non-coroutine code
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <utility>
#include <variant>

namespace serval {

template <class T = void>
class Task;

namespace detail {

struct TaskPromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct TaskPromise : TaskPromiseBase {
  std::variant<std::monostate, T> value;
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) { value.template emplace<1>(std::forward<U>(v)); }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(std::get<1>(value));
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  Task(Task&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> h;
      bool await_ready() noexcept { return !h || h.done(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h.promise().continuation = awaiting;
        return h;
      }
      T await_resume() { return h.promise().take(); }
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

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>{std::coroutine_handle<TaskPromise<T>>::from_promise(*this)};
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<TaskPromise<void>>::from_promise(*this)};
}

// A coroutine nobody awaits: it runs eagerly and frees itself when it finishes. `handle` lets its
// owner destroy it while it is suspended (cancellation); it dangles once the coroutine finished.
struct Detached {
  struct promise_type;
  std::coroutine_handle<promise_type> handle;
  struct promise_type {
    Detached get_return_object() noexcept { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};
}  // namespace detail

// The outcome of a spawned task: a value or the exception it threw.
template <class T>
struct Result {
  std::variant<T, std::exception_ptr> v;
  bool ok() const noexcept { return v.index() == 0; }
  T& value() { return std::get<0>(v); }
  std::exception_ptr error() const { return ok() ? nullptr : std::get<1>(v); }
};

// Runs `task` to completion without an awaiting coroutine; `done` gets its result on whichever
// thread finished it (for handlers: their event loop). Runs synchronously until the first suspension.
template <class T, class F>
detail::Detached spawn(Task<T> task, F done) {
  Result<T> r{std::exception_ptr{}};
  try {
    r.v.template emplace<0>(co_await std::move(task));
  } catch (...) {
    r.v.template emplace<1>(std::current_exception());
  }
  done(std::move(r));
}

}  // namespace serval
