#include "serval/app/background.hpp"

#include "serval/observe/log.hpp"

namespace serval {

BackgroundPool::~BackgroundPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void BackgroundPool::start_locked() {
  if (!workers_.empty()) return;
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { work(); });
}

void BackgroundPool::submit(std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) return;
  {
    std::lock_guard lock(mu_);
    start_locked();
    pending_ += tasks.size();
    queue_.push_back(std::move(tasks));
  }
  cv_.notify_one();
}

void BackgroundPool::work() {
  while (true) {
    std::vector<std::function<void()>> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    for (auto& task : batch) {
      try {
        task();
        done_.fetch_add(1, std::memory_order_relaxed);
      } catch (const std::exception& e) {
        failed_.fetch_add(1, std::memory_order_relaxed);
        log::error("background task failed: ", e.what());
      } catch (...) {
        failed_.fetch_add(1, std::memory_order_relaxed);
        log::error("background task failed with a non-standard exception");
      }
      std::lock_guard lock(mu_);
      if (--pending_ == 0) idle_cv_.notify_all();
    }
  }
}

bool BackgroundPool::drain(std::chrono::milliseconds deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, deadline, [this] { return pending_ == 0; });
}

BackgroundPool::Stats BackgroundPool::stats() const {
  Stats s;
  s.done = done_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.pending = pending_;
  return s;
}

}  // namespace serval
