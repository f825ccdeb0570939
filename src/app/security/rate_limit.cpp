#include "serval/app/security/rate_limit.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <list>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "app/security/auth_common.hpp"
#include "serval/app/security/principal.hpp"
#include "serval/observe/log.hpp"

namespace serval {

namespace json = boost::json;

// --- Rate ----------------------------------------------------------------------------------------

namespace {

constexpr std::uint64_t kMaxLimit = 1'000'000'000;
constexpr std::int64_t kMaxPeriodSeconds = 366LL * 86400;
constexpr std::size_t kMaxKeyBytes = 128;   // longer keys are stored as their digest
constexpr std::size_t kMaxAddressBytes = 64;

[[noreturn]] void bad_rate(std::string_view text, std::string_view why) {
  throw std::invalid_argument("invalid rate limit \"" + std::string(text) + "\": " + std::string(why) +
                              " (expected e.g. \"10/minute\", \"100 per hour\", \"20/5 minutes\")");
}

std::int64_t unit_seconds(std::string_view unit) {
  std::string u(unit);
  for (char& c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u == "s" || u == "sec" || u == "secs" || u == "second" || u == "seconds") return 1;
  if (u == "m" || u == "min" || u == "mins" || u == "minute" || u == "minutes") return 60;
  if (u == "h" || u == "hr" || u == "hrs" || u == "hour" || u == "hours") return 3600;
  if (u == "d" || u == "day" || u == "days") return 86400;
  return 0;
}

}  // namespace

Rate Rate::parse(std::string_view text) {
  std::string_view s = text;
  auto skip_space = [&s] {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  };
  auto number = [&s](std::uint64_t& out) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (r.ec != std::errc()) return false;
    s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
    return true;
  };
  skip_space();
  Rate rate;
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())) || !number(rate.limit))
    bad_rate(text, "it must start with a request count");
  if (rate.limit == 0 || rate.limit > kMaxLimit) bad_rate(text, "the count must be between 1 and 1000000000");
  skip_space();
  if (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
  } else if (s.size() >= 3 && http::iequals(s.substr(0, 3), "per")) {
    s.remove_prefix(3);
  } else {
    bad_rate(text, "expected '/' or 'per' after the count");
  }
  skip_space();
  std::uint64_t multiplier = 1;
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) {
    if (!number(multiplier) || multiplier == 0 || multiplier > 1'000'000) bad_rate(text, "bad period multiplier");
    skip_space();
  }
  std::size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  std::int64_t unit = unit_seconds(s.substr(0, n));
  if (unit == 0) bad_rate(text, "the period must be second, minute, hour or day");
  s.remove_prefix(n);
  skip_space();
  if (!s.empty()) bad_rate(text, "unexpected text after the period");
  std::int64_t period = static_cast<std::int64_t>(multiplier) * unit;
  if (period > kMaxPeriodSeconds) bad_rate(text, "the period must be at most 366 days");
  rate.period = std::chrono::seconds(period);
  return rate;
}

std::string Rate::to_string() const {
  std::int64_t p = period.count();
  std::int64_t unit = p % 86400 == 0 ? 86400 : p % 3600 == 0 ? 3600 : p % 60 == 0 ? 60 : 1;
  std::string_view name = unit == 86400 ? "day" : unit == 3600 ? "hour" : unit == 60 ? "minute" : "second";
  std::int64_t n = p / unit;
  std::string out = std::to_string(limit) + " per " + std::to_string(n) + " " + std::string(name);
  if (n != 1) out += 's';
  return out;
}

// --- MemoryRateLimitStore -----------------------------------------------------------------------
//
// GCRA, the token bucket kept as one number: the bucket's "theoretical arrival time" (tat). Each
// request advances it by the emission interval T = period / limit; a request is allowed while
// tat - now stays within the window limit * T. tat <= now means the bucket is full, which is the
// same as not being stored at all: such entries are dropped first and lose nothing.

namespace {
struct Bucket {
  std::string key;
  std::int64_t tat_ns = 0;
};
}  // namespace

struct MemoryRateLimitStore::Shard {
  std::mutex mu;
  std::list<Bucket> lru;  // front: most recently used
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;  // views into lru's keys
  std::size_t evictions = 0;
};

