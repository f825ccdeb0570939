// WebSocket routes through the in-process TestClient: real handshakes and masked frames through the
// same http::Connection as network traffic — echo, fragmentation, ping/pong, the close handshake and
// its codes, limits, UTF-8, protocol errors, bad handshakes, subprotocols and permessage-deflate.
#include "serval/app/websocket.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "serval/app/app.hpp"
#include "serval/app/test_client.hpp"
#include "serval/net/event_loop.hpp"

namespace serval {
namespace {

using namespace std::chrono_literals;
using http::websocket::Opcode;

// What a handler saw, for the test to check after the conversation.
struct Seen {
  std::optional<int> close_code;
  std::string close_reason;
  int messages = 0;
  bool finished = false;
  bool compressed = false;
};

Task<void> echo_until_closed(WebSocket& ws, std::shared_ptr<Seen> seen) {
  seen->compressed = ws.compressed();
  while (auto m = co_await ws.receive()) {
    ++seen->messages;
    if (m->binary) {
      co_await ws.send_binary(m->data);
    } else {
      co_await ws.send_text(m->data);
    }
  }
  seen->close_code = ws.close_code();
  seen->close_reason = ws.close_reason();
  seen->finished = true;
}

class WebSocketTest : public ::testing::Test {
 protected:
  WebSocketTest() {
    app.websocket("/ws/echo", [seen = seen](WebSocket& ws) { return echo_until_closed(ws, seen); });
    app.websocket(
        "/ws/small", [seen = seen](WebSocket& ws) { return echo_until_closed(ws, seen); }, {},
        {.max_message_size = 1024});
    app.websocket(
        "/ws/plain", [seen = seen](WebSocket& ws) { return echo_until_closed(ws, seen); }, {},
        {.permessage_deflate = false});
    app.get("/plain", [] { return std::string("http"); });
  }

  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
  App app;
  TestClient client{app};
};

TEST_F(WebSocketTest, EchoesTextAndBinary) {
  auto ws = client.websocket("/ws/echo");
  EXPECT_EQ(ws.handshake().status, 101);
  EXPECT_EQ(ws.handshake().header("upgrade"), "websocket");
  ws.send_text("hello");
  auto m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->binary);
  EXPECT_EQ(m->data, "hello");

  std::string blob("\x00\x01\xff\xfe binary", 12);
  ws.send_binary(blob);
  m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->binary);
  EXPECT_EQ(m->data, blob);

  ws.send_text("");  // empty messages are messages too
  m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "");

  std::string big(200000, 'x');  // 64-bit length encoding both ways
  ws.send_binary(big);
  m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, big);

  ws.close(1000);
  EXPECT_EQ(ws.close_code(), 1000);
  EXPECT_TRUE(ws.closed());
  EXPECT_TRUE(seen->finished);
  EXPECT_EQ(seen->messages, 4);
  EXPECT_EQ(seen->close_code, 1000);
}

TEST_F(WebSocketTest, ManyMessagesInOneBurstKeepTheirOrder) {
  auto ws = client.websocket("/ws/echo");
  std::string burst;
  for (int i = 0; i < 100; ++i) {
    std::string payload = "m" + std::to_string(i);
    http::websocket::MaskKey mask{1, 2, 3, 4};
    http::websocket::append_frame(burst, Opcode::kText, payload, true, false, &mask);
  }
  ws.send_raw(burst);
  for (int i = 0; i < 100; ++i) {
    auto m = ws.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "m" + std::to_string(i));
  }
}

TEST_F(WebSocketTest, ReassemblesFragmentsWithControlFramesBetween) {
  auto ws = client.websocket("/ws/echo");
  ws.send_frame(Opcode::kText, "Hel", false);
  ws.send_frame(Opcode::kPing, "between");
  ws.send_frame(Opcode::kContinuation, "l", false);
  ws.send_frame(Opcode::kContinuation, "o \xE2\x82", false);  // a UTF-8 sequence split across frames
  ws.send_frame(Opcode::kContinuation, "\xAC", true);
  auto pong = ws.receive_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, Opcode::kPong);
  EXPECT_EQ(pong->payload, "between");
  auto m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "Hello \xE2\x82\xAC");

  ws.send_frame(Opcode::kBinary, "a", false);
  ws.send_frame(Opcode::kContinuation, "", false);
  ws.send_frame(Opcode::kContinuation, "b", true);
  m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->binary);
  EXPECT_EQ(m->data, "ab");
}

