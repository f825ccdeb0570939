#include "serval/serving/model_version.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <future>
#include <sstream>

#include <boost/json/parse.hpp>

#include "serval/observe/log.hpp"
#include "serving/batch_queue.hpp"
#include "serving/model_metrics.hpp"
#include "serving/pending.hpp"

namespace serval::serving {

namespace {

boost::json::value error_detail(ErrorClass cls, const std::string& message) {
  return boost::json::object{{"type", error_class_name(cls)}, {"msg", message}};
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

InferFailure::InferFailure(ErrorClass cls, std::string message, int retry_after_s)
    : HttpError(error_class_status(cls), error_detail(cls, message)),
      cls_(cls),
      message_(std::move(message)),
      retry_after_(retry_after_s) {
  if (retry_after_s > 0) with_header("Retry-After", std::to_string(retry_after_s));
}

ModelVersion::ModelVersion(std::shared_ptr<const ModelSpec> spec, int version, std::filesystem::path dir)
    : spec_(std::move(spec)), version_(version), dir_(std::move(dir)) {
  queue_ = std::make_unique<BatchQueue>(spec_->batching);
  metrics_ = std::make_unique<ModelMetrics>(spec_->name, version_);
}

ModelVersion::~ModelVersion() { stop(); }

std::string_view ModelVersion::state_name() const noexcept {
  switch (state()) {
    case State::Loading: return "loading";
    case State::Ready: return "ready";
    case State::Failed: return "failed";
    case State::Stopped: return "stopped";
  }
  return "unknown";
}

void ModelVersion::load() {
  try {
    const RuntimeFactory* factory = find_runtime(spec_->runtime);
    if (factory == nullptr) throw std::runtime_error("unknown runtime '" + spec_->runtime + "'");
    LoadContext ctx{*spec_, dir_, version_};
    const int instances = std::max(1, spec_->instances);
    for (int i = 0; i < instances; ++i) {
      auto rt = (*factory)(ctx);
      if (!rt) throw std::runtime_error("runtime '" + spec_->runtime + "' returned no instance");
      runtimes_.push_back(std::move(rt));
    }
    generation_ = dynamic_cast<GenerationEngine*>(runtimes_.front().get());
  } catch (const std::exception& e) {
    load_error_ = e.what();
    state_.store(State::Failed, std::memory_order_release);
    throw std::runtime_error("model " + spec_->name + " version " + std::to_string(version_) + ": " + e.what());
  }
  for (auto& rt : runtimes_) executors_.emplace_back([this, r = rt.get()] { executor_main(r); });
  state_.store(State::Ready, std::memory_order_release);
}

void ModelVersion::stop() {
  if (state() == State::Stopped) return;
  state_.store(State::Stopped, std::memory_order_release);
  queue_->close();
  for (auto& t : executors_) {
    if (t.joinable()) t.join();
  }
  executors_.clear();
  // Anything still queued (executors never started) is answered 503.
  auto left = queue_->drain();
  metrics_->queue_depth.dec(static_cast<double>(left.size()));
  for (auto& p : left) p->result = InferResult::fail(ErrorClass::Unavailable, "the model version is stopping");
  deliver(left);
}

// ---- admission -------------------------------------------------------------------------------------

std::shared_ptr<Pending> ModelVersion::admit(InferRequest&& request, const InferOptions& options) {
  if (state() != State::Ready) {
    metrics_->error(ErrorClass::Unavailable).inc();
    throw InferFailure(ErrorClass::Unavailable,
                       "model '" + spec_->name + "' version " + std::to_string(version_) + " is " +
                           std::string(state_name()),
                       state() == State::Loading ? 5 : 30);
  }
  if (const Runtime* rt = runtime()) {
    if (auto err = rt->validate(request)) {
      metrics_->error(err->cls).inc();
      throw InferFailure(err->cls, err->message);
    }
  }
  auto p = std::make_shared<Pending>();
  p->request = std::move(request);
  p->enqueued = Clock::now();
  auto timeout = options.timeout.value_or(spec_->default_timeout);
  if (timeout.count() <= 0) {
    metrics_->error(ErrorClass::Client).inc();
    throw InferFailure(ErrorClass::Client, "the deadline must be a positive number of milliseconds");
  }
  p->deadline = p->enqueued + timeout;
  return p;
}

int ModelVersion::retry_after_seconds() const {
  const double rate = drain_rate_.load(std::memory_order_relaxed);
  const double depth = static_cast<double>(queue_->depth());
  if (rate <= 0) return 1;
  return static_cast<int>(std::clamp(std::ceil(depth / rate), 1.0, 60.0));
}

struct ModelVersion::InferAwaiter {
  std::shared_ptr<ModelVersion> self;
  std::shared_ptr<Pending> p;
  std::optional<InferFailure> refused;

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) {
    net::EventLoop* loop = net::EventLoop::current();
    if (loop == nullptr) throw std::logic_error("ModelVersion::infer awaited outside an event loop; use infer_blocking");
    p->loop = loop;
    p->handle = h;
    p->scope = CancelScope::current();
    self->in_flight_.fetch_add(1, std::memory_order_relaxed);
    self->metrics_->in_flight.inc();
    switch (self->queue_->push(p)) {
      case BatchQueue::Push::Ok: break;
      case BatchQueue::Push::Full:
        self->in_flight_.fetch_sub(1, std::memory_order_relaxed);
        self->metrics_->in_flight.dec();
        self->rejected_.fetch_add(1, std::memory_order_relaxed);
        self->metrics_->error(ErrorClass::Overload).inc();
        refused.emplace(ErrorClass::Overload,
                        "model '" + self->spec_->name + "' queue is full (" +
                            std::to_string(self->spec_->batching.max_queue) + " requests waiting)",
                        self->retry_after_seconds());
        return false;
      case BatchQueue::Push::Closed:
        self->in_flight_.fetch_sub(1, std::memory_order_relaxed);
        self->metrics_->in_flight.dec();
        self->metrics_->error(ErrorClass::Unavailable).inc();
        refused.emplace(ErrorClass::Unavailable, "model '" + self->spec_->name + "' is stopping", 5);
        return false;
    }
    self->metrics_->queue_depth.inc();
    auto now = Clock::now();
    auto delay = p->deadline > now ? p->deadline - now : Clock::duration::zero();
    p->timer = loop->add_timer(delay, [self = self, p = p] { self->on_deadline(p); });
    if (p->scope != nullptr) p->scope->on_cancel([self = self, p = p] { self->on_cancel(p); });
    return true;
  }

  InferResponse await_resume() {
    if (refused) throw std::move(*refused);
    if (p->loop_error) throw InferFailure(p->loop_error->cls, p->loop_error->message);
    if (!p->result) {
      const auto& e = p->result.error();
      throw InferFailure(e.cls, e.message, e.cls == ErrorClass::Overload ? self->retry_after_seconds() : 0);
    }
    return std::move(p->result.value());
  }
};

Task<InferResponse> ModelVersion::infer(InferRequest request, InferOptions options) {
  // A named awaiter: GCC 12 destroys a braced temporary awaiter with non-trivial members twice when
  // it is the operand of co_await (the shared_ptr inside would be released twice).
  InferAwaiter awaiter{shared_from_this(), admit(std::move(request), options), std::nullopt};
  InferResponse response = co_await awaiter;
  co_return response;
}

InferResult ModelVersion::infer_blocking(InferRequest request, InferOptions options) {
  std::shared_ptr<Pending> p;
  try {
    p = admit(std::move(request), options);
  } catch (const InferFailure& f) {
    return InferResult::fail(f.error_class(), f.message());
  }
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  p->on_done = [done] { done->set_value(); };
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  metrics_->in_flight.inc();
  if (queue_->push(p) != BatchQueue::Push::Ok) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    metrics_->in_flight.dec();
    metrics_->error(ErrorClass::Overload).inc();
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return InferResult::fail(ErrorClass::Overload, "model '" + spec_->name + "' queue is full");
  }
  metrics_->queue_depth.inc();
  fut.wait();
  return std::move(p->result);
}

// ---- loop side: deadline and cancellation -----------------------------------------------------------

void ModelVersion::on_deadline(const std::shared_ptr<Pending>& p) {
  p->timer = 0;
  if (p->resumed || p->abandoned) return;
  const bool was_queued = queue_->remove(p.get());
  if (was_queued) {
    metrics_->queue_depth.dec();
    expired_.fetch_add(1, std::memory_order_relaxed);
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - p->enqueued).count();
  // A request still executing keeps its result slot (the executor writes it); the answer goes now.
  p->abandoned = true;  // the executor's delivery, if any, must not resume it again
  p->resumed = true;
  p->loop_error = InferError{ErrorClass::Timeout,
                             was_queued ? "the deadline passed after " + std::to_string(waited) +
                                              " ms in the queue; the request was not executed"
                                        : "the deadline passed after " + std::to_string(waited) +
                                              " ms while the model was executing the request"};
  metrics_->error(ErrorClass::Timeout).inc();
  metrics_->requests.inc();
  metrics_->request_seconds.observe(seconds(Clock::now() - p->enqueued));
  if (was_queued) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    metrics_->in_flight.dec();
  }
  if (p->scope != nullptr) p->scope->clear();
  CancelScope::Enter enter(p->scope);
  p->handle.resume();
}

