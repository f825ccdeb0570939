// TestClient: the whole stack in-process, with no socket — like FastAPI's TestClient.
//
// Requests are written as HTTP/1.1 bytes, go through the same parser, connection, router,
// validation and response writer as network traffic, and the response bytes are parsed back.
// Coroutine handlers, timers and streams run on a private event loop on the calling thread.
//
//   serval::TestClient client{app};
//   auto r = client.post("/predict", R"({"text":"great"})");
//   EXPECT_EQ(r.status, 200);
//   EXPECT_EQ(r.json().at("label"), "POSITIVE");
//
//   auto ws = client.websocket("/ws/echo");           // a real handshake, masked frames, same connection code
//   ws.send_text("hi");
//   EXPECT_EQ(ws.receive()->data, "hi");
//   ws.close(1000);
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "serval/app/app.hpp"
#include "serval/app/websocket.hpp"
#include "serval/http/websocket_frame.hpp"

namespace serval {

class TestWebSocket;

// What TestClient::websocket() offers in its handshake.
struct TestWebSocketOptions {
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::vector<std::string> subprotocols;                     // Sec-WebSocket-Protocol, in order
  bool permessage_deflate = false;  // offer "permessage-deflate; client_max_window_bits" and use it if accepted
  std::string extensions;           // a Sec-WebSocket-Extensions offer of your own (instead of the above)
};

class TestClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  struct Response {
    int status = 0;
    Headers headers;
    std::string body;  // de-chunked
    std::vector<int> interim;  // 1xx statuses seen before the final response

    std::string_view header(std::string_view name) const noexcept;
    boost::json::value json() const;  // throws on a body that is not JSON
  };

  explicit TestClient(App& app, http::ConnectionOptions options = {});
  ~TestClient();

  Response get(std::string_view target, const Headers& headers = {});
  Response head(std::string_view target, const Headers& headers = {});
  Response options(std::string_view target, const Headers& headers = {});
  Response del(std::string_view target, const Headers& headers = {});
  // A JSON body unless `headers` sets another Content-Type.
  Response post(std::string_view target, std::string_view body, const Headers& headers = {});
  Response put(std::string_view target, std::string_view body, const Headers& headers = {});
  Response patch(std::string_view target, std::string_view body, const Headers& headers = {});
  Response request(std::string_view method, std::string_view target, std::string_view body, const Headers& headers);

  // Sends raw bytes on a fresh connection and returns every byte the server wrote until the
  // connection went idle or closed (for protocol-level tests: pipelining, malformed input).
  std::string raw(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Like raw(), but the client disconnects after `after`: what a server does when a client goes
  // away mid-request or mid-stream. Runs the loop briefly afterwards so cancellation completes.
  std::string raw_then_disconnect(std::string_view bytes, std::chrono::milliseconds after);

  // True when the client's event loop has no timers or posted work left (nothing still running).
  bool idle() const;

  // Parses one HTTP/1.1 response from `bytes` (skipping 1xx); throws std::runtime_error if malformed.
  static Response parse_response(std::string_view bytes, std::size_t* consumed = nullptr);

  // Opens a WebSocket on a fresh in-process connection: a real handshake, then masked frames through
  // the same http::Connection as network traffic. Throws TestWebSocketRejected when the app answers
  // anything but 101 (its response inside), std::runtime_error on a broken handshake. The App must
  // outlive the returned object; the TestClient need not.
  TestWebSocket websocket(std::string_view target, const TestWebSocketOptions& options = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The app refused a WebSocket handshake: `response` is its answer (400, 403, 404, 426...).
struct TestWebSocketRejected : std::runtime_error {
  explicit TestWebSocketRejected(TestClient::Response r);
  TestClient::Response response;
};

// The client side of one WebSocket conversation, driven synchronously by the test: every call runs
// the app's event loop (its handler coroutine, timers) until the answer is in or the timeout passes.
// Messages are masked with fresh random keys, like a browser's; server pings are answered in receive().
class TestWebSocket {
 public:
  // A frame exactly as the server sent it (payload unmasked, not decompressed).
  struct Frame {
    http::websocket::Opcode opcode = http::websocket::Opcode::kText;
    bool fin = true;
    bool rsv1 = false;
    std::string payload;
  };

  TestWebSocket(TestWebSocket&&) noexcept;
  TestWebSocket& operator=(TestWebSocket&&) noexcept;
  ~TestWebSocket();  // closes with 1000 if still open

  void send_text(std::string_view text);     // compressed when permessage-deflate was negotiated
  void send_binary(std::string_view data);
  void ping(std::string_view payload = {});
  // One masked frame as given (no compression): for fragmentation and protocol tests.
  void send_frame(http::websocket::Opcode opcode, std::string_view payload, bool fin = true, bool rsv1 = false);
  // Bytes as they are, e.g. an unmasked frame or garbage.
  void send_raw(std::string_view bytes);

  // The next data message; std::nullopt when the server closed (see close_code()) or on timeout.
  std::optional<WsMessage> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The next frame of any kind, consumed (pings are not answered here); std::nullopt on timeout or
  // when the connection closed.
  std::optional<Frame> receive_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Sends a close frame (unless one was sent) and waits for the server's, then drops the connection.
  void close(int code = 1000, std::string_view reason = {});
  // Drops the connection without a close frame (the server sees 1006).
  void disconnect();
  // The server starts draining, as on SIGTERM: the app's side says goodbye (close 1001).
  void shutdown_server();
  // Runs the app's event loop for `d` (to let timers fire) without reading anything.
  void run_for(std::chrono::milliseconds d);

  // The code of the server's close frame (1005 when it had none); std::nullopt until one arrived.
  std::optional<int> close_code() const noexcept;
  const std::string& close_reason() const noexcept;
  // The server closed the connection (after a close handshake, an error, or a timeout).
  bool closed() const noexcept;

  const TestClient::Response& handshake() const noexcept;  // the 101 response
  std::string_view subprotocol() const noexcept;
  bool permessage_deflate() const noexcept;

 private:
  friend class TestClient;
  struct Impl;
  explicit TestWebSocket(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace serval
