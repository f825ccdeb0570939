// Continuous batching on the real tiny GGUF: shared decode steps, cancellation, the waiting-queue
// bound, and throughput at 1 and 8 concurrent sequences (printed for the record).
#include <atomic>
#include <chrono>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtimes/llama/test_support.hpp"

namespace serval::runtimes::llama {
namespace {

using namespace testing;
using serving::ErrorClass;
using serving::GenerationEvent;
using Clock = std::chrono::steady_clock;

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

serving::GenerationParams seeded(int i, int max_tokens) {
  serving::GenerationParams p;
  p.prompt = "Sequence number " + std::to_string(i) + " says";
  p.max_tokens = max_tokens;
  p.temperature = 0.9f;
  p.seed = static_cast<std::uint32_t>(100 + i);
  return p;
}

TEST(LlamaScheduler, EightConcurrentSequencesShareDecodeSteps) {
  // One thread unless SERVAL_TEST_LLAMA_THREADS says otherwise: on a busy shared machine two
  // threads wait for each other at every graph barrier.
  const char* env = std::getenv("SERVAL_TEST_LLAMA_THREADS");
  const int threads = env ? std::max(1, std::atoi(env)) : 1;
  auto rt = load_tiny({{"threads", threads}, {"n_ctx", 256}, {"n_parallel", 8}});
  ASSERT_NE(rt, nullptr);
  constexpr int kSeqs = 8, kTokens = 32;

  // One sequence alone, for the tokens/s baseline.
  auto t0 = Clock::now();
  const Generated solo = generate(*rt, seeded(99, kTokens));
  const double solo_s = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_FALSE(solo.refused || solo.error || solo.timed_out);

  const auto before = rt->stats();
  std::vector<std::shared_ptr<Collector>> cs;
  std::vector<std::future<void>> done;
  t0 = Clock::now();
  for (int i = 0; i < kSeqs; ++i) {
    auto c = std::make_shared<Collector>();
    done.push_back(c->done.get_future());
    auto r = rt->submit(seeded(i, kTokens), [c](GenerationEvent ev) { (*c)(std::move(ev)); });
    ASSERT_TRUE(std::holds_alternative<std::uint64_t>(r));
    cs.push_back(c);
  }
  for (auto& f : done) ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const double all_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto after = rt->stats();

  std::uint64_t total = 0;
  for (const auto& c : cs) {
    EXPECT_FALSE(c->g.error.has_value());
    EXPECT_TRUE(c->g.finish == "length" || c->g.finish == "stop");
    total += static_cast<std::uint64_t>(c->g.completion_tokens);
  }
  const std::uint64_t steps = after.steps - before.steps;
  EXPECT_EQ(after.tokens_generated - before.tokens_generated, total);
  // Sequential decoding would need >= total steps; shared steps need about kTokens (+ prefill).
  EXPECT_LT(steps, total / 3) << "steps " << steps << " for " << total << " tokens";
  EXPECT_EQ(after.active, 0);
  std::printf("[ llama    ] threads %d. 1 sequence: %d tokens in %.3f s = %.0f tokens/s; %d concurrent: %llu tokens "
              "in %.3f s = %.0f tokens/s, %llu decode steps\n",
              threads, solo.completion_tokens, solo_s, solo.completion_tokens / solo_s, kSeqs,
              static_cast<unsigned long long>(total), all_s, static_cast<double>(total) / all_s,
              static_cast<unsigned long long>(steps));
}

TEST(LlamaScheduler, LongPromptIsPrefilledInChunksWhileOthersDecode) {
  auto rt = load_tiny({{"threads", 1}, {"n_ctx", 512}, {"n_parallel", 2}, {"n_batch", 16}, {"embeddings", false}});
  ASSERT_NE(rt, nullptr);
  std::atomic<int> a_tokens{0};
  auto a_done = std::make_shared<std::promise<void>>();
  auto a = rt->submit(greedy("Keep talking", 120), [&a_tokens, a_done](GenerationEvent ev) {
    if (ev.kind == GenerationEvent::Kind::Token) a_tokens.fetch_add(1);
    else a_done->set_value();
  });
  ASSERT_TRUE(std::holds_alternative<std::uint64_t>(a));
  ASSERT_TRUE(eventually([&] { return a_tokens.load() >= 2; }));

  std::string long_prompt;
  for (int i = 0; i < 60; ++i) long_prompt += "lorem ipsum ";
  const int n_prompt = static_cast<int>(rt->tokenize(long_prompt, true).size());
  ASSERT_GT(n_prompt, 150);
  const auto steps_before = rt->stats().steps;
  const int a_before = a_tokens.load();
  std::atomic<int> a_at_first_b{-1};
  auto b_done = std::make_shared<std::promise<void>>();
  auto b_finished = b_done->get_future();
  auto b = rt->submit(greedy(long_prompt, 3), [&, b_done](GenerationEvent ev) {
    if (ev.kind == GenerationEvent::Kind::Token) {
      int expected = -1;
      a_at_first_b.compare_exchange_strong(expected, a_tokens.load());
    } else {
      b_done->set_value();
    }
  });
  ASSERT_TRUE(std::holds_alternative<std::uint64_t>(b));
  ASSERT_EQ(b_finished.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  // n_batch 16 with A decoding leaves 15 prompt tokens per step: B's prefill takes about
  // n_prompt / 15 steps, and A gains a token in each of them.
  EXPECT_GE(a_at_first_b.load() - a_before, n_prompt / 15 - 2);
  EXPECT_GE(rt->stats().steps - steps_before, static_cast<std::uint64_t>(n_prompt / 16));
  rt->cancel(std::get<std::uint64_t>(a));
}

TEST(LlamaScheduler, CancelMidStreamFreesTheSlot) {
  auto rt = load_tiny({{"threads", 1}, {"n_ctx", 256}, {"n_parallel", 1}});
  ASSERT_NE(rt, nullptr);
  std::atomic<int> events{0};
  std::atomic<bool> ended{false};
  auto r = rt->submit(seeded(1, 200), [&](GenerationEvent ev) {
    events.fetch_add(1);
    if (ev.kind != GenerationEvent::Kind::Token) ended = true;
  });
  ASSERT_TRUE(std::holds_alternative<std::uint64_t>(r));
  ASSERT_TRUE(eventually([&] { return events.load() >= 3; }));
  EXPECT_EQ(rt->stats().active, 1);
  rt->cancel(std::get<std::uint64_t>(r));
  const int at_cancel = events.load();
  ASSERT_TRUE(eventually([&] { return rt->stats().active == 0; }));
  // The only slot is free again: a new sequence runs to its end.
  const Generated next = generate(*rt, greedy("After the cancel", 5));
  EXPECT_EQ(next.finish, "length");
  EXPECT_EQ(next.completion_tokens, 5);
  EXPECT_LE(events.load() - at_cancel, 1) << "at most one event in flight after cancel()";
  EXPECT_FALSE(ended.load()) << "a cancelled sequence gets no Done";
}

TEST(LlamaScheduler, FullWaitingQueueAnswersOverload) {
  auto rt = load_tiny({{"threads", 1}, {"n_ctx", 256}, {"n_parallel", 1}, {"max_waiting", 1}, {"embeddings", false}});
  ASSERT_NE(rt, nullptr);
  auto noop = [](GenerationEvent) {};
  auto a = rt->submit(seeded(1, 200), noop);
  ASSERT_TRUE(std::holds_alternative<std::uint64_t>(a));
  ASSERT_TRUE(eventually([&] { return rt->stats().active == 1 && rt->stats().waiting == 0; }));
  auto b = rt->submit(seeded(2, 4), noop);  // waits for the slot
  ASSERT_TRUE(std::holds_alternative<std::uint64_t>(b));
  EXPECT_EQ(rt->stats().waiting, 1);
  auto c = rt->submit(seeded(3, 4), noop);
  ASSERT_TRUE(std::holds_alternative<serving::InferError>(c));
  EXPECT_EQ(std::get<serving::InferError>(c).cls, ErrorClass::Overload);
  // Cancelling the waiting one makes room again.
  rt->cancel(std::get<std::uint64_t>(b));
  EXPECT_EQ(rt->stats().waiting, 0);
  auto d = rt->submit(seeded(4, 4), noop);
  EXPECT_TRUE(std::holds_alternative<std::uint64_t>(d));
  rt->cancel(std::get<std::uint64_t>(a));
}

TEST(LlamaScheduler, UnloadEndsOpenSequencesWithAnError) {
  auto rt = load_tiny({{"threads", 1}, {"n_ctx", 256}, {"n_parallel", 1}, {"embeddings", false}});
  ASSERT_NE(rt, nullptr);
  auto c = std::make_shared<Collector>();
  auto f = c->done.get_future();
  auto events = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(std::holds_alternative<std::uint64_t>(rt->submit(seeded(1, 200), [c, events](GenerationEvent ev) {
    events->fetch_add(1);
    (*c)(std::move(ev));
  })));
  ASSERT_TRUE(eventually([&] { return events->load() >= 2; }));
  rt.reset();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_TRUE(c->g.error.has_value());
  EXPECT_EQ(c->g.error->cls, ErrorClass::Unavailable);
}

}  // namespace
}  // namespace serval::runtimes::llama
