// ModelVersion: one loaded version of a model — its runtime instances, its bounded queue, the
// batcher and the executor threads that run batches, and its metrics.
//
// Handlers `co_await version->infer(request)`: the request is checked (runtime.validate), queued
// (429 + Retry-After at once when the queue is full, 503 when the version is not ready), batched
// with others, executed on an executor thread — never on the event loop — and the handler resumes
// on its own loop with the result. A request carries a deadline (its own timeout or the model's
// default): if it passes while the request is queued, the request is answered 504 and never runs.
// A client that disconnects is taken out of the queue at once (CancelScope).
//
//   auto v = registry.resolve("langid");
//   serving::InferRequest req;  req.text = "bonjour tout le monde";
//   serving::InferResponse r = co_await v->infer(std::move(req), {.timeout = 250ms});
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "serval/app/errors.hpp"
#include "serval/async/task.hpp"
#include "serval/serving/generation.hpp"
#include "serval/serving/model_spec.hpp"
#include "serval/serving/runtime.hpp"

namespace serval::serving {

class BatchQueue;
struct Pending;
struct ModelMetrics;

// What infer() throws: an HttpError with the status of its class (422/500/504/429/503), a JSON
// detail, and Retry-After on 429/503.
class InferFailure : public HttpError {
 public:
  InferFailure(ErrorClass cls, std::string message, int retry_after_s = 0);
  ErrorClass error_class() const noexcept { return cls_; }
  const std::string& message() const noexcept { return message_; }
  int retry_after() const noexcept { return retry_after_; }

 private:
  ErrorClass cls_;
  std::string message_;
  int retry_after_;
};

struct InferOptions {
  std::optional<std::chrono::milliseconds> timeout;  // the request's deadline, from now
};

class ModelVersion : public std::enable_shared_from_this<ModelVersion> {
 public:
  enum class State { Loading, Ready, Failed, Stopped };

  ModelVersion(std::shared_ptr<const ModelSpec> spec, int version, std::filesystem::path dir);
  ~ModelVersion();
  ModelVersion(const ModelVersion&) = delete;
  ModelVersion& operator=(const ModelVersion&) = delete;

  // Builds spec.instances runtimes through the registered factory (blocking: call it off the event
  // loops) and starts one executor thread per instance. Throws on failure (state becomes Failed).
  void load();
  // Refuses new requests, lets the executors finish what is queued, joins them.
  void stop();

  // On an event loop: queue, batch, execute, resume here. Throws InferFailure.
  Task<InferResponse> infer(InferRequest request, InferOptions options = {});
  // From any other thread (a job worker, a benchmark): blocks until the result.
  InferResult infer_blocking(InferRequest request, InferOptions options = {});

  const ModelSpec& spec() const noexcept { return *spec_; }
  const std::string& name() const noexcept { return spec_->name; }
  int version() const noexcept { return version_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  State state() const noexcept { return state_.load(std::memory_order_acquire); }
  std::string_view state_name() const noexcept;
  const std::string& load_error() const noexcept { return load_error_; }

  // The first runtime instance (for describe()/validate()); the streaming engine of a llama model.
  Runtime* runtime() const noexcept { return runtimes_.empty() ? nullptr : runtimes_.front().get(); }
  GenerationEngine* generation() const noexcept { return generation_; }

  // The model card: spec, files, runtime description, batching, card.json, live state.
  boost::json::object card() const;

  // Generation streams do not pass through the batch queue (the llama scheduler batches them); their
  // handlers report here so that /metrics counts them like any request: in-flight while they run, then
  // one request with its total time and, when it failed, its error class.
  void stream_started();
  void stream_finished(std::chrono::steady_clock::duration total, std::optional<ErrorClass> error);

  struct Stats {
    std::size_t queue_depth = 0;
    std::int64_t in_flight = 0;      // accepted, not yet answered
    std::uint64_t executed = 0;      // requests that ran
    std::uint64_t batches = 0;
    std::uint64_t expired = 0;       // answered 504 without running
    std::uint64_t cancelled = 0;     // removed from the queue because the client left
    std::uint64_t rejected = 0;      // 429
  };
  Stats stats() const;
  // Seconds a new request would wait, from the queue depth and the recent drain rate (>= 1).
  int retry_after_seconds() const;

 private:
  struct InferAwaiter;
  friend struct InferAwaiter;

  void executor_main(Runtime* runtime);
  void run_batch(Runtime& runtime, std::vector<std::shared_ptr<Pending>>& batch);
  void deliver(std::vector<std::shared_ptr<Pending>>& done);
  void resume_on_loop(const std::shared_ptr<Pending>& p);
  void finish_accounting(const Pending& p);
  std::shared_ptr<Pending> admit(InferRequest&& request, const InferOptions& options);
  void on_deadline(const std::shared_ptr<Pending>& p);
  void on_cancel(const std::shared_ptr<Pending>& p);

  std::shared_ptr<const ModelSpec> spec_;
  int version_;
  std::filesystem::path dir_;
  std::atomic<State> state_{State::Loading};
  std::string load_error_;
  std::vector<std::unique_ptr<Runtime>> runtimes_;
  GenerationEngine* generation_ = nullptr;
  std::unique_ptr<BatchQueue> queue_;
  std::vector<std::thread> executors_;
  std::unique_ptr<ModelMetrics> metrics_;

  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::uint64_t> executed_{0}, batches_{0}, expired_{0}, cancelled_{0}, rejected_{0};
  std::atomic<double> drain_rate_{0};  // requests/s, smoothed
  std::atomic<std::int64_t> last_drain_ns_{0};
};

}  // namespace serval::serving