TEST_F(WebSocketTest, AnswersPingWithPong) {
  auto ws = client.websocket("/ws/echo");
  ws.ping("are you there");
  auto f = ws.receive_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, Opcode::kPong);
  EXPECT_EQ(f->payload, "are you there");
  ws.send_text("still echoing");
  EXPECT_EQ(ws.receive()->data, "still echoing");
}

TEST_F(WebSocketTest, ClientCloseIsEchoedWithItsCode) {
  auto ws = client.websocket("/ws/echo");
  ws.close(4001, "bye now");
  EXPECT_EQ(ws.close_code(), 4001);
  EXPECT_TRUE(ws.closed());
  EXPECT_TRUE(seen->finished);
  EXPECT_EQ(seen->close_code, 4001);
  EXPECT_EQ(seen->close_reason, "bye now");
}

TEST_F(WebSocketTest, CloseWithoutCodeIsEchoedEmpty) {
  auto ws = client.websocket("/ws/echo");
  ws.send_frame(Opcode::kClose, "");
  auto f = ws.receive_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, Opcode::kClose);
  EXPECT_EQ(f->payload, "");
  EXPECT_EQ(ws.close_code(), 1005);
  EXPECT_EQ(seen->close_code, 1005);
}

TEST_F(WebSocketTest, DisconnectWithoutCloseEndsTheHandlerWith1006) {
  auto ws = client.websocket("/ws/echo");
  ws.send_text("one");
  EXPECT_TRUE(ws.receive());
  ws.disconnect();
  EXPECT_TRUE(seen->finished);
  EXPECT_EQ(seen->close_code, 1006);
}

TEST_F(WebSocketTest, ServerShutdownSays1001) {
  auto ws = client.websocket("/ws/echo");
  ws.shutdown_server();
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1001);
  EXPECT_TRUE(ws.closed());
  EXPECT_EQ(seen->close_code, 1001);
}

TEST_F(WebSocketTest, OversizedMessageCloses1009) {
  auto ws = client.websocket("/ws/small");
  ws.send_text(std::string(1024, 'a'));  // exactly the limit is fine
  ASSERT_TRUE(ws.receive());
  ws.send_text(std::string(2000, 'a'));
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1009);
  EXPECT_TRUE(ws.closed());
  EXPECT_EQ(seen->close_code, 1009);
}

TEST_F(WebSocketTest, OversizedFragmentedMessageCloses1009) {
  auto ws = client.websocket("/ws/small");
  ws.send_frame(Opcode::kBinary, std::string(600, 'a'), false);
  ws.send_frame(Opcode::kContinuation, std::string(600, 'a'), false);
  ws.send_frame(Opcode::kContinuation, std::string(600, 'a'), true);
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1009);
  EXPECT_TRUE(ws.closed());
}

TEST_F(WebSocketTest, InvalidUtf8Closes1007) {
  auto ws = client.websocket("/ws/echo");
  ws.send_frame(Opcode::kText, "caf\xC3(");
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1007);
  EXPECT_EQ(seen->close_code, 1007);
}

TEST_F(WebSocketTest, InvalidUtf8FailsOnTheFirstBadFragment) {
  auto ws = client.websocket("/ws/echo");
  ws.send_frame(Opcode::kText, "ok so far \xED\xA0", false);  // a surrogate: fails before the message ends
  auto f = ws.receive_frame(1s);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, Opcode::kClose);
  EXPECT_EQ(ws.close_code(), 1007);
}

TEST_F(WebSocketTest, UnmaskedClientFrameCloses1002) {
  auto ws = client.websocket("/ws/echo");
  std::string unmasked;
  http::websocket::append_frame(unmasked, Opcode::kText, "naked");
  ws.send_raw(unmasked);
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1002);
  EXPECT_TRUE(ws.closed());
  EXPECT_EQ(seen->close_code, 1002);
  EXPECT_EQ(seen->messages, 0);
}

