// The WebSocket frame codec: length encodings, masking, fragmentation, control-frame rules, limits,
// byte-at-a-time input, close payloads, UTF-8 and permessage-deflate (RFC 6455 and RFC 7692 examples).
#include "serval/http/websocket_frame.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace serval::http::websocket {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

std::string unmasked_payload(const FrameParser& p) {
  std::string out;
  append_unmasked(out, p.frame().payload, p.frame().mask, p.frame().masked);
  return out;
}

constexpr MaskKey kMask{0x37, 0xfa, 0x21, 0x3d};

FrameParser server_parser(std::uint64_t max = 1 << 20, bool deflate = false) {
  return FrameParser({.expect_masked = true, .allow_rsv1 = deflate, .max_message_size = max});
}
FrameParser client_parser(std::uint64_t max = 1 << 20) {
  return FrameParser({.expect_masked = false, .allow_rsv1 = false, .max_message_size = max});
}

std::string masked(Opcode op, std::string_view payload, bool fin = true, bool rsv1 = false) {
  std::string out;
  append_frame(out, op, payload, fin, rsv1, &kMask);
  return out;
}

// --- RFC 6455 §5.7 examples --------------------------------------------------------------------

TEST(WebSocketFrame, Rfc6455Examples) {
  // A single-frame masked text message "Hello".
  std::string hello_masked = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  EXPECT_EQ(masked(Opcode::kText, "Hello"), hello_masked);
  FrameParser p = server_parser();
  ASSERT_EQ(p.parse(hello_masked), FrameStatus::kFrame);
  EXPECT_EQ(p.consumed(), hello_masked.size());
  EXPECT_TRUE(p.frame().fin);
  EXPECT_EQ(p.frame().opcode, Opcode::kText);
  EXPECT_EQ(unmasked_payload(p), "Hello");

  // Unmasked server frames.
  std::string out;
  append_frame(out, Opcode::kText, "Hello");
  EXPECT_EQ(out, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  append_frame(out, Opcode::kText, "Hel", false);
  append_frame(out, Opcode::kContinuation, "lo");
  EXPECT_EQ(out, bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));
  out.clear();
  append_frame(out, Opcode::kPing, "Hello");
  EXPECT_EQ(out, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  append_frame(out, Opcode::kBinary, std::string(256, 'x'));
  EXPECT_EQ(out.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  out.clear();
  append_frame(out, Opcode::kBinary, std::string(65536, 'x'));
  EXPECT_EQ(out.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(WebSocketFrame, EveryLengthEncodingRoundTrips) {
  for (std::size_t len : {0u, 1u, 125u, 126u, 127u, 1000u, 65535u, 65536u, 100000u}) {
    std::string payload(len, '\0');
    for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(i * 7 + 3);
    std::string wire = masked(Opcode::kBinary, payload);
    EXPECT_EQ(wire.size(), frame_header_size(len, true) + len);
    std::size_t expect_header = len < 126 ? 6 : len <= 65535 ? 8 : 14;
    EXPECT_EQ(frame_header_size(len, true), expect_header) << len;
    FrameParser p = server_parser();
    ASSERT_EQ(p.parse(wire), FrameStatus::kFrame) << len;
    EXPECT_EQ(p.consumed(), wire.size());
    EXPECT_EQ(unmasked_payload(p), payload) << len;
    // One byte short is never a frame.
    FrameParser q = server_parser();
    EXPECT_EQ(q.parse(std::string_view(wire).substr(0, wire.size() - 1)), FrameStatus::kNeedMore) << len;

    std::string server;
    append_frame(server, Opcode::kBinary, payload);
    FrameParser c = client_parser();
    ASSERT_EQ(c.parse(server), FrameStatus::kFrame) << len;
    EXPECT_FALSE(c.frame().masked);
    EXPECT_EQ(c.frame().payload, payload);
  }
}

TEST(WebSocketFrame, NonMinimalAndHugeLengthsAreRejected) {
  FrameParser p = server_parser();
  // 16-bit length used for 5 bytes.
  EXPECT_EQ(p.parse(bytes({0x81, 0xFE, 0x00, 0x05})), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);
  // 64-bit length used for 200 bytes.
  p.reset();
  EXPECT_EQ(p.parse(bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 200})), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);
  // Most significant bit set.
  p.reset();
  EXPECT_EQ(p.parse(bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0})), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);
  // 2^62 bytes: refused as too big from the header alone, nothing buffered.
  p.reset();
  EXPECT_EQ(p.parse(bytes({0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseMessageTooBig);
  EXPECT_EQ(p.error_frame_size(), (std::uint64_t{1} << 62) + 14);
}

TEST(WebSocketFrame, MaskingIsCheckedPerSide) {
  std::string unmasked;
  append_frame(unmasked, Opcode::kText, "hi");
  FrameParser server = server_parser();
  EXPECT_EQ(server.parse(unmasked), FrameStatus::kError);
  EXPECT_EQ(server.error_code(), kCloseProtocolError);
  EXPECT_EQ(server.error_reason(), "client frames must be masked");
  EXPECT_EQ(server.error_frame_size(), unmasked.size());

  FrameParser client = client_parser();
  EXPECT_EQ(client.parse(masked(Opcode::kText, "hi")), FrameStatus::kError);
  EXPECT_EQ(client.error_code(), kCloseProtocolError);
}

TEST(WebSocketFrame, ApplyMaskMatchesTheDefinitionAtEveryOffset) {
  std::mt19937 rng(7);
  for (std::size_t n : {0u, 1u, 7u, 8u, 15u, 16u, 17u, 100u, 1031u}) {
    for (std::size_t offset = 0; offset < 4; ++offset) {
      std::string data(n, '\0');
      for (auto& c : data) c = static_cast<char>(rng());
      std::string expect = data;
      for (std::size_t i = 0; i < n; ++i) expect[i] = static_cast<char>(expect[i] ^ kMask[(offset + i) % 4]);
      apply_mask(data.data(), n, kMask, offset);
      EXPECT_EQ(data, expect) << n << " " << offset;
    }
  }
}

TEST(WebSocketFrame, ByteAtATimeInput) {
  std::string stream = masked(Opcode::kText, "Hel", false) + masked(Opcode::kPing, "p") +
                       masked(Opcode::kContinuation, "lo") + masked(Opcode::kBinary, std::string(300, 'b')) +
                       masked(Opcode::kBinary, std::string(70000, 'c')) + masked(Opcode::kClose, bytes({0x03, 0xE8}));
  FrameParser p = server_parser();
  std::size_t start = 0;
  std::vector<std::pair<Opcode, std::string>> got;
  for (std::size_t end = 1; end <= stream.size(); ++end) {
    std::string_view avail = std::string_view(stream).substr(start, end - start);
    FrameStatus st = p.parse(avail);
    ASSERT_NE(st, FrameStatus::kError) << p.error_reason();
    if (st == FrameStatus::kFrame) {
      EXPECT_EQ(p.consumed(), avail.size());  // complete exactly when its last byte arrives
      got.emplace_back(p.frame().opcode, unmasked_payload(p));
      start = end;
    }
  }
  EXPECT_EQ(start, stream.size());
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0], std::make_pair(Opcode::kText, std::string("Hel")));
  EXPECT_EQ(got[1], std::make_pair(Opcode::kPing, std::string("p")));
  EXPECT_EQ(got[2], std::make_pair(Opcode::kContinuation, std::string("lo")));
  EXPECT_EQ(got[3].second.size(), 300u);
  EXPECT_EQ(got[4].second.size(), 70000u);
  EXPECT_EQ(got[5].first, Opcode::kClose);
}

TEST(WebSocketFrame, FragmentationSequence) {
  FrameParser p = server_parser();
  // A continuation with nothing to continue.
  EXPECT_EQ(p.parse(masked(Opcode::kContinuation, "x")), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);

  p.reset();
  ASSERT_EQ(p.parse(masked(Opcode::kText, "a", false)), FrameStatus::kFrame);
  EXPECT_TRUE(p.in_message());
  // Control frames may come between fragments.
  ASSERT_EQ(p.parse(masked(Opcode::kPing, "")), FrameStatus::kFrame);
  EXPECT_TRUE(p.in_message());
  ASSERT_EQ(p.parse(masked(Opcode::kContinuation, "b", false)), FrameStatus::kFrame);
  // A new message before the last one finished.
  EXPECT_EQ(p.parse(masked(Opcode::kBinary, "c")), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);
  EXPECT_EQ(p.parse(masked(Opcode::kContinuation, "c")), FrameStatus::kError) << "errors are sticky";

  p.reset();
  ASSERT_EQ(p.parse(masked(Opcode::kText, "a", false)), FrameStatus::kFrame);
  ASSERT_EQ(p.parse(masked(Opcode::kContinuation, "b", true)), FrameStatus::kFrame);
  EXPECT_FALSE(p.in_message());
  ASSERT_EQ(p.parse(masked(Opcode::kText, "next")), FrameStatus::kFrame);
}

TEST(WebSocketFrame, ControlFrameRules) {
  FrameParser p = server_parser();
  EXPECT_EQ(p.parse(masked(Opcode::kPing, "x", false)), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);
  EXPECT_EQ(p.error_reason(), "fragmented control frame");

  p.reset();
  ASSERT_EQ(p.parse(masked(Opcode::kPing, std::string(125, 'p'))), FrameStatus::kFrame);
  EXPECT_EQ(p.parse(masked(Opcode::kPong, std::string(126, 'p'))), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);

  p.reset();
  EXPECT_EQ(p.parse(masked(Opcode::kClose, bytes({0x03, 0xE8}), true, true)), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseProtocolError);
}

TEST(WebSocketFrame, ReservedOpcodesAndBits) {
  for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    FrameParser p = server_parser();
    std::string f = masked(Opcode::kText, "x");
    f[0] = static_cast<char>(0x80 | op);
    EXPECT_EQ(p.parse(f), FrameStatus::kError) << op;
    EXPECT_EQ(p.error_code(), kCloseProtocolError);
  }
  for (int bit : {0x40, 0x20, 0x10}) {
    FrameParser p = server_parser();
    std::string f = masked(Opcode::kText, "x");
    f[0] = static_cast<char>(f[0] | bit);
    EXPECT_EQ(p.parse(f), FrameStatus::kError) << bit;
    EXPECT_EQ(p.error_code(), kCloseProtocolError);
  }
  // With permessage-deflate, RSV1 marks the first frame of a compressed message, and only that.
  FrameParser d = server_parser(1 << 20, true);
  ASSERT_EQ(d.parse(masked(Opcode::kText, "x", false, true)), FrameStatus::kFrame);
  EXPECT_TRUE(d.frame().rsv1);
  EXPECT_EQ(d.parse(masked(Opcode::kContinuation, "y", true, true)), FrameStatus::kError);
  EXPECT_EQ(d.error_code(), kCloseProtocolError);
  d.reset();
  std::string rsv2 = masked(Opcode::kText, "x");
  rsv2[0] = static_cast<char>(rsv2[0] | 0x20);
  EXPECT_EQ(d.parse(rsv2), FrameStatus::kError);
}