MemoryRateLimitStore::MemoryRateLimitStore(MemoryRateLimitStoreOptions options) : clock_(std::move(options.clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
  std::size_t max_keys = std::max<std::size_t>(options.max_keys, 1);
  shard_count_ = std::clamp<std::size_t>(options.shards, 1, max_keys);
  shard_capacity_ = std::max<std::size_t>(max_keys / shard_count_, 1);
  shards_ = std::make_unique<Shard[]>(shard_count_);
}

MemoryRateLimitStore::~MemoryRateLimitStore() = default;

RateLimitDecision MemoryRateLimitStore::acquire(std::string_view key, const Rate& rate) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_().time_since_epoch()).count();
  const std::int64_t period_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rate.period).count();
  const auto limit = static_cast<std::int64_t>(std::max<std::uint64_t>(rate.limit, 1));
  // Rounding T up keeps the burst at exactly `limit`; the rate is then at most 1 ns/request slower.
  const std::int64_t interval = std::max<std::int64_t>((period_ns + limit - 1) / limit, 1);
  const std::int64_t window = interval * limit;

  RateLimitDecision d;
  d.limit = rate.limit;
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % shard_count_];
  std::lock_guard lock(shard.mu);
  auto found = shard.index.find(key);
  std::int64_t tat = now;
  if (found != shard.index.end()) {
    tat = std::max(found->second->tat_ns, now);
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  }
  const std::int64_t next = tat + interval;
  if (next - now > window) {
    d.allowed = false;
    d.remaining = 0;
    d.retry_after = std::chrono::nanoseconds(next - window - now);
    d.reset = std::chrono::nanoseconds(tat - now);
    return d;
  }
  d.allowed = true;
  d.remaining = static_cast<std::uint64_t>((window - (next - now)) / interval);
  d.reset = std::chrono::nanoseconds(next - now);
  if (found != shard.index.end()) {
    found->second->tat_ns = next;
    return d;
  }
  // A new bucket. Drop full buckets from the idle end first (free), then, at capacity, the least
  // recently used one (its caller starts afresh: lenient, but memory stays bounded).
  for (int i = 0; i < 4 && !shard.lru.empty() && shard.lru.back().tat_ns <= now; ++i) {
    shard.index.erase(shard.lru.back().key);
    shard.lru.pop_back();
  }
  if (shard.index.size() >= shard_capacity_) {
    shard.index.erase(shard.lru.back().key);
    shard.lru.pop_back();
    ++shard.evictions;
  }
  shard.lru.push_front(Bucket{std::string(key), next});
  shard.index.emplace(shard.lru.front().key, shard.lru.begin());
  return d;
}

std::size_t MemoryRateLimitStore::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].index.size();
  }
  return n;
}

std::size_t MemoryRateLimitStore::evictions() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].evictions;
  }
  return n;
}

// --- RateLimit middleware -----------------------------------------------------------------------