TEST_F(WebSocketTest, ProtocolErrorsClose1002) {
  const std::vector<std::pair<const char*, std::function<void(TestWebSocket&)>>> cases = {
      {"reserved opcode", [](TestWebSocket& ws) { ws.send_frame(static_cast<Opcode>(0x3), "x"); }},
      {"RSV1 without deflate", [](TestWebSocket& ws) { ws.send_frame(Opcode::kText, "x", true, true); }},
      {"fragmented ping", [](TestWebSocket& ws) { ws.send_frame(Opcode::kPing, "x", false); }},
      {"long ping", [](TestWebSocket& ws) { ws.send_frame(Opcode::kPing, std::string(126, 'p')); }},
      {"lone continuation", [](TestWebSocket& ws) { ws.send_frame(Opcode::kContinuation, "x"); }},
      {"interrupted message",
       [](TestWebSocket& ws) {
         ws.send_frame(Opcode::kText, "a", false);
         ws.send_frame(Opcode::kText, "b");
       }},
      {"bad close code", [](TestWebSocket& ws) { ws.send_frame(Opcode::kClose, std::string("\x03\xED", 2)); }},
      {"one-byte close", [](TestWebSocket& ws) { ws.send_frame(Opcode::kClose, "\x03"); }},
      {"garbage", [](TestWebSocket& ws) { ws.send_raw(std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8)); }},
  };
  for (const auto& [name, send] : cases) {
    auto ws = client.websocket("/ws/plain");
    send(ws);
    EXPECT_FALSE(ws.receive(1s)) << name;
    EXPECT_EQ(ws.close_code(), 1002) << name;
    EXPECT_TRUE(ws.closed()) << name;
  }
}