void ModelVersion::on_cancel(const std::shared_ptr<Pending>& p) {
  // The client left: its coroutine chain is being destroyed; never resume it.
  p->abandoned = true;
  if (p->timer != 0) {
    p->loop->cancel_timer(p->timer);
    p->timer = 0;
  }
  if (queue_->remove(p.get())) {
    metrics_->queue_depth.dec();
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    metrics_->in_flight.dec();
  }
}

// ---- executor side ----------------------------------------------------------------------------------

void ModelVersion::executor_main(Runtime* runtime) {
  std::vector<std::shared_ptr<Pending>> batch, expired;
  while (queue_->next_batch(batch, expired)) {
    if (!expired.empty()) {
      for (auto& p : expired) {
        metrics_->queue_depth.dec();
        expired_.fetch_add(1, std::memory_order_relaxed);
        p->result = InferResult::fail(ErrorClass::Timeout, "the deadline passed in the queue; the request was not executed");
      }
      deliver(expired);
    }
    if (!batch.empty()) run_batch(*runtime, batch);
  }
}

void ModelVersion::run_batch(Runtime& runtime, std::vector<std::shared_ptr<Pending>>& batch) {
  const std::size_t n = batch.size();
  metrics_->queue_depth.dec(static_cast<double>(n));
  std::vector<InferRequest*> requests(n);
  for (std::size_t i = 0; i < n; ++i) {
    requests[i] = &batch[i]->request;
    metrics_->queue_seconds.observe(seconds(batch[i]->started - batch[i]->enqueued));
  }
  std::vector<InferResult> results(n);
  const auto t0 = Clock::now();
  try {
    runtime.execute(std::span<InferRequest* const>(requests.data(), n), std::span<InferResult>(results));
  } catch (const std::exception& e) {
    log::error(std::string("model ") + spec_->name + " v" + std::to_string(version_) + ": batch failed: " + e.what());
    for (auto& r : results) r = InferResult::fail(ErrorClass::Inference, std::string("inference failed: ") + e.what());
  } catch (...) {
    for (auto& r : results) r = InferResult::fail(ErrorClass::Inference, "inference failed");
  }
  const auto t1 = Clock::now();
  metrics_->compute_seconds.observe(seconds(t1 - t0));
  metrics_->batch_size.observe(static_cast<double>(n));
  batches_.fetch_add(1, std::memory_order_relaxed);
  executed_.fetch_add(n, std::memory_order_relaxed);
  // Drain rate: requests per second of executor time, smoothed.
  const double inst = static_cast<double>(n) / std::max(1e-6, seconds(t1 - t0)) * std::max(1, spec_->instances);
  const double prev = drain_rate_.load(std::memory_order_relaxed);
  drain_rate_.store(prev <= 0 ? inst : prev * 0.9 + inst * 0.1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    batch[i]->result = std::move(results[i]);
    batch[i]->finished = t1;
    batch[i]->batch_size = static_cast<int>(n);
  }
  deliver(batch);
}

