// Rate limits: rate syntax, the GCRA token bucket on a fake clock (no sleeps), the 429 and
// RateLimit-* headers through TestClient, keys (IP, X-Forwarded-For, API key, user, custom),
// the memory bound, concurrency, store failures, and /openapi.json.
#include "serval/app/security/rate_limit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/json.hpp>

#include "app/security/test_keys.hpp"
#include "serval/app/app.hpp"
#include "serval/app/security/bearer.hpp"
#include "serval/app/test_client.hpp"

namespace serval {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  RateLimitClock fn() {
    return [this] { return now; };
  }
};

TEST(RateParse, AcceptsTheUsualForms) {
  struct Case {
    const char* text;
    std::uint64_t limit;
    std::int64_t seconds;
  };
  for (const Case& c : {Case{"10/minute", 10, 60}, Case{"100/hour", 100, 3600}, Case{"5/second", 5, 1},
                        Case{"1000/day", 1000, 86400}, Case{"10 per minute", 10, 60}, Case{" 10 PER Minute ", 10, 60},
                        Case{"20/5 minutes", 20, 300}, Case{"20 per 5 minutes", 20, 300}, Case{"3/s", 3, 1},
                        Case{"7/2h", 7, 7200}, Case{"1/days", 1, 86400}}) {
    Rate r = Rate::parse(c.text);
    EXPECT_EQ(r.limit, c.limit) << c.text;
    EXPECT_EQ(r.period.count(), c.seconds) << c.text;
  }
}

TEST(RateParse, RejectsBadInputClearly) {
  for (const char* bad : {"", "minute", "10", "10/", "10/fortnight", "0/minute", "-1/minute", "10/0 minutes",
                          "10//minute", "10/minute extra", "ten/minute", "10 per", "1/400 days", "99999999999/s"}) {
    try {
      Rate::parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(RateLimit(RateLimitOptions{.limit = "lots"}), std::invalid_argument);
}

TEST(RateParse, ToString) {
  EXPECT_EQ(Rate::parse("10/minute").to_string(), "10 per 1 minute");
  EXPECT_EQ(Rate::parse("20/5 minutes").to_string(), "20 per 5 minutes");
  EXPECT_EQ(Rate::parse("5/90s").to_string(), "5 per 90 seconds");
  EXPECT_EQ(Rate::parse("1000/day").to_string(), "1000 per 1 day");
}

TEST(MemoryStore, TokenBucketBurstsThenRefillsContinuously) {
  FakeClock clock;
  MemoryRateLimitStore store({.clock = clock.fn()});
  Rate rate = Rate::parse("10/minute");
  for (std::uint64_t i = 0; i < 10; ++i) {
    RateLimitDecision d = store.acquire("k", rate);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 9 - i);
    EXPECT_EQ(d.limit, 10u);
    EXPECT_EQ(d.reset, std::chrono::seconds(6 * (i + 1)));  // until full again
  }
  RateLimitDecision refused = store.acquire("k", rate);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.retry_after, 6s);  // one token every 6 s
  clock.now += 5s;
  EXPECT_FALSE(store.acquire("k", rate).allowed);
  EXPECT_EQ(store.acquire("k", rate).retry_after, 1s);
  clock.now += 1s;
  RateLimitDecision one = store.acquire("k", rate);
  EXPECT_TRUE(one.allowed);
  EXPECT_EQ(one.remaining, 0u);
  EXPECT_FALSE(store.acquire("k", rate).allowed);
  clock.now += 10min;  // idle for long: the bucket is full, not fuller
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(store.acquire("k", rate).allowed);
  EXPECT_FALSE(store.acquire("k", rate).allowed);
}