TEST_F(WebSocketTest, BadHandshakesAreJsonErrors) {
  const TestClient::Headers good = {{"Upgrade", "websocket"},
                                    {"Connection", "Upgrade"},
                                    {"Sec-WebSocket-Version", "13"},
                                    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  // A plain GET.
  auto r = client.get("/ws/echo");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("detail"), "Missing or invalid Upgrade header: expected websocket");

  auto without = [&](std::string_view name) {
    TestClient::Headers h;
    for (const auto& kv : good)
      if (!http::iequals(kv.first, name)) h.push_back(kv);
    return h;
  };
  r = client.get("/ws/echo", without("connection"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("detail"), "Missing or invalid Connection header: expected upgrade");

  r = client.get("/ws/echo", without("sec-websocket-key"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("detail"), "Missing or invalid Sec-WebSocket-Key");

  auto bad_key = without("sec-websocket-key");
  bad_key.emplace_back("Sec-WebSocket-Key", "dG9vIHNob3J0");  // "too short": 9 bytes
  EXPECT_EQ(client.get("/ws/echo", bad_key).status, 400);

  auto old_version = without("sec-websocket-version");
  old_version.emplace_back("Sec-WebSocket-Version", "8");
  r = client.get("/ws/echo", old_version);
  EXPECT_EQ(r.status, 426);
  EXPECT_EQ(r.header("sec-websocket-version"), "13");
  EXPECT_TRUE(r.json().at("detail").is_string());

  EXPECT_EQ(client.request("POST", "/ws/echo", "", good).status, 405);

  // The handshake itself, answered by raw bytes: RFC 6455's sample key and accept value.
  std::string raw = client.raw(
      "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      200ms);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << raw;
  EXPECT_NE(raw.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << raw;
  EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  try {
    client.websocket("/nowhere");
    FAIL() << "expected a rejection";
  } catch (const TestWebSocketRejected& e) {
    EXPECT_EQ(e.response.status, 404);
  }
  EXPECT_THROW(client.websocket("/plain"), TestWebSocketRejected);
}

TEST_F(WebSocketTest, NotInOpenApi) {
  std::string doc = app.openapi_json();
  EXPECT_EQ(doc.find("/ws/echo"), std::string::npos);
  EXPECT_NE(doc.find("/plain"), std::string::npos);
}

TEST_F(WebSocketTest, PermessageDeflateRoundTrip) {
  auto ws = client.websocket("/ws/echo", {.permessage_deflate = true});
  ASSERT_TRUE(ws.permessage_deflate());
  EXPECT_EQ(ws.handshake().header("sec-websocket-extensions"), "permessage-deflate");
  std::string text;
  for (int i = 0; i < 500; ++i) text += "the quick brown fox " + std::to_string(i) + " ";
  ws.send_text(text);
  auto f = ws.receive_frame();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->rsv1) << "the server compressed its answer";
  EXPECT_LT(f->payload.size(), text.size() / 3);
  // With context takeover the same text again is tiny, and still decodes.
  for (int i = 0; i < 3; ++i) {
    ws.send_text(text);
    auto m = ws.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data, text);
  }
  ws.send_binary(std::string("\x00\x01\x02", 3));  // below deflate_min_size: sent uncompressed
  f = ws.receive_frame();
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->rsv1);
  EXPECT_EQ(f->payload, std::string("\x00\x01\x02", 3));
  ws.close();
  EXPECT_TRUE(seen->compressed);
  EXPECT_EQ(seen->messages, 5);
}

TEST_F(WebSocketTest, PermessageDeflateParameters) {
  {
    auto ws = client.websocket(
        "/ws/echo", {.extensions = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"});
    EXPECT_EQ(ws.handshake().header("sec-websocket-extensions"),
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    std::string text(3000, 'z');
    for (int i = 0; i < 3; ++i) {
      ws.send_text(text);
      auto m = ws.receive();
      ASSERT_TRUE(m);
      EXPECT_EQ(m->data, text);
    }
  }
  {
    // An 8-bit window cannot be honoured by zlib: that offer is declined, the next one taken.
    auto ws = client.websocket("/ws/echo",
                               {.extensions = "permessage-deflate; server_max_window_bits=8, permessage-deflate; "
                                              "server_max_window_bits=10"});
    EXPECT_EQ(ws.handshake().header("sec-websocket-extensions"), "permessage-deflate; server_max_window_bits=10");
    ws.send_text(std::string(5000, 'q'));
    EXPECT_EQ(ws.receive()->data, std::string(5000, 'q'));
  }
  {
    auto ws = client.websocket("/ws/echo", {.extensions = "permessage-deflate; bogus=1, x-webkit-deflate-frame"});
    EXPECT_FALSE(ws.permessage_deflate());
    EXPECT_EQ(ws.handshake().header("sec-websocket-extensions"), "");
  }
  {
    auto ws = client.websocket("/ws/plain", {.permessage_deflate = true});  // the route turned it off
    EXPECT_FALSE(ws.permessage_deflate());
    ws.send_text(std::string(5000, 'q'));
    EXPECT_EQ(ws.receive()->data, std::string(5000, 'q'));
  }
}

TEST_F(WebSocketTest, CompressedMessageOverTheLimitCloses1009) {
  auto ws = client.websocket("/ws/small", {.permessage_deflate = true});
  ASSERT_TRUE(ws.permessage_deflate());
  ws.send_text(std::string(2 << 20, 'a'));  // 2 MiB that compress to a few KiB
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1009);
  EXPECT_EQ(seen->close_code, 1009);
}

TEST_F(WebSocketTest, CorruptCompressedDataCloses1007) {
  auto ws = client.websocket("/ws/echo", {.permessage_deflate = true});
  ws.send_frame(Opcode::kBinary, std::string("\xff\xff\xff\xff\x00", 5), true, true);
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1007);
}

TEST(WebSocketApp, SubprotocolSelection) {
  App app;
  app.websocket(
      "/ws/chat",
      [](WebSocket& ws) -> Task<void> {
        co_await ws.send_text("protocol=" + ws.subprotocol());
      },
      {}, {.subprotocols = {"chat.v2", "chat.v1"}});
  TestClient client{app};
  {
    auto ws = client.websocket("/ws/chat", {.subprotocols = {"chat.v1", "chat.v2"}});
    EXPECT_EQ(ws.subprotocol(), "chat.v2");  // the server's preference wins
    EXPECT_EQ(ws.receive()->data, "protocol=chat.v2");
  }
  {
    auto ws = client.websocket("/ws/chat", {.subprotocols = {"chat.v1"}});
    EXPECT_EQ(ws.subprotocol(), "chat.v1");
  }
  {
    auto ws = client.websocket("/ws/chat", {.subprotocols = {"mqtt"}});
    EXPECT_EQ(ws.subprotocol(), "");
    EXPECT_EQ(ws.receive()->data, "protocol=");
  }
}

TEST(WebSocketApp, HandlerSeesTheRequestAndItsPathParameters) {
  App app;
  app.websocket("/ws/rooms/{room}", [](WebSocket& ws, const http::Request& req) -> Task<void> {
    std::string who;
    http::query_param(req.query, "user", who);
    // The request outlives the connection's read buffer: read it again after waiting.
    auto first = co_await ws.receive();
    std::string answer = std::string(req.path_param("room")) + "/" + who + "/" + std::string(req.header("x-token")) + "/" +
                         std::string(ws.request().path) + "/" + (first ? first->data : "none");
    co_await ws.send_text(answer);
  });
  TestClient client{app};
  auto ws = client.websocket("/ws/rooms/lobby?user=ann", {.headers = {{"X-Token", "t0k"}}});
  ws.send_text("hi");
  auto m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "lobby/ann/t0k//ws/rooms/lobby/hi");
  // The handler returned: the server closes with 1000.
  EXPECT_FALSE(ws.receive());
  EXPECT_EQ(ws.close_code(), 1000);
}

TEST(WebSocketApp, ServerInitiatedCloseAndThrowingHandlers) {
  App app;
  auto after_close = std::make_shared<std::optional<bool>>();
  app.websocket("/ws/once", [after_close](WebSocket& ws) -> Task<void> {
    auto m = co_await ws.receive();
    // A named string: GCC 12 mishandles temporaries of a ?: inside a co_await expression.
    std::string answer = "got " + (m ? m->data : std::string("nothing"));
    co_await ws.send_text(answer);
    ws.close(4000, "done");
    EXPECT_FALSE(ws.is_open());
    auto after = co_await ws.receive();  // nothing after our close
    EXPECT_FALSE(after);
    bool sent = co_await ws.send_text("too late");
    *after_close = sent;
  });
  app.websocket("/ws/throws", [](WebSocket& ws) -> Task<void> {
    co_await ws.receive();
    throw std::runtime_error("handler bug");
  });
  app.websocket("/ws/bad-close", [](WebSocket& ws) -> Task<void> {
    ws.close(1005);  // not sendable: std::invalid_argument, so the handler fails with 1011
    co_return;
  });
  TestClient client{app};
  {
    auto ws = client.websocket("/ws/once");
    ws.send_text("x");
    EXPECT_EQ(ws.receive()->data, "got x");
    EXPECT_FALSE(ws.receive());
    EXPECT_EQ(ws.close_code(), 4000);
    EXPECT_EQ(ws.close_reason(), "done");
    EXPECT_TRUE(ws.closed());
    ASSERT_TRUE(after_close->has_value());
    EXPECT_FALSE(**after_close);
  }
  {
    auto ws = client.websocket("/ws/throws");
    ws.send_text("boom");
    EXPECT_FALSE(ws.receive());
    EXPECT_EQ(ws.close_code(), 1011);
  }
  {
    auto ws = client.websocket("/ws/bad-close");
    EXPECT_FALSE(ws.receive());
    EXPECT_EQ(ws.close_code(), 1011);
  }
}

TEST(WebSocketApp, ServerPingsAndIdleTimeout) {
  App app;
  auto seen = std::make_shared<Seen>();
  app.websocket(
      "/ws/live", [seen](WebSocket& ws) { return echo_until_closed(ws, seen); }, {},
      {.ping_interval = 20ms, .idle_timeout = 150ms, .close_timeout = 100ms});
  TestClient client{app};
  {
    // A client that answers pings stays connected past the idle timeout.
    auto ws = client.websocket("/ws/live");
    auto f = ws.receive_frame(1s);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, Opcode::kPing);
    auto start = net::Clock::now();
    while (net::Clock::now() - start < 400ms) EXPECT_FALSE(ws.receive(20ms));  // answers pings
    EXPECT_FALSE(ws.closed());
    ws.send_text("alive");
    EXPECT_EQ(ws.receive()->data, "alive");
  }
  {
    // One that never answers is closed with 1011, then dropped when it ignores the close too.
    auto ws = client.websocket("/ws/live");
    std::optional<TestWebSocket::Frame> f;
    int pings = 0;
    while ((f = ws.receive_frame(1s)) && f->opcode == Opcode::kPing) ++pings;
    EXPECT_GE(pings, 3);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, Opcode::kClose);
    EXPECT_EQ(ws.close_code(), 1011);
    ws.run_for(200ms);
    EXPECT_TRUE(ws.closed());
    EXPECT_EQ(seen->close_code, 1011);
  }
}

