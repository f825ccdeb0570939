// The batcher and its queue on a test runtime whose timing the test controls: batching, the
// queue bound (429), deadlines (504, never executed), clients that leave (removed from the queue),
// and results reaching handlers on their own event loop through the app.
#include "serval/serving/model_version.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "serval/app/app.hpp"
#include "serval/app/test_client.hpp"

namespace serval::serving {
namespace {

using namespace std::chrono_literals;

// Records what it ran; blocks while the gate is closed; echoes the text upper-cased.
struct Probe {
  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = true;
  std::vector<std::string> executed;
  std::vector<int> batch_sizes;
  std::chrono::milliseconds work{0};
  std::atomic<int> entered{0};  // batches that reached execute(), gate or not

  void wait_entered(int n) {
    while (entered.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  void close_gate() {
    std::lock_guard lock(mu);
    gate_open = false;
  }
  void open_gate() {
    {
      std::lock_guard lock(mu);
      gate_open = true;
    }
    cv.notify_all();
  }
};

class ProbeRuntime : public Runtime {
 public:
  explicit ProbeRuntime(Probe* p) : probe_(p) {}
  void execute(std::span<InferRequest* const> batch, std::span<InferResult> out) override {
    probe_->entered.fetch_add(1);
    {
      std::unique_lock lock(probe_->mu);
      probe_->cv.wait(lock, [&] { return probe_->gate_open; });
      probe_->batch_sizes.push_back(static_cast<int>(batch.size()));
      for (auto* r : batch) probe_->executed.push_back(r->text);
    }
    if (probe_->work.count()) std::this_thread::sleep_for(probe_->work);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i]->text == "bad") {
        out[i] = InferResult::fail(ErrorClass::Client, "bad input");
        continue;
      }
      std::string up = batch[i]->text;
      for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out[i] = InferResult::ok({.json = boost::json::string(up)});
    }
  }
  std::optional<InferError> validate(const InferRequest& r) const override {
    if (r.text.empty()) return InferError{ErrorClass::Client, "text must not be empty"};
    return std::nullopt;
  }

 private:
  Probe* probe_;
};

Probe* g_probe = nullptr;

std::shared_ptr<ModelVersion> make_version(const std::string& name, BatchingSpec batching,
                                           std::chrono::milliseconds timeout = 30s) {
  register_runtime("test-probe", [](const LoadContext&) { return std::make_unique<ProbeRuntime>(g_probe); });
  auto spec = std::make_shared<ModelSpec>();
  spec->name = name;
  spec->runtime = "test-probe";
  spec->task = "classify";
  spec->batching = std::move(batching);
  spec->default_timeout = timeout;
  auto v = std::make_shared<ModelVersion>(spec, 1, "/nonexistent");
  v->load();
  return v;
}

InferRequest text(std::string t) {
  InferRequest r;
  r.text = std::move(t);
  return r;
}

class ModelVersionTest : public ::testing::Test {
 protected:
  void SetUp() override { g_probe = &probe; }

  // Closes the gate and runs `t` on the executor: it blocks there until open_gate().
  std::future<InferResult> hold_executor(const std::shared_ptr<ModelVersion>& v, std::string t) {
    probe.close_gate();
    auto f = std::async(std::launch::async, [v, t] { return v->infer_blocking(text(t)); });
    probe.wait_entered(1);
    return f;
  }

