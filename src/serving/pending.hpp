// Pending: one request waiting for a model — the shared record between the handler's event loop
// and the model's executor threads.
//
// The queue side (state) is guarded by the BatchQueue's mutex; the loop side (handle, scope,
// timer, abandoned) is touched only on the owner loop's thread. Results travel back with
// EventLoop::post, so a handler always resumes on the loop that suspended it.
#pragma once

#include <chrono>
#include <coroutine>
#include <functional>
#include <memory>
#include <optional>

#include "serval/async/cancel.hpp"
#include "serval/net/event_loop.hpp"
#include "serval/serving/runtime.hpp"

namespace serval::serving {

using Clock = std::chrono::steady_clock;

struct Pending {
  enum class State { Queued, Taken, Removed };

  InferRequest request;
  InferResult result;
  Clock::time_point enqueued{};
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point started{};   // taken into a batch
  Clock::time_point finished{};  // batch done
  int batch_size = 0;

  // Guarded by the queue's mutex.
  State state = State::Queued;

  // Owner loop only.
  net::EventLoop* loop = nullptr;
  std::coroutine_handle<> handle;
  CancelScope* scope = nullptr;
  net::EventLoop::TimerId timer = 0;
  bool abandoned = false;  // the client left, or the deadline answered first: never resume
  bool resumed = false;
  std::optional<InferError> loop_error;  // answered on the loop (deadline) while an executor may still write `result`

  // Callers off any loop (infer_blocking): called on the executor thread when `result` is set.
  std::function<void()> on_done;
};

using PendingPtr = std::shared_ptr<Pending>;

}  // namespace serval::serving
