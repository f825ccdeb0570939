// BatchQueue: a model version's bounded request queue and its batching policy (Triton's dynamic
// batcher): executors take up to max_batch_size requests at once, waiting at most
// max_queue_delay for a batch to fill, and go at once when a preferred batch size is available.
//
// push() never blocks: a full queue is refused (the caller answers 429) and a closed one too (503).
// remove() takes a request out while it is still queued (client gone, deadline passed); once an
// executor has taken it, it runs. Requests whose deadline has passed are never put in a batch:
// next_batch() hands them back as expired.
//
//   BatchQueue q(spec.batching);
//   if (q.push(p) != BatchQueue::Push::Ok) ...;
//   while (q.next_batch(batch, expired)) run(batch);      // on an executor thread
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "serval/serving/model_spec.hpp"
#include "serving/pending.hpp"

namespace serval::serving {

class BatchQueue {
 public:
  explicit BatchQueue(BatchingSpec spec);

  enum class Push { Ok, Full, Closed };
  Push push(PendingPtr p);
  // True when `p` was still queued and is now removed (its state becomes Removed).
  bool remove(const Pending* p);

  // Blocks until a batch is due, then moves it into `batch` (state Taken, `started` set) and any
  // requests found past their deadline into `expired` (state Removed). False once closed and empty.
  bool next_batch(std::vector<PendingPtr>& batch, std::vector<PendingPtr>& expired);

  // Refuses new requests and wakes the executors; what is still queued comes back from drain().
  void close();
  std::vector<PendingPtr> drain();

  std::size_t depth() const;
  int max_batch_size() const noexcept { return spec_.max_batch_size; }
  const BatchingSpec& spec() const noexcept { return spec_; }

 private:
  std::size_t due_size_locked(Clock::time_point now, Clock::time_point& wake) const;

  BatchingSpec spec_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingPtr> queue_;
  int waiting_ = 0;  // executors blocked in next_batch
  bool closed_ = false;
};

}  // namespace serval::serving