TEST(WebSocketApp, SlowReaderOverflowsTheQueueWith1008) {
  App app;
  auto seen = std::make_shared<Seen>();
  app.websocket(
      "/ws/slow",
      [seen](WebSocket& ws) -> Task<void> {
        co_await sleep_for(100ms);  // not reading yet
        co_await echo_until_closed(ws, seen);
      },
      {}, {.max_queued_bytes = 100});
  TestClient client{app};
  auto ws = client.websocket("/ws/slow");
  for (int i = 0; i < 3; ++i) ws.send_text(std::string(60, 'a'));
  auto f = ws.receive_frame(1s);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, Opcode::kClose);
  EXPECT_EQ(ws.close_code(), 1008);
  ws.close();
  ws.run_for(200ms);  // the handler wakes, reads what was queued, sees the close
  EXPECT_TRUE(seen->finished);
  EXPECT_EQ(seen->messages, 2);  // 120 queued bytes > 100 closed it; the third came after the close
  EXPECT_EQ(seen->close_code, 1008);
}

// A connection whose socket takes nothing until the test opens it: send_*() must stop the handler
// once WebSocketOptions::send_high_water bytes wait, and resume it when the socket drains.
class ChokedConnection final : public http::Connection {
 public:
  using http::Connection::Connection;
  std::string written;
  bool window_open = false;

