// EventLoop: one epoll loop on one thread; it owns its sockets, timers and posted work.
//
// Handlers and coroutines run on the loop that accepted their connection. Work finished on another
// thread (a model executor) comes back with post(), which is the only thread-safe method. Timers
// are a binary heap; cancellation is lazy (a cancelled timer is skipped when it comes due).
//
//   loop.post([] { ... });                          // from any thread
//   auto id = loop.add_timer(50ms, [] { ... });      // on the loop's thread
//   co_await serval::sleep_for(10ms);                 // in a coroutine running on a loop
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <vector>

namespace serval::net {

using Clock = std::chrono::steady_clock;

// Something registered with the loop for readiness events on a file descriptor.
class IoHandler {
 public:
  virtual ~IoHandler() = default;
  virtual void on_io(std::uint32_t epoll_events) = 0;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The loop running on the calling thread, or nullptr.
  static EventLoop* current() noexcept;

  void run();             // until stop(); on the calling thread
  // One iteration: wait up to `max_wait_ms` for I/O, then run posted work and due timers.
  // For drivers that own the thread (TestClient); sets current() for its duration.
  void run_once(int max_wait_ms);
  bool idle() const noexcept;  // no timers pending and nothing posted
  void stop();            // thread-safe
  void post(std::function<void()> fn);  // thread-safe; runs fn on the loop thread

  // Edge-triggered registration for `events` (EPOLLIN|EPOLLOUT|EPOLLRDHUP...).
  bool add(int fd, std::uint32_t events, IoHandler* handler);
  void remove(int fd);

  using TimerId = std::uint64_t;
  TimerId add_timer(Clock::duration delay, std::function<void()> fn);
  void cancel_timer(TimerId id);

  // The time of this loop iteration (cheap; refreshed once per wake-up).
  Clock::time_point now() const noexcept { return now_; }

 private:
  void run_due_timers();
  void drain_posted();
  int next_timeout_ms() const;

  int epfd_ = -1;
  int wakefd_ = -1;
  std::atomic<bool> stopping_{false};
  Clock::time_point now_ = Clock::now();

  mutable std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;

  struct Timer {
    Clock::time_point due;
    TimerId id;
    bool operator>(const Timer& o) const noexcept { return due > o.due || (due == o.due && id > o.id); }
  };
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::vector<std::pair<TimerId, std::function<void()>>> timer_fns_;  // sorted by id
  TimerId next_timer_ = 1;
};

// Awaitable: resumes the coroutine on the current loop after `d`. Must be awaited on a loop thread.
struct SleepAwaiter {
  Clock::duration delay;
  bool await_ready() const noexcept { return delay <= Clock::duration::zero(); }
  void await_suspend(std::coroutine_handle<> h) const;
  void await_resume() const noexcept {}
};

}  // namespace serval::net

namespace serval {
inline net::SleepAwaiter sleep_for(net::Clock::duration d) { return {d}; }
}  // namespace serval