void ModelVersion::deliver(std::vector<std::shared_ptr<Pending>>& done) {
  // One post per event loop for the whole batch (a handful of loops: a linear search, no map).
  std::vector<std::pair<net::EventLoop*, std::vector<std::shared_ptr<Pending>>>> by_loop;
  for (auto& p : done) {
    if (p->loop == nullptr) {
      finish_accounting(*p);
      if (p->on_done) p->on_done();
      continue;
    }
    auto it = std::find_if(by_loop.begin(), by_loop.end(), [&](const auto& e) { return e.first == p->loop; });
    if (it == by_loop.end()) it = by_loop.insert(by_loop.end(), {p->loop, {}});
    it->second.push_back(std::move(p));
  }
  done.clear();
  for (auto& [loop, items] : by_loop) {
    loop->post([self = shared_from_this(), items = std::move(items)] {
      for (const auto& p : items) self->resume_on_loop(p);
    });
  }
}

void ModelVersion::finish_accounting(const Pending& p) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  metrics_->in_flight.dec();
  metrics_->requests.inc();
  metrics_->request_seconds.observe(seconds(Clock::now() - p.enqueued));
  if (!p.result) metrics_->error(p.result.error().cls).inc();
}

void ModelVersion::resume_on_loop(const std::shared_ptr<Pending>& p) {
  if (p->timer != 0) {
    p->loop->cancel_timer(p->timer);
    p->timer = 0;
  }
  if (p->resumed) {
    // The deadline already answered it while it executed; only the accounting is left.
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    metrics_->in_flight.dec();
    return;
  }
  if (p->abandoned) {  // the client left while it executed
    finish_accounting(*p);
    return;
  }
  finish_accounting(*p);
  p->resumed = true;
  if (p->scope != nullptr) p->scope->clear();
  CancelScope::Enter enter(p->scope);
  p->handle.resume();
}