TEST(MemoryStore, MemoryStaysBoundedUnderManyKeys) {
  FakeClock clock;
  MemoryRateLimitStore store({.max_keys = 1000, .shards = 8, .clock = clock.fn()});
  Rate rate = Rate::parse("5/minute");
  for (int i = 0; i < 50'000; ++i) {
    ASSERT_TRUE(store.acquire("client-" + std::to_string(i), rate).allowed);
    ASSERT_LE(store.size(), store.max_keys());
  }
  EXPECT_LE(store.max_keys(), 1000u);
  EXPECT_GT(store.size(), 900u);
  EXPECT_GT(store.evictions(), 40'000u);  // all buckets were busy: LRU had to go
  // Once buckets are full again (idle), they are dropped for free, before any busy one.
  clock.now += 1h;
  std::size_t evicted = store.evictions();
  for (int i = 0; i < 500; ++i) store.acquire("later-" + std::to_string(i), rate);  // ~60 a shard of 125
  EXPECT_EQ(store.evictions(), evicted);
  EXPECT_LE(store.size(), store.max_keys());
  // A key in use keeps its bucket through a flood of one-off callers (LRU drops the idlest).
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(store.acquire("hot", rate).allowed);
    for (int j = 0; j < 100; ++j) store.acquire("flood-" + std::to_string(i * 100 + j), rate);
  }
  EXPECT_FALSE(store.acquire("hot", rate).allowed);
}

TEST(MemoryStore, ConcurrentAcquireAdmitsExactlyTheLimit) {
  MemoryRateLimitStore store;  // real clock: 1000/day refills one every 86 s, far beyond this test
  Rate rate = Rate::parse("1000/day");
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 600; ++i) {
        if (store.acquire("shared", rate).allowed) allowed.fetch_add(1);
        store.acquire("own-" + std::to_string(i % 50), rate);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 1000);
}

class RateLimitHttp : public ::testing::Test {
 protected:
  RateLimitHttp() {
    app.get("/items", [] { return std::string("ok"); },
            {.middleware = {std::make_shared<RateLimit>(
                 RateLimitOptions{.limit = "10/minute", .trust_forwarded = true, .clock = clock.fn()})}});
    app.get("/free", [] { return std::string("free"); });
  }
  TestClient::Response get(const std::string& ip) { return client.get("/items", {{"X-Forwarded-For", ip}}); }

  FakeClock clock;
  App app;
  TestClient client{app};
};

TEST_F(RateLimitHttp, EleventhRequestInAMinuteIs429WithHeaders) {
  for (int i = 0; i < 10; ++i) {
    auto r = get("10.0.0.1");
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.header("RateLimit-Limit"), "10");
    EXPECT_EQ(r.header("RateLimit-Remaining"), std::to_string(9 - i));
    EXPECT_EQ(r.header("RateLimit-Reset"), std::to_string(6 * (i + 1)));
    EXPECT_EQ(r.header("RateLimit-Policy"), "10;w=60");
  }
  auto r = get("10.0.0.1");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"detail":"Rate limit exceeded: 10 per 1 minute"})");
  EXPECT_EQ(r.header("Retry-After"), "6");
  EXPECT_EQ(r.header("RateLimit-Limit"), "10");
  EXPECT_EQ(r.header("RateLimit-Remaining"), "0");
  EXPECT_EQ(r.header("RateLimit-Reset"), "60");
  int limit_headers = 0;
  for (const auto& [k, v] : r.headers) limit_headers += http::iequals(k, "RateLimit-Limit") ? 1 : 0;
  EXPECT_EQ(limit_headers, 1);
  EXPECT_EQ(client.get("/free").header("RateLimit-Limit"), "");  // other routes are not limited
}

TEST_F(RateLimitHttp, RefillsAfterFakeTimePasses) {
  for (int i = 0; i < 10; ++i) ASSERT_EQ(get("10.0.0.2").status, 200);
  ASSERT_EQ(get("10.0.0.2").status, 429);
  clock.now += 3s;
  auto early = get("10.0.0.2");
  EXPECT_EQ(early.status, 429);
  EXPECT_EQ(early.header("Retry-After"), "3");
  clock.now += 3s;
  EXPECT_EQ(get("10.0.0.2").status, 200);
  EXPECT_EQ(get("10.0.0.2").status, 429);
  clock.now += 60s;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(get("10.0.0.2").status, 200) << i;
  EXPECT_EQ(get("10.0.0.2").status, 429);
}