TEST(WebSocketFrame, MessageSizeLimit) {
  FrameParser p = server_parser(100);
  ASSERT_EQ(p.parse(masked(Opcode::kBinary, std::string(100, 'x'))), FrameStatus::kFrame);
  // One byte over: refused from the header alone.
  std::string over = masked(Opcode::kBinary, std::string(101, 'x'));
  EXPECT_EQ(p.parse(std::string_view(over).substr(0, 6)), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseMessageTooBig);
  EXPECT_EQ(p.error_frame_size(), over.size());

  // Over the limit across fragments.
  p.reset();
  ASSERT_EQ(p.parse(masked(Opcode::kText, std::string(60, 'a'), false)), FrameStatus::kFrame);
  ASSERT_EQ(p.parse(masked(Opcode::kContinuation, std::string(40, 'a'), false)), FrameStatus::kFrame);
  ASSERT_EQ(p.parse(masked(Opcode::kContinuation, "", false)), FrameStatus::kFrame);
  EXPECT_EQ(p.parse(masked(Opcode::kContinuation, "a")), FrameStatus::kError);
  EXPECT_EQ(p.error_code(), kCloseMessageTooBig);

  // Control frames do not count toward the message.
  p.reset();
  ASSERT_EQ(p.parse(masked(Opcode::kText, std::string(100, 'a'), false)), FrameStatus::kFrame);
  ASSERT_EQ(p.parse(masked(Opcode::kPing, std::string(100, 'p'))), FrameStatus::kFrame);
  ASSERT_EQ(p.parse(masked(Opcode::kContinuation, "")), FrameStatus::kFrame);
}

