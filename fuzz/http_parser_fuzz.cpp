// libFuzzer target for RequestParser.
//
// The input after its first byte is a stream of pipelined requests; the first byte seeds the sizes
// of the pieces it is delivered in. The stream is parsed twice, once whole and once piece by piece
// (copying the buffer to a new allocation before every call, so a stale pointer is a use after
// free under ASan), and the two runs must agree exactly: the parser's verdict must not depend on
// how the bytes were split. Broken invariants end in __builtin_trap().
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.hpp"
#include "serval/http/parser.hpp"

namespace {

using serval::fuzz::check;
using serval::fuzz::Pieces;

using serval::http::ParserLimits;
using serval::http::ParseStatus;
using serval::http::Request;
using serval::http::RequestParser;

// Small limits, so the fuzzer reaches every limit check with short inputs.
ParserLimits fuzz_limits() {
  ParserLimits l;
  l.max_request_line = 128;
  l.max_header_bytes = 512;
  l.max_headers = 8;
  l.max_body = 1024;
  return l;
}

void check_inside(std::string_view v, const std::vector<char>& buf) {
  if (v.empty()) return;
  const auto lo = reinterpret_cast<std::uintptr_t>(buf.data());
  const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
  check(begin >= lo && begin + v.size() <= lo + buf.size());
}

void check_views(const RequestParser& p, const std::vector<char>& buf) {
  const Request& r = p.request();
  check_inside(r.method_name, buf);
  check_inside(r.target, buf);
  check_inside(r.path, buf);
  check_inside(r.query, buf);
  check_inside(r.body, buf);
  for (const auto& h : r.headers) {
    check_inside(h.name, buf);
    check_inside(h.value, buf);
  }
  check(!r.method_name.empty() && !r.target.empty() && !r.path.empty());
}

// Everything observable about a completed request, flattened for comparison between runs.
void digest(const RequestParser& p, std::string& out) {
  const Request& r = p.request();
  const auto add = [&out](std::string_view s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
  };
  add(r.method_name);
  add(r.target);
  add(r.path);
  add(r.query);
  add(r.body);
  for (const auto& h : r.headers) {
    add(h.name);
    add(h.value);
  }
  out += std::to_string(r.version_minor);
  out += r.keep_alive ? 'K' : 'C';
  out += p.expects_continue() ? 'E' : '-';
  out += p.chunked() ? 'T' : '-';
  out += std::to_string(p.consumed());
  out += '\n';
}

struct Outcome {
  std::string requests;
  ParseStatus last = ParseStatus::kNeedMore;
  int error_status = 0;
  bool operator==(const Outcome&) const = default;
};

Outcome run(const std::uint8_t* data, std::size_t size, Pieces* pieces) {
  const ParserLimits limits = fuzz_limits();
  RequestParser parser(limits);
  Outcome out;
  std::vector<char> buf;
  std::size_t fed = 0;
  bool head_reported = false;
  for (;;) {
    const std::size_t want = pieces != nullptr ? pieces->next() : size;
    const std::size_t n = want < size - fed ? want : size - fed;
    // Grow into a fresh allocation and free the old one: the parser must keep offsets only.
    std::vector<char> grown;
    grown.reserve(buf.size() + n);
    grown.insert(grown.end(), buf.begin(), buf.end());
    grown.insert(grown.end(), data + fed, data + fed + n);
    buf.swap(grown);
    fed += n;

    for (;;) {
      const ParseStatus st = parser.parse({buf.data(), buf.size()});
      out.last = st;
      if (st == ParseStatus::kNeedMore) break;
      if (st == ParseStatus::kError) {
        const int s = parser.error_status();
        check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
        check(!parser.error_message().empty());
        check(parser.parse({buf.data(), buf.size()}) == ParseStatus::kError);  // sticky
        out.error_status = s;
        return out;
      }
      check_views(parser, buf);
      if (st == ParseStatus::kHeadComplete) {
        check(!head_reported && parser.has_body());
        check(parser.request().body.empty());
        head_reported = true;
        continue;
      }
      // kComplete
      const std::size_t consumed = parser.consumed();
      check(consumed > 0 && consumed <= buf.size());
      check(parser.request().body.size() <= limits.max_body);
      check(parser.has_body() || parser.request().body.empty());
      check(parser.chunked() || parser.request().body.size() == parser.content_length());
      digest(parser, out.requests);
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(consumed));
      parser.reset();
      head_reported = false;
    }
    if (fed == size) return out;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  ++data;
  --size;
  const Outcome whole = run(data, size, nullptr);
  // Low bits pick the largest piece (1..64 bytes); the seed also varies the sequence.
  Pieces pieces{0x9e3779b9u ^ (static_cast<std::uint32_t>(seed) * 0x01000193u), 1u + (seed & 63u)};
  const Outcome split = run(data, size, &pieces);
  check(whole == split);
  return 0;
}
