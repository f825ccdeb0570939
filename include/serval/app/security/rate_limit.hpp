// RateLimit: caps how often one caller may call, per client IP, API key, user, or any key you
// compute (slowapi's @limiter.limit("10/minute") for FastAPI). Over the limit the answer is
// 429 {"detail":"Rate limit exceeded: 10 per 1 minute"} with Retry-After; every answer carries the
// IETF draft's RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (and RateLimit-Policy).
//
//   app.use(std::make_shared<serval::RateLimit>(serval::RateLimitOptions{.limit = "100/minute"}));
//   app.post("/generate", handler, {.middleware = {bearer.require(),
//       std::make_shared<serval::RateLimit>(serval::RateLimitOptions{.limit = "10/minute", .key = serval::KeyBy::kUser})}});
//
// Each key has a token bucket (GCRA): `limit` requests at once, refilled continuously at
// limit/period, so "10/minute" allows a burst of 10 and then one every 6 s. Buckets live in a
// RateLimitStore; the default in-memory store is sharded (one mutex per shard, so event loops
// rarely contend) and holds at most `max_keys` buckets, dropping full (idle) buckets first, then the
// least recently used ones. A shared store (Redis) implements the same interface.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "serval/app/middleware.hpp"

namespace serval {

// A rate: `limit` requests per `period`.
struct Rate {
  std::uint64_t limit = 0;
  std::chrono::seconds period{0};

  // "10/minute", "100/hour", "5/second", "1000/day", "10 per minute", "20/5 minutes", "3/s".
  // Throws std::invalid_argument naming the problem on anything else.
  static Rate parse(std::string_view text);
  // "10 per 1 minute", "20 per 5 minutes".
  std::string to_string() const;
  bool operator==(const Rate&) const = default;
};

// What one acquisition found.
struct RateLimitDecision {
  bool allowed = true;
  std::uint64_t limit = 0;
  std::uint64_t remaining = 0;                  // requests allowed right now after this one
  std::chrono::nanoseconds reset{0};            // until the bucket is full again
  std::chrono::nanoseconds retry_after{0};      // when refused: until one request is allowed
};

// Where buckets live. acquire() must be thread-safe; it is called on the event loops, so it
// must not block for long (a networked store needs a local budget or an async middleware).
class RateLimitStore {
 public:
  virtual ~RateLimitStore() = default;
  // Takes one request from the bucket `key` (created full) under `rate`.
  virtual RateLimitDecision acquire(std::string_view key, const Rate& rate) = 0;
};

using RateLimitClock = std::function<std::chrono::steady_clock::time_point()>;

struct MemoryRateLimitStoreOptions {
  std::size_t max_keys = 100'000;  // buckets held at most (about 150 bytes each plus the key)
  std::size_t shards = 16;         // independent maps, each with its own mutex
  RateLimitClock clock;            // default: steady_clock::now (tests inject a fake one)
};

class MemoryRateLimitStore : public RateLimitStore {
 public:
  explicit MemoryRateLimitStore(MemoryRateLimitStoreOptions options = {});
  ~MemoryRateLimitStore() override;

  RateLimitDecision acquire(std::string_view key, const Rate& rate) override;

  std::size_t size() const;           // buckets held now
  std::size_t evictions() const;      // buckets dropped while not yet full (their callers got a fresh one)
  std::size_t max_keys() const noexcept { return shard_capacity_ * shard_count_; }

 private:
  struct Shard;
  std::unique_ptr<Shard[]> shards_;
  std::size_t shard_count_ = 0;
  std::size_t shard_capacity_ = 0;
  RateLimitClock clock_;
};

enum class KeyBy {
  kClientIp,  // the peer address (or X-Forwarded-For with trust_forwarded)
  kApiKey,    // a digest of the api_key_header's value; no key: the client IP
  kUser,      // Principal::subject (put the auth step first); anonymous: the client IP
};

// A custom key; an empty string exempts the request from this limit.
using RateLimitKeyFn = std::function<std::string(const http::Request&, const Context&)>;

struct RateLimitOptions {
  std::string limit = "60/minute";
  std::variant<KeyBy, RateLimitKeyFn> key = KeyBy::kClientIp;
  // Behind a reverse proxy: take the client from X-Forwarded-For, `forwarded_hops` entries from
  // its right end (1: the address your one proxy saw). Never set it when clients reach serval
  // directly: they could then pick their own key.
  bool trust_forwarded = false;
  std::size_t forwarded_hops = 1;
  std::string api_key_header = "X-API-Key";
  // Namespace of this limit's buckets in the store. Default: "rl<N>", N counting the RateLimits
  // made in this process; name it when a store is shared across processes.
  std::string scope;
  std::shared_ptr<RateLimitStore> store;  // default: a MemoryRateLimitStore of its own, built with:
  std::size_t max_keys = 100'000;
  RateLimitClock clock;
  bool headers = true;     // RateLimit-* on every response, not only on 429s
  bool fail_open = true;   // when the store throws: let the request through (logged) rather than 503
};

class RateLimit : public Middleware {
 public:
  // Throws std::invalid_argument on a bad `limit`.
  explicit RateLimit(RateLimitOptions options);

  std::optional<http::Response> before(http::Request& request, Context& ctx) override;
  void after(const http::Request& request, Context& ctx, http::Response& response) override;
  // Adds the 429 response (with its headers) to the operations it guards.
  void describe(boost::json::object& operation, boost::json::object& components) const override;

  const Rate& rate() const noexcept { return rate_; }
  const std::shared_ptr<RateLimitStore>& store() const noexcept { return options_.store; }
  // The bucket key for a request (before the scope prefix); empty: not limited.
  std::string key_for(const http::Request& request, const Context& ctx) const;

 private:
  std::string client_ip(const http::Request& request) const;

  RateLimitOptions options_;
  Rate rate_;
  std::string prefix_;   // scope + '|'
  std::string message_;  // "Rate limit exceeded: 10 per 1 minute"
  std::string policy_;   // "10;w=60"
};

}  // namespace serval
