#include "serval/app/middleware/request_id.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>

#include "app/middleware/header_util.hpp"

namespace serval {

namespace {

constexpr std::size_t kMaxIncomingLength = 128;

constexpr std::array<bool, 256> make_id_chars() {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  table['.'] = table['_'] = table['-'] = true;
  return table;
}
constexpr std::array<bool, 256> kIdChars = make_id_chars();

// SplitMix64 (Steele, Lea, Flood 2014): a counter through a strong mixer. Ids need to be unique,
// not secret; one 64-bit add and a few multiplies per half.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

std::uint64_t seed() noexcept {
  std::uint64_t s = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  s ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) * 0x9e3779b97f4a7c15ULL;
  try {
    std::random_device rd;  // once per thread
    s ^= (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  } catch (...) {
    // No entropy source: time and thread id still keep threads and restarts apart.
  }
  return s;
}

SplitMix64& generator() noexcept {
  thread_local SplitMix64 g{seed()};
  return g;
}

void put_hex(char* out, std::uint64_t v) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[v & 15];
    v >>= 4;
  }
}

}  // namespace

RequestId::RequestId(RequestIdOptions options) : options_(std::move(options)) {}

bool RequestId::valid(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIncomingLength) return false;
  for (unsigned char c : id)
    if (!kIdChars[c]) return false;
  return true;
}

std::string RequestId::generate() {
  auto& g = generator();
  std::string id(32, '0');
  put_hex(id.data(), g.next());
  put_hex(id.data() + 16, g.next());
  return id;
}

std::optional<http::Response> RequestId::before(http::Request& request, Context& ctx) {
  std::string_view incoming = options_.trust_incoming ? request.header(options_.header) : std::string_view{};
  ctx.set_request_id(valid(incoming) ? std::string(incoming) : generate());
  return std::nullopt;
}

void RequestId::after(const http::Request&, Context& ctx, http::Response& response) {
  if (ctx.request_id().empty()) return;
  detail::set_header(response.headers, options_.header, std::string(ctx.request_id()));
}

}  // namespace serval