// ---- generation streams ------------------------------------------------------------------------------

void ModelVersion::stream_started() {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  metrics_->in_flight.inc();
}

void ModelVersion::stream_finished(Clock::duration total, std::optional<ErrorClass> error) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  metrics_->in_flight.dec();
  metrics_->requests.inc();
  metrics_->request_seconds.observe(seconds(total));
  if (error) metrics_->error(*error).inc();
}

// ---- introspection ----------------------------------------------------------------------------------

ModelVersion::Stats ModelVersion::stats() const {
  Stats s;
  s.queue_depth = queue_->depth();
  s.in_flight = in_flight_.load(std::memory_order_relaxed);
  s.executed = executed_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.expired = expired_.load(std::memory_order_relaxed);
  s.cancelled = cancelled_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  return s;
}

boost::json::object ModelVersion::card() const {
  boost::json::object c;
  c["version"] = version_;
  c["state"] = state_name();
  if (!load_error_.empty()) c["error"] = load_error_;
  if (const Runtime* rt = runtime()) c["runtime_info"] = rt->describe();
  // card.json beside the files: figures the set-up measured (held-out precision, corpus...).
  std::ifstream in(dir_ / "card.json");
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = boost::json::parse(ss.str(), ec);
    if (!ec && v.is_object()) {
      for (auto& [k, val] : v.as_object()) c[k] = val;
    }
  }
  auto s = stats();
  c["stats"] = {{"queue_depth", s.queue_depth}, {"in_flight", s.in_flight}, {"executed", s.executed},
                {"batches", s.batches}, {"expired", s.expired}, {"cancelled", s.cancelled},
                {"rejected", s.rejected}};
  return c;
}

}  // namespace serval::serving
