#include "serving/batch_queue.hpp"

#include <algorithm>

namespace serval::serving {

BatchQueue::BatchQueue(BatchingSpec spec) : spec_(std::move(spec)) {
  if (spec_.max_batch_size < 1) spec_.max_batch_size = 1;
  if (spec_.max_queue < 1) spec_.max_queue = 1;
  std::sort(spec_.preferred_batch_sizes.begin(), spec_.preferred_batch_sizes.end());
}

BatchQueue::Push BatchQueue::push(PendingPtr p) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (closed_) return Push::Closed;
    if (queue_.size() >= static_cast<std::size_t>(spec_.max_queue)) return Push::Full;
    p->state = Pending::State::Queued;
    queue_.push_back(std::move(p));
    wake = waiting_ > 0;
  }
  if (wake) cv_.notify_one();
  return Push::Ok;
}

bool BatchQueue::remove(const Pending* p) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(queue_.begin(), queue_.end(), [p](const PendingPtr& q) { return q.get() == p; });
  if (it == queue_.end()) return false;
  (*it)->state = Pending::State::Removed;
  queue_.erase(it);
  return true;
}

// How many requests to take now (0 = keep waiting until `wake`).
std::size_t BatchQueue::due_size_locked(Clock::time_point now, Clock::time_point& wake) const {
  const std::size_t n = std::min(queue_.size(), static_cast<std::size_t>(spec_.max_batch_size));
  if (n == 0) return 0;
  if (closed_ || n == static_cast<std::size_t>(spec_.max_batch_size) || spec_.max_queue_delay.count() <= 0) return n;
  const Clock::time_point due = queue_.front()->enqueued + spec_.max_queue_delay;
  if (due <= now) return n;
  // A preferred size that is available goes at once (the largest one that fits).
  for (auto it = spec_.preferred_batch_sizes.rbegin(); it != spec_.preferred_batch_sizes.rend(); ++it) {
    if (*it >= 1 && static_cast<std::size_t>(*it) <= n) return static_cast<std::size_t>(*it);
  }
  wake = due;
  return 0;
}

bool BatchQueue::next_batch(std::vector<PendingPtr>& batch, std::vector<PendingPtr>& expired) {
  batch.clear();
  expired.clear();
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = Clock::now();
    // Expired requests leave the queue without running.
    for (auto it = queue_.begin(); it != queue_.end();) {
      if ((*it)->deadline <= now) {
        (*it)->state = Pending::State::Removed;
        expired.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    if (!expired.empty()) return true;  // the caller answers them at once, then comes back
    Clock::time_point wake = Clock::time_point::max();
    if (std::size_t n = due_size_locked(now, wake); n > 0) {
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        PendingPtr p = std::move(queue_.front());
        queue_.pop_front();
        p->state = Pending::State::Taken;
        p->started = now;
        batch.push_back(std::move(p));
      }
      return true;
    }
    if (closed_) return false;
    // Wake for the batch delay or the earliest deadline, whichever comes first.
    for (const auto& p : queue_) wake = std::min(wake, p->deadline);
    ++waiting_;
    if (wake == Clock::time_point::max()) cv_.wait(lock);
    else cv_.wait_until(lock, wake);
    --waiting_;
  }
}

void BatchQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::vector<PendingPtr> BatchQueue::drain() {
  std::lock_guard lock(mu_);
  std::vector<PendingPtr> out;
  for (auto& p : queue_) {
    p->state = Pending::State::Removed;
    out.push_back(std::move(p));
  }
  queue_.clear();
  return out;
}

std::size_t BatchQueue::depth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace serval::serving