  void feed(std::string_view bytes) {
    char* p = input_space(bytes.size());
    std::memcpy(p, bytes.data(), bytes.size());
    commit_input(bytes.size());
    process();
  }
  void open_window() {
    window_open = true;
    on_writable();
  }
  void drop() { close(); }

 protected:
  std::size_t write_some(const char* data, std::size_t len) override {
    if (!window_open) return 0;
    written.append(data, len);
    return len;
  }
  void close_transport() override {}
};

TEST(WebSocketApp, SendWaitsWhileTheSocketIsFull) {
  App app;
  auto queued = std::make_shared<int>(0);
  auto finished = std::make_shared<bool>(false);
  app.websocket(
      "/ws/firehose",
      [queued, finished](WebSocket& ws) -> Task<void> {
        std::string chunk(100 * 1024, 'x');
        for (int i = 0; i < 10; ++i) {
          ++*queued;
          co_await ws.send_binary(chunk);
        }
        *finished = true;
      },
      {}, {.permessage_deflate = false, .send_high_water = 256 * 1024});
  app.startup();
  http::ConnectionOptions options;
  auto conn = std::make_shared<ChokedConnection>(app, options);
  conn->feed(
      "GET /ws/firehose HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  ASSERT_TRUE(conn->upgraded());
  // 100 + 200 KiB wait below the mark; the third message crosses it and the handler waits there.
  EXPECT_EQ(*queued, 3);
  EXPECT_GT(conn->unsent_bytes(), 300u * 1024);
  EXPECT_TRUE(conn->written.empty());

  conn->open_window();
  EXPECT_EQ(*queued, 10);
  EXPECT_TRUE(*finished);
  EXPECT_TRUE(conn->written.starts_with("HTTP/1.1 101 "));
  // Ten unmasked 100 KiB frames (10-byte headers: 64-bit lengths), then close 1000 (2 + 2 bytes).
  std::size_t frames_from = conn->written.find("\r\n\r\n") + 4;
  EXPECT_EQ(conn->written.size() - frames_from, 10 * (10 + 100 * 1024) + 2 + 2);
  conn->drop();
}

}  // namespace
}  // namespace serval