namespace {

// The most restrictive limit a request met, for the RateLimit-* headers of its response.
struct RateLimitNote {
  std::uint64_t limit = 0;
  std::uint64_t remaining = 0;
  std::int64_t reset_s = 0;
  std::string policy;
};

std::int64_t ceil_seconds(std::chrono::nanoseconds d) {
  return (d.count() + 999'999'999) / 1'000'000'000;
}

void add_headers(http::Response& r, std::uint64_t limit, std::uint64_t remaining, std::int64_t reset_s,
                 const std::string& policy) {
  r.headers.emplace_back("RateLimit-Limit", std::to_string(limit));
  r.headers.emplace_back("RateLimit-Remaining", std::to_string(remaining));
  r.headers.emplace_back("RateLimit-Reset", std::to_string(reset_s));
  r.headers.emplace_back("RateLimit-Policy", policy);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string bounded(std::string_view s, std::size_t max) { return std::string(s.substr(0, max)); }

std::atomic<unsigned> g_default_scopes{0};

}  // namespace

RateLimit::RateLimit(RateLimitOptions options) : options_(std::move(options)), rate_(Rate::parse(options_.limit)) {
  if (!options_.store)
    options_.store = std::make_shared<MemoryRateLimitStore>(
        MemoryRateLimitStoreOptions{.max_keys = options_.max_keys, .clock = options_.clock});
  if (options_.forwarded_hops == 0) options_.forwarded_hops = 1;
  std::string scope = options_.scope;
  if (scope.empty()) scope = "rl" + std::to_string(g_default_scopes.fetch_add(1, std::memory_order_relaxed));
  prefix_ = scope + "|";
  message_ = "Rate limit exceeded: " + rate_.to_string();
  policy_ = std::to_string(rate_.limit) + ";w=" + std::to_string(rate_.period.count());
}

std::string RateLimit::client_ip(const http::Request& req) const {
  if (options_.trust_forwarded) {
    // All X-Forwarded-For entries in order; proxies append, so the trustworthy ones are on the right.
    std::vector<std::string_view> hops;
    for (const auto& h : req.headers) {
      if (!http::iequals(h.name, "x-forwarded-for")) continue;
      std::string_view v = h.value;
      while (!v.empty()) {
        std::size_t comma = v.find(',');
        std::string_view item = trim(v.substr(0, comma));
        if (!item.empty()) hops.push_back(item);
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      }
    }
    if (!hops.empty()) {
      std::size_t i = hops.size() >= options_.forwarded_hops ? hops.size() - options_.forwarded_hops : 0;
      return bounded(hops[i], kMaxAddressBytes);
    }
  }
  return bounded(req.remote_address, kMaxAddressBytes);
}

std::string RateLimit::key_for(const http::Request& req, const Context& ctx) const {
  std::string key;
  if (const auto* fn = std::get_if<RateLimitKeyFn>(&options_.key)) {
    key = (*fn)(req, ctx);
    if (key.empty()) return key;
  } else {
    switch (std::get<KeyBy>(options_.key)) {
      case KeyBy::kClientIp:
        break;
      case KeyBy::kApiKey:
        // A digest: the raw key must not sit in memory dumps or in a shared store.
        if (std::string_view k = req.header(options_.api_key_header); !k.empty())
          key = "key:" + security_detail::sha256_hex(k).substr(0, 32);
        break;
      case KeyBy::kUser:
        if (const Principal* p = ctx.find<Principal>(); p != nullptr && !p->subject.empty()) key = "user:" + p->subject;
        break;
    }
    if (key.empty()) key = "ip:" + client_ip(req);
  }
  if (key.size() > kMaxKeyBytes) key = "h:" + security_detail::sha256_hex(key);
  return key;
}

std::optional<http::Response> RateLimit::before(http::Request& req, Context& ctx) {
  std::string key = key_for(req, ctx);
  if (key.empty()) return std::nullopt;
  key.insert(0, prefix_);
  RateLimitDecision d;
  try {
    d = options_.store->acquire(key, rate_);
  } catch (const std::exception& e) {
    log::warning("rate limit: store failed: ", e.what(), options_.fail_open ? " (request let through)" : "");
    if (options_.fail_open) return std::nullopt;
    return http::Response::error(503, "Rate limiter unavailable").with_header("Retry-After", "1");
  }
  std::int64_t reset_s = ceil_seconds(d.reset);
  if (!d.allowed) {
    http::Response r = http::Response::error(429, message_);
    r.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(ceil_seconds(d.retry_after), 1)));
    add_headers(r, d.limit, 0, reset_s, policy_);
    return r;
  }
  if (options_.headers) {
    RateLimitNote* note = ctx.find<RateLimitNote>();
    if (note == nullptr || d.remaining < note->remaining ||
        (d.remaining == note->remaining && reset_s > note->reset_s))
      ctx.emplace<RateLimitNote>(RateLimitNote{d.limit, d.remaining, reset_s, policy_});
  }
  return std::nullopt;
}

void RateLimit::after(const http::Request&, Context& ctx, http::Response& response) {
  if (!options_.headers || !response.header("RateLimit-Limit").empty()) return;
  if (const RateLimitNote* note = ctx.find<RateLimitNote>())
    add_headers(response, note->limit, note->remaining, note->reset_s, note->policy);
}

void RateLimit::describe(json::object& operation, json::object&) const {
  json::value& responses = operation["responses"];
  if (!responses.is_object()) responses = json::object{};
  if (responses.as_object().contains("429")) return;
  auto integer_header = [](std::string_view description) {
    return json::object{{"description", description}, {"schema", json::object{{"type", "integer"}}}};
  };
  responses.as_object()["429"] = json::object{
      {"description", message_},
      {"headers",
       json::object{{"Retry-After", integer_header("Seconds until a request is allowed again")},
                    {"RateLimit-Limit", integer_header("Requests allowed in a burst")},
                    {"RateLimit-Remaining", integer_header("Requests left right now")},
                    {"RateLimit-Reset", integer_header("Seconds until the full quota is back")}}},
      {"content", json::object{{"application/json",
                                json::object{{"schema", json::object{{"$ref", "#/components/schemas/HTTPError"}}}}}}}};
}

}  // namespace serval
