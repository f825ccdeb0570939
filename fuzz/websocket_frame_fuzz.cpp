// libFuzzer target for the WebSocket frame codec (http/websocket_frame.hpp).
//
// Input: one flags byte, then a stream of frames. Flags: bit 0 parses as a server (client frames
// must be masked), bit 1 allows RSV1 (permessage-deflate), bits 2-7 seed the sizes of the pieces
// the stream is delivered in. The stream is parsed twice — whole, and piece by piece with the buffer
// moved to a new allocation before every call (a stale view is a use after free under ASan) — and
// the two runs must agree exactly. Every frame must re-serialise to exactly the bytes it came from
// (the parser accepts only minimal length encodings), text messages are checked to be UTF-8 both
// incrementally and whole, compressed messages are inflated under a small bound, close payloads are
// validated. Broken invariants end in __builtin_trap().
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.hpp"
#include "serval/http/websocket_frame.hpp"

namespace {

using serval::fuzz::check;
using serval::fuzz::Pieces;

namespace ws = serval::http::websocket;

constexpr std::uint64_t kMaxMessage = 4096;  // small, so the fuzzer reaches the limit checks

// Message-level state: what an endpoint does with the frames the parser hands out.
struct Endpoint {
  explicit Endpoint(bool deflate) : inflater(deflate ? std::make_unique<ws::Inflater>(false) : nullptr) {}
  std::unique_ptr<ws::Inflater> inflater;
  std::string message;
  bool binary = false;
  bool compressed = false;
  bool failed = false;  // the message was rejected (too big, bad data, not UTF-8): skip to the next
  ws::Utf8Validator utf8;
};

void append_number(std::string& out, std::uint64_t v) {
  out += std::to_string(v);
  out += ',';
}

void on_frame(const ws::FrameParser& p, std::string_view frame_bytes, Endpoint& ep, std::string& digest) {
  const ws::Frame& f = p.frame();
  const std::uint64_t limit = p.limits().max_message_size;
  // Views inside the frame, sizes within the limits, and a canonical encoding.
  check(f.payload.data() >= frame_bytes.data() &&
        f.payload.data() + f.payload.size() == frame_bytes.data() + frame_bytes.size());
  check(f.masked == p.limits().expect_masked);
  std::string payload;
  ws::append_unmasked(payload, f.payload, f.mask, f.masked);
  std::string again;
  ws::append_frame(again, f.opcode, payload, f.fin, f.rsv1, f.masked ? &f.mask : nullptr);
  check(again == frame_bytes);
  check(again.size() == ws::frame_header_size(payload.size(), f.masked) + payload.size());

  digest += static_cast<char>('A' + static_cast<int>(f.opcode));
  digest += f.fin ? 'F' : '-';
  digest += f.rsv1 ? 'R' : '-';
  append_number(digest, payload.size());

  if (ws::is_control(f.opcode)) {
    check(f.fin && !f.rsv1 && payload.size() <= ws::kMaxControlPayload);
    if (f.opcode == ws::Opcode::kClose) {
      ws::ClosePayload close;
      const int err = ws::parse_close_payload(payload, close);
      check(err == 0 || err == ws::kCloseProtocolError || err == ws::kCloseInvalidPayload);
      if (err == 0) {
        check(close.code == ws::kCloseNoStatus || ws::is_valid_close_code(close.code));
        check(ws::is_valid_utf8(close.reason));
        // Re-serialised, the close frame parses back to the same code and reason.
        std::string reframed;
        ws::append_close_frame(reframed, close.code, close.reason);
        ws::FrameParser back({.expect_masked = false});
        check(back.parse(reframed) == ws::FrameStatus::kFrame);
        ws::ClosePayload round;
        check(ws::parse_close_payload(back.frame().payload, round) == 0);
        check(round.code == close.code && round.reason == close.reason);
      }
      append_number(digest, static_cast<std::uint64_t>(err == 0 ? close.code : -err));
    }
    return;
  }

  check(payload.size() <= limit);
  if (f.opcode != ws::Opcode::kContinuation) {
    ep.message.clear();
    ep.binary = f.opcode == ws::Opcode::kBinary;
    ep.compressed = f.rsv1;
    ep.failed = false;
    ep.utf8.reset();
  } else {
    check(!f.rsv1);
  }
  if (ep.failed) return;
  const std::size_t before = ep.message.size();
  if (ep.compressed) {
    check(ep.inflater != nullptr);  // RSV1 only when allowed
    auto r = ep.inflater->inflate(payload, ep.message, kMaxMessage);
    if (r == ws::Inflater::Result::kOk && f.fin) r = ep.inflater->finish(ep.message, kMaxMessage);
    check(ep.message.size() <= kMaxMessage + 1);
    if (r != ws::Inflater::Result::kOk) {
      digest += r == ws::Inflater::Result::kTooBig ? "big;" : "bad;";
      // The stream is now out of step: start over, as an endpoint that failed the message would not go on.
      ep.inflater = std::make_unique<ws::Inflater>(false);
      ep.failed = true;
      return;
    }
  } else {
    ep.message += payload;
  }
  if (!ep.binary) {
    const bool ok = ep.utf8.feed(std::string_view(ep.message).substr(before));
    if (!ok) {
      check(!ws::is_valid_utf8(ep.message));
      digest += "utf8;";
      ep.failed = true;
      return;
    }
  }
  if (!f.fin) return;
  if (!ep.binary) check(ep.utf8.complete() == ws::is_valid_utf8(ep.message));
  digest += "msg:";
  append_number(digest, ep.message.size());
  digest += ep.message.substr(0, 16);
  digest += ';';
}

struct Outcome {
  std::string digest;
  int error_code = 0;
  std::string error_reason;
  bool operator==(const Outcome&) const = default;
};

Outcome run(const std::uint8_t* data, std::size_t size, bool server, bool deflate, Pieces* pieces) {
  ws::FrameParser parser({.expect_masked = server, .allow_rsv1 = deflate, .max_message_size = kMaxMessage});
  Endpoint ep(deflate);
  Outcome out;
  std::vector<char> buf;
  std::size_t fed = 0;
  for (;;) {
    const std::size_t want = pieces != nullptr ? pieces->next() : size;
    const std::size_t n = want < size - fed ? want : size - fed;
    std::vector<char> grown;
    grown.reserve(buf.size() + n);
    grown.insert(grown.end(), buf.begin(), buf.end());
    grown.insert(grown.end(), data + fed, data + fed + n);
    buf.swap(grown);
    fed += n;

    for (;;) {
      const std::string_view avail(buf.data(), buf.size());
      const ws::FrameStatus st = parser.parse(avail);
      if (st == ws::FrameStatus::kNeedMore) break;
      if (st == ws::FrameStatus::kError) {
        const int code = parser.error_code();
        check(code == ws::kCloseProtocolError || code == ws::kCloseMessageTooBig);
        check(!parser.error_reason().empty());
        check(parser.error_frame_size() == 0 || parser.error_frame_size() >= 2);
        check(parser.parse(avail) == ws::FrameStatus::kError);  // sticky
        out.error_code = code;
        out.error_reason = std::string(parser.error_reason());
        return out;
      }
      const std::size_t consumed = parser.consumed();
      check(consumed >= 2 && consumed <= avail.size());
      on_frame(parser, avail.substr(0, consumed), ep, out.digest);
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(consumed));
    }
    if (fed == size) return out;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  ++data;
  --size;
  const bool server = (flags & 1) != 0;
  const bool deflate = (flags & 2) != 0;
  const Outcome whole = run(data, size, server, deflate, nullptr);
  Pieces pieces{0x9e3779b9u ^ (static_cast<std::uint32_t>(flags) * 0x01000193u), 1u + (flags >> 2)};
  const Outcome split = run(data, size, server, deflate, &pieces);
  check(whole == split);
  return 0;
}