TEST(WebSocketFrame, ClosePayloads) {
  ClosePayload c;
  EXPECT_EQ(parse_close_payload("", c), 0);
  EXPECT_EQ(c.code, kCloseNoStatus);
  EXPECT_EQ(parse_close_payload(bytes({0x03}), c), kCloseProtocolError);
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    std::string p = bytes({code >> 8, code & 0xFF});
    EXPECT_EQ(parse_close_payload(p, c), kCloseProtocolError) << code;
  }
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    std::string p = bytes({code >> 8, code & 0xFF}) + "bye";
    ASSERT_EQ(parse_close_payload(p, c), 0) << code;
    EXPECT_EQ(c.code, code);
    EXPECT_EQ(c.reason, "bye");
  }
  EXPECT_EQ(parse_close_payload(bytes({0x03, 0xE8, 0xC0, 0x80}), c), kCloseInvalidPayload);

  // Serialising: the reason is cut to 123 bytes without splitting a UTF-8 sequence; 1005 is empty.
  std::string out;
  std::string reason(121, 'r');
  reason += "\xC3\xA9\xC3\xA9";  // 125 bytes; a cut at 123 would split the second é
  append_close_frame(out, 1000, reason);
  FrameParser p = client_parser();
  ASSERT_EQ(p.parse(out), FrameStatus::kFrame);
  ASSERT_EQ(parse_close_payload(p.frame().payload, c), 0);
  EXPECT_EQ(c.reason.size(), 123u);
  EXPECT_TRUE(is_valid_utf8(c.reason));
  out.clear();
  append_close_frame(out, kCloseNoStatus, "ignored");
  EXPECT_EQ(out, bytes({0x88, 0x00}));
}