TEST_F(RateLimitHttp, SeparateClientsAreIndependent) {
  for (int i = 0; i < 10; ++i) ASSERT_EQ(get("10.0.0.3").status, 200);
  EXPECT_EQ(get("10.0.0.3").status, 429);
  auto other = get("10.0.0.4");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.header("RateLimit-Remaining"), "9");
  // Behind one trusted proxy the client is the right-most entry: a spoofed left part changes nothing.
  EXPECT_EQ(get("1.2.3.4, 10.0.0.3").status, 429);
  EXPECT_EQ(get("10.0.0.3, 10.0.0.5").status, 200);
}

TEST_F(RateLimitHttp, OpenApiDocuments429) {
  auto doc = client.get("/openapi.json").json();
  auto& resp = doc.at("paths").at("/items").at("get").at("responses").at("429");
  EXPECT_EQ(resp.at("description"), "Rate limit exceeded: 10 per 1 minute");
  EXPECT_TRUE(resp.at("headers").as_object().contains("Retry-After"));
  EXPECT_TRUE(resp.at("headers").as_object().contains("RateLimit-Remaining"));
  EXPECT_FALSE(doc.at("paths").at("/free").at("get").at("responses").as_object().contains("429"));
  EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains("HTTPError"));
}

TEST(RateLimitKeys, ClientIpAndForwardedFor) {
  App app;
  Context ctx;
  http::Request req;
  req.remote_address = "192.0.2.7";
  req.headers.push_back({"X-Forwarded-For", "203.0.113.1, 198.51.100.2"});
  ctx.reset(&app, &req);
  EXPECT_EQ(RateLimit({}).key_for(req, ctx), "ip:192.0.2.7");  // forwarded headers ignored by default
  EXPECT_EQ(RateLimit({.trust_forwarded = true}).key_for(req, ctx), "ip:198.51.100.2");
  EXPECT_EQ(RateLimit({.trust_forwarded = true, .forwarded_hops = 2}).key_for(req, ctx), "ip:203.0.113.1");
  EXPECT_EQ(RateLimit({.trust_forwarded = true, .forwarded_hops = 5}).key_for(req, ctx), "ip:203.0.113.1");
  req.headers.push_back({"x-forwarded-for", "100.64.0.9"});  // a second header continues the list
  EXPECT_EQ(RateLimit({.trust_forwarded = true}).key_for(req, ctx), "ip:100.64.0.9");
}

TEST(RateLimitKeys, ApiKeyUserAndCustom) {
  App app;
  Context ctx;
  http::Request req;
  req.remote_address = "192.0.2.7";
  ctx.reset(&app, &req);
  RateLimit by_key({.key = KeyBy::kApiKey});
  RateLimit by_user({.key = KeyBy::kUser});
  EXPECT_EQ(by_key.key_for(req, ctx), "ip:192.0.2.7");  // no key: falls back to the client
  EXPECT_EQ(by_user.key_for(req, ctx), "ip:192.0.2.7");
  req.headers.push_back({"X-API-Key", "secret-key-value"});
  std::string k = by_key.key_for(req, ctx);
  EXPECT_TRUE(k.starts_with("key:")) << k;
  EXPECT_EQ(k.find("secret"), std::string::npos);  // a digest, never the key
  ctx.emplace<Principal>(Principal{.subject = "alice"});
  EXPECT_EQ(by_user.key_for(req, ctx), "user:alice");
  ctx.emplace<Principal>(Principal{.subject = std::string(500, 'x')});
  std::string long_key = by_user.key_for(req, ctx);
  EXPECT_TRUE(long_key.starts_with("h:"));
  EXPECT_LE(long_key.size(), 128u);
  RateLimit custom({.key = [](const http::Request& r, const Context&) { return std::string(r.header("x-tenant")); }});
  EXPECT_EQ(custom.key_for(req, ctx), "");  // empty: exempt
  req.headers.push_back({"X-Tenant", "acme"});
  EXPECT_EQ(custom.key_for(req, ctx), "acme");
  ctx.reset(nullptr, nullptr);
}

