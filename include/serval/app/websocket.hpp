// WebSocket: one server-side WebSocket connection (RFC 6455), as its handler coroutine sees it.
//
// app.websocket(path, handler) registers a route. Each accepted handshake runs the handler as a
// coroutine on the event loop that owns the connection: receive() waits for the next whole message
// (fragments reassembled, permessage-deflate undone, text checked to be UTF-8) and answers
// std::nullopt once the connection is closing or gone; send_text()/send_binary() queue one message and,
// when awaited, wait while the peer is slow to read (back-pressure). Pings are answered, the close
// handshake and keep-alive pings are handled for you. When the handler returns, the connection is
// closed with 1000 (1011 if it threw).
//
//   app.websocket("/ws/echo", [](serval::WebSocket& ws) -> serval::Task<void> {
//     while (auto msg = co_await ws.receive()) {
//       if (msg->binary) co_await ws.send_binary(msg->data);
//       else co_await ws.send_text(msg->data);
//     }
//     // ws.close_code(): 1000 (peer said goodbye), 1001 (server draining), 1009 (too big), 1006 (dropped)...
//   }, {.summary = "Echo"}, {.max_message_size = 64 * 1024});
//
// Like every handler it runs on the event loop: await long work, never block. WebSocket routes are
// not OpenAPI operations and never appear in /openapi.json. See docs/websockets.md.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "serval/async/task.hpp"
#include "serval/http/request.hpp"

namespace serval {

// One received message: text (valid UTF-8) or binary.
struct WsMessage {
  bool binary = false;
  std::string data;
};

// Per-route settings, the last argument of app.websocket().
struct WebSocketOptions {
  // Larger messages (after decompression) close the connection with 1009.
  std::size_t max_message_size = std::size_t{1} << 20;
  // Accept permessage-deflate (RFC 7692) when the client offers it.
  bool permessage_deflate = true;
  // Outgoing messages smaller than this are sent uncompressed.
  std::size_t deflate_min_size = 64;
  // Compress every outgoing message on its own: less memory held per connection, lower ratio.
  bool deflate_no_context_takeover = false;
  // Subprotocols this route speaks, in order of preference: the first one the client also offers
  // is selected (WebSocket::subprotocol()). Empty: none is ever selected.
  std::vector<std::string> subprotocols;
  // A ping is sent this often (0: never); a peer silent for idle_timeout (no data, no pong) is closed
  // with 1011 (0: never).
  std::chrono::milliseconds ping_interval{20'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // After sending a close frame, wait this long for the peer's before dropping the connection.
  std::chrono::milliseconds close_timeout{5'000};
  // An awaited send_text()/send_binary() resumes once fewer bytes than this wait for the socket.
  std::size_t send_high_water = 256 * 1024;
  // Received messages the handler has not receive()d yet may hold this many bytes; beyond, the
  // connection is closed with 1008 (the reader is not keeping up).
  std::size_t max_queued_bytes = std::size_t{16} << 20;
};

namespace detail {
class WebSocketSession;
}

class WebSocket {
 public:
  class [[nodiscard]] ReceiveAwaiter {
   public:
    explicit ReceiveAwaiter(detail::WebSocketSession* session) noexcept : session_(session) {}
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h);
    std::optional<WsMessage> await_resume();

   private:
    detail::WebSocketSession* session_;
  };

  class [[nodiscard]] SendAwaiter {
   public:
    SendAwaiter(detail::WebSocketSession* session, bool queued) noexcept : session_(session), queued_(queued) {}
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h);
    // True when the message was queued; false when the connection was already closing or closed.
    bool await_resume() const noexcept { return queued_; }

   private:
    detail::WebSocketSession* session_;
    bool queued_;
  };

  explicit WebSocket(std::shared_ptr<detail::WebSocketSession> session) noexcept;
  ~WebSocket();
  WebSocket(const WebSocket&) noexcept;  // copies share the connection (e.g. a separate sender task)
  WebSocket& operator=(const WebSocket&) noexcept;

  // The next message; std::nullopt once the connection is closing or closed (messages that arrived
  // before the close are delivered first). One coroutine may wait at a time.
  ReceiveAwaiter receive() noexcept;
  // Queues one message (sent at once as far as the socket allows). Awaiting waits while more than
  // WebSocketOptions::send_high_water bytes are unsent. Text must be valid UTF-8 (std::invalid_argument).
  SendAwaiter send_text(std::string_view text);
  SendAwaiter send_binary(std::string_view data);

  // Starts the close handshake (code 1000-1003, 1007-1014 or 3000-4999, else std::invalid_argument;
  // the reason is cut to 123 bytes). receive() answers std::nullopt from now on. No-op once closing.
  void close(int code = 1000, std::string_view reason = {});

  // Open: neither side has sent a close frame and the connection is up.
  bool is_open() const noexcept;
  // The first close code of the connection — the peer's, or ours when we closed first (1005: the
  // close frame had no code; 1006: the connection dropped without one); std::nullopt while open.
  std::optional<int> close_code() const noexcept;
  // The reason that came with close_code() (empty when none).
  const std::string& close_reason() const noexcept;
  // The selected subprotocol (Sec-WebSocket-Protocol), empty when none.
  const std::string& subprotocol() const noexcept;
  // permessage-deflate was negotiated.
  bool compressed() const noexcept;
  // The handshake request (headers, path parameters, query), valid as long as this object.
  const http::Request& request() const noexcept;

 private:
  std::shared_ptr<detail::WebSocketSession> session_;
};

// What app.websocket() stores: the handler with the handshake request.
using WebSocketHandler = std::function<Task<void>(WebSocket&, const http::Request&)>;

namespace detail {
template <class F>
inline constexpr bool kWebSocketHandlerArgsMismatch = false;

template <class F>
WebSocketHandler make_websocket_handler(F f) {
  if constexpr (std::is_invocable_r_v<Task<void>, const F&, WebSocket&, const http::Request&>) {
    return WebSocketHandler(std::move(f));
  } else if constexpr (std::is_invocable_r_v<Task<void>, const F&, WebSocket&>) {
    return [f = std::move(f)](WebSocket& ws, const http::Request&) { return f(ws); };
  } else {
    static_assert(kWebSocketHandlerArgsMismatch<F>,
                  "app.websocket(): the handler must be callable as serval::Task<void>(serval::WebSocket&) or "
                  "serval::Task<void>(serval::WebSocket&, const serval::http::Request&), and not be a mutable lambda");
    return {};
  }
}
}  // namespace detail

// The Sec-WebSocket-Accept answer to a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455's GUID)).
std::string websocket_accept_key(std::string_view key);

}  // namespace serval
