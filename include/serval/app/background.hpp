// BackgroundPool: runs work after responses are sent, on its own threads — never on an event
// loop. A request's tasks run in order, one after another (as FastAPI's BackgroundTasks do).
// Failures (exceptions) are logged and counted; shutdown waits for queued work up to a deadline.
//
//   pool.submit({[] { send_email(); }, [] { write_audit(); }});
//   pool.drain(std::chrono::seconds(10));
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace serval {

class BackgroundPool {
 public:
  explicit BackgroundPool(int threads = 2) : threads_(threads < 1 ? 1 : threads) {}
  ~BackgroundPool();
  BackgroundPool(const BackgroundPool&) = delete;
  BackgroundPool& operator=(const BackgroundPool&) = delete;

  void submit(std::vector<std::function<void()>> tasks);
  // Waits until everything submitted has run, or the deadline passes. True when all ran.
  bool drain(std::chrono::milliseconds deadline);

  struct Stats {
    std::uint64_t done = 0;     // tasks that returned
    std::uint64_t failed = 0;   // tasks that threw
    std::uint64_t pending = 0;  // queued or running
  };
  Stats stats() const;

 private:
  void start_locked();
  void work();

  int threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::vector<std::function<void()>>> queue_;
  std::vector<std::thread> workers_;
  std::uint64_t pending_ = 0;
  bool stopping_ = false;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> failed_{0};
};

}  // namespace serval