TEST(RateLimitKeys, ByUserAfterBearerAuth) {
  FakeClock clock;
  BearerAuth bearer{JwtVerifier::hs256(test::kSecret)};
  App app;
  app.get("/gen", [] { return 1; },
          {.middleware = {bearer.require(), std::make_shared<RateLimit>(RateLimitOptions{
                                                .limit = "2/minute", .key = KeyBy::kUser, .clock = clock.fn()})}});
  TestClient client{app};
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() + 600;
  auto token = [&](const char* sub) {
    return TestClient::Headers{{"Authorization", "Bearer " + JwtSigner::hs256(test::kSecret).sign({{"sub", sub}, {"exp", exp}})}};
  };
  EXPECT_EQ(client.get("/gen", token("u1")).status, 200);
  EXPECT_EQ(client.get("/gen", token("u1")).status, 200);
  EXPECT_EQ(client.get("/gen", token("u1")).status, 429);
  EXPECT_EQ(client.get("/gen", token("u2")).status, 200);
  EXPECT_EQ(client.get("/gen").status, 401);  // auth runs first; no bucket is spent
}

TEST(RateLimitHeaders, MostRestrictiveOfTwoLimitsWins) {
  FakeClock clock;
  auto store = std::make_shared<MemoryRateLimitStore>(MemoryRateLimitStoreOptions{.clock = clock.fn()});
  App app;
  app.use(std::make_shared<RateLimit>(RateLimitOptions{.limit = "100/minute", .store = store}));
  app.get("/tight", [] { return 1; },
          {.middleware = {std::make_shared<RateLimit>(RateLimitOptions{.limit = "3/minute", .store = store})}});
  app.get("/loose", [] { return 1; });
  TestClient client{app};
  auto r = client.get("/tight");
  EXPECT_EQ(r.header("RateLimit-Limit"), "3");
  EXPECT_EQ(r.header("RateLimit-Remaining"), "2");
  int count = 0;
  for (const auto& [k, v] : r.headers) count += http::iequals(k, "RateLimit-Remaining") ? 1 : 0;
  EXPECT_EQ(count, 1);
  auto loose = client.get("/loose");
  EXPECT_EQ(loose.header("RateLimit-Limit"), "100");
  EXPECT_EQ(loose.header("RateLimit-Remaining"), "98");  // the global bucket is shared by both routes
  EXPECT_EQ(client.get("/nowhere").header("RateLimit-Limit"), "100");  // 404s count too (global step)
  client.get("/tight");
  client.get("/tight");
  EXPECT_EQ(client.get("/tight").status, 429);
}

struct BrokenStore : RateLimitStore {
  RateLimitDecision acquire(std::string_view, const Rate&) override { throw std::runtime_error("redis down"); }
};

TEST(RateLimitStoreFailure, FailOpenOrClosed) {
  App app;
  app.get("/open", [] { return 1; },
          {.middleware = {std::make_shared<RateLimit>(RateLimitOptions{.store = std::make_shared<BrokenStore>()})}});
  app.get("/closed", [] { return 1; },
          {.middleware = {std::make_shared<RateLimit>(
               RateLimitOptions{.store = std::make_shared<BrokenStore>(), .fail_open = false})}});
  TestClient client{app};
  EXPECT_EQ(client.get("/open").status, 200);
  auto r = client.get("/closed");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("Retry-After"), "1");
}

}  // namespace
}  // namespace serval