TEST(WebSocketFrame, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xED\x9F\xBF"));
  for (std::string bad : {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xED\xA0\x80",
                          "\xF0\x80\x80\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "a\xC3", "\xE2\x82"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(bad);
  }
  // Split anywhere: a sequence cut between feeds is fine until the end.
  std::string text = "h\xC3\xA9llo \xF0\x9F\x98\x80!";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(text.substr(0, cut)));
    EXPECT_TRUE(v.feed(text.substr(cut)));
    EXPECT_TRUE(v.complete());
  }
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xF0\x9F"));
  EXPECT_FALSE(v.complete());
  EXPECT_FALSE(v.feed("\x41"));  // fails at the first impossible byte
  EXPECT_FALSE(v.feed("ok"));    // and stays failed
}

// --- permessage-deflate (RFC 7692 §7.2.3) ------------------------------------------------------

TEST(WebSocketFrame, DeflateRfc7692Examples) {
  Deflater d(15, false);
  std::string first, second;
  ASSERT_TRUE(d.compress("Hello", first));
  EXPECT_EQ(first, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  ASSERT_TRUE(d.compress("Hello", second));
  EXPECT_LT(second.size(), first.size()) << "context takeover: the second Hello refers to the first";

  Inflater in(false);
  std::string out;
  ASSERT_EQ(in.inflate(first, out, 100), Inflater::Result::kOk);
  ASSERT_EQ(in.finish(out, 100), Inflater::Result::kOk);
  EXPECT_EQ(out, "Hello");
  out.clear();
  ASSERT_EQ(in.inflate(second, out, 100), Inflater::Result::kOk);
  ASSERT_EQ(in.finish(out, 100), Inflater::Result::kOk);
  EXPECT_EQ(out, "Hello");

  // The RFC's stored-block form and a message split over two fragments.
  out.clear();
  Inflater fresh(true);
  ASSERT_EQ(fresh.inflate(bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65}), out, 100), Inflater::Result::kOk);
  ASSERT_EQ(fresh.inflate(bytes({0x6c, 0x6c, 0x6f, 0x00}), out, 100), Inflater::Result::kOk);
  ASSERT_EQ(fresh.finish(out, 100), Inflater::Result::kOk);
  EXPECT_EQ(out, "Hello");
}

TEST(WebSocketFrame, DeflateWithoutContextTakeover) {
  Deflater d(15, true);
  std::string a, b;
  ASSERT_TRUE(d.compress("Hello", a));
  ASSERT_TRUE(d.compress("Hello", b));
  EXPECT_EQ(a, b);
  Inflater in(true);
  for (const std::string& m : {a, b}) {
    std::string out;
    ASSERT_EQ(in.inflate(m, out, 100), Inflater::Result::kOk);
    ASSERT_EQ(in.finish(out, 100), Inflater::Result::kOk);
    EXPECT_EQ(out, "Hello");
  }
}

TEST(WebSocketFrame, DeflateRoundTripsAndBoundsOutput) {
  std::mt19937 rng(11);
  Deflater d(12, false, 5);
  Inflater in(false);
  for (std::size_t size : {0u, 1u, 100u, 5000u, 300000u}) {
    std::string msg(size, '\0');
    for (std::size_t i = 0; i < size; ++i) msg[i] = static_cast<char>(i % 3 == 0 ? rng() : 'a' + i % 26);
    std::string z, out;
    ASSERT_TRUE(d.compress(msg, z));
    ASSERT_EQ(in.inflate(z, out, size), Inflater::Result::kOk) << size;
    ASSERT_EQ(in.finish(out, size), Inflater::Result::kOk) << size;
    EXPECT_EQ(out, msg) << size;
  }
  // A small bomb: 10 MiB of zeros is a few KiB compressed; inflating stops at the limit.
  Deflater bomb_maker(15, true);
  std::string bomb;
  ASSERT_TRUE(bomb_maker.compress(std::string(10 << 20, '\0'), bomb));
  EXPECT_LT(bomb.size(), 20000u);
  Inflater bounded(true);
  std::string out;
  EXPECT_EQ(bounded.inflate(bomb, out, 1 << 20), Inflater::Result::kTooBig);
  EXPECT_LE(out.size(), (1u << 20) + 1);
  // Garbage is an error, not a crash.
  Inflater garbage(true);
  out.clear();
  EXPECT_EQ(garbage.inflate(bytes({0xff, 0xff, 0xff, 0xff, 0x00}), out, 100), Inflater::Result::kError);
}

}  // namespace
}  // namespace serval::http::websocket