  Probe probe;
};

TEST_F(ModelVersionTest, OneResultPerRequestInOrder) {
  auto v = make_version("echo1", {.max_batch_size = 4});
  auto r = v->infer_blocking(text("hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().json.as_string(), "HELLO");
  auto bad = v->infer_blocking(text("bad"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().cls, ErrorClass::Client);
  auto empty = v->infer_blocking(text(""));  // refused by validate(), never queued
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "text must not be empty");
  EXPECT_EQ(probe.executed.size(), 2u);
}

TEST_F(ModelVersionTest, ConcurrentRequestsShareBatches) {
  auto v = make_version("echo2", {.max_batch_size = 8, .max_queue_delay = 50ms, .max_queue = 64});
  probe.close_gate();
  // The first request occupies the executor; the next 16 queue up and go as two full batches.
  std::vector<std::future<InferResult>> futures;
  futures.push_back(std::async(std::launch::async, [&] { return v->infer_blocking(text("first")); }));
  probe.wait_entered(1);
  for (int i = 0; i < 16; ++i)
    futures.push_back(std::async(std::launch::async, [&, i] { return v->infer_blocking(text("t" + std::to_string(i))); }));
  while (v->stats().queue_depth < 16) std::this_thread::sleep_for(1ms);
  probe.open_gate();
  for (auto& f : futures) ASSERT_TRUE(f.get());
  std::lock_guard lock(probe.mu);
  ASSERT_EQ(probe.executed.size(), 17u);
  // 1 + 8 + 8.
  EXPECT_EQ(probe.batch_sizes.size(), 3u);
  EXPECT_EQ(probe.batch_sizes[1], 8);
  EXPECT_EQ(probe.batch_sizes[2], 8);
}

TEST_F(ModelVersionTest, MaxQueueDelayBoundsTheWaitForAFullBatch) {
  auto v = make_version("echo3", {.max_batch_size = 64, .max_queue_delay = 30ms});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = v->infer_blocking(text("alone"));
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r);
  EXPECT_GE(waited, 25ms);   // it waited for company...
  EXPECT_LT(waited, 500ms);  // ...but not for long
}

TEST_F(ModelVersionTest, PreferredBatchSizeGoesAtOnce) {
  auto v = make_version("echo4", {.max_batch_size = 64, .max_queue_delay = 2000ms, .preferred_batch_sizes = {1}});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(v->infer_blocking(text("x")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
}

TEST_F(ModelVersionTest, FullQueueIsRefusedAtOnce) {
  auto v = make_version("echo5", {.max_batch_size = 1, .max_queue = 2});
  std::vector<std::future<InferResult>> running;
  running.push_back(hold_executor(v, "a"));
  // The executor holds "a"; "b" and "c" fill the queue; "d" is refused without waiting.
  running.push_back(std::async(std::launch::async, [&] { return v->infer_blocking(text("b")); }));
  running.push_back(std::async(std::launch::async, [&] { return v->infer_blocking(text("c")); }));
  while (v->stats().queue_depth < 2) std::this_thread::sleep_for(1ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto d = v->infer_blocking(text("d"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().cls, ErrorClass::Overload);
  EXPECT_EQ(v->stats().rejected, 1u);
  probe.open_gate();
  for (auto& f : running) EXPECT_TRUE(f.get());
}

TEST_F(ModelVersionTest, ExpiredRequestIsAnsweredAndNeverExecuted) {
  auto v = make_version("echo6", {.max_batch_size = 1, .max_queue = 8});
  auto first = hold_executor(v, "slow");
  auto late = std::async(std::launch::async, [&] { return v->infer_blocking(text("late"), {.timeout = 30ms}); });
  std::this_thread::sleep_for(120ms);
  probe.open_gate();
  auto r = late.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::Timeout);
  EXPECT_TRUE(first.get());
  std::lock_guard lock(probe.mu);
  EXPECT_EQ(probe.executed, std::vector<std::string>{"slow"});
  EXPECT_EQ(v->stats().expired, 1u);
}

// Through the app: the handler awaits the model on the event loop.
struct In {
  std::string text;
};

}  // namespace
}  // namespace serval::serving

template <>
inline constexpr auto serval::schema<serval::serving::In> =
    serval::fields(serval::field("text", &serval::serving::In::text));

namespace serval::serving {
namespace {

Task<std::string> upper(std::shared_ptr<ModelVersion> v, In in, std::optional<std::string> deadline) {
  InferRequest r;
  r.text = std::move(in.text);
  InferOptions o;
  if (deadline) o.timeout = std::chrono::milliseconds(std::stoi(*deadline));
  InferResponse out = co_await v->infer(std::move(r), o);
  co_return std::string(out.json.as_string());
}

void add_route(App& app, std::shared_ptr<ModelVersion> v) {
  app.post("/upper", [v](In in, Header<std::optional<std::string>, "x-deadline-ms"> d) { return upper(v, std::move(in), *d); });
}

TEST_F(ModelVersionTest, HandlerResumesWithTheResultOrTheHttpError) {
  auto v = make_version("echo7", {.max_batch_size = 4});
  App app;
  add_route(app, v);
  TestClient client(app);
  auto ok = client.post("/upper", R"({"text":"serval"})");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"("SERVAL")");
  auto bad = client.post("/upper", R"({"text":"bad"})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("bad input"), std::string::npos);
}

TEST_F(ModelVersionTest, DeadlineInTheQueueAnswers504OnTheLoop) {
  auto v = make_version("echo8", {.max_batch_size = 1});
  App app;
  add_route(app, v);
  TestClient client(app);
  auto blocker = hold_executor(v, "hold");
  auto r = client.post("/upper", R"({"text":"never"})", {{"X-Deadline-Ms", "40"}});
  EXPECT_EQ(r.status, 504);
  EXPECT_NE(r.body.find("not executed"), std::string::npos);
  probe.open_gate();
  EXPECT_TRUE(blocker.get());
  std::lock_guard lock(probe.mu);
  EXPECT_EQ(probe.executed, std::vector<std::string>{"hold"});
}

TEST_F(ModelVersionTest, ClientThatLeavesIsRemovedFromTheQueue) {
  auto v = make_version("echo9", {.max_batch_size = 1});
  App app;
  add_route(app, v);
  TestClient client(app);
  auto blocker = hold_executor(v, "hold");
  const std::string body = R"({"text":"gone"})";
  client.raw_then_disconnect("POST /upper HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body,
                             50ms);
  EXPECT_EQ(v->stats().cancelled, 1u);
  EXPECT_EQ(v->stats().queue_depth, 0u);
  probe.open_gate();
  EXPECT_TRUE(blocker.get());
  std::this_thread::sleep_for(20ms);
  std::lock_guard lock(probe.mu);
  EXPECT_EQ(probe.executed, std::vector<std::string>{"hold"});
}

}  // namespace
}  // namespace serval::serving
