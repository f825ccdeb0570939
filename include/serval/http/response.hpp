// Response: what a handler answers — status, headers, and a body that is either a string or a
// stream of chunks produced by an AsyncGenerator (sent with chunked transfer-encoding).
//
//   return serval::http::Response::json(201, R"({"id":1})").with_header("Location", "/items/1");
//   return serval::http::Response::error(404, "Item not found");   // {"detail":"Item not found"}
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serval/async/generator.hpp"

namespace serval::http {

// The connection as seen by a protocol that took it over after "101 Switching Protocols".
class UpgradeIo {
 public:
  virtual ~UpgradeIo() = default;
  virtual void write(std::string_view bytes) = 0;          // queued and flushed as the socket allows
  virtual std::size_t unsent_bytes() const noexcept = 0;   // for back-pressure
  virtual void close_after_flush() = 0;                    // close once everything queued is sent
  virtual void abort() = 0;                                // close now
};

// A protocol that takes over a connection (WebSocket). Runs on the connection's event loop.
class UpgradedProtocol {
 public:
  virtual ~UpgradedProtocol() = default;
  // The 101 head is queued; `io` stays valid until on_closed().
  virtual void start(UpgradeIo& io) = 0;
  // Bytes from the peer; returns how many were consumed (the rest is offered again with more).
  virtual std::size_t on_data(std::string_view data) = 0;
  // The transport can take more bytes again.
  virtual void on_writable() {}
  // The server is draining: say goodbye (a WebSocket sends close 1001) and close soon.
  virtual void on_shutdown() {}
  // The connection is gone (peer closed, error, shutdown). Called once.
  virtual void on_closed() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed chunk by chunk (and `body` is ignored).
  std::optional<AsyncGenerator<std::string>> stream;
  // With status 101: the protocol that takes the connection over once the head is sent.
  std::shared_ptr<UpgradedProtocol> upgrade;
  // Run once the response has been handed to the socket (background tasks are submitted here).
  std::vector<std::function<void()>> on_sent;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // FastAPI's error shape: {"detail": "<detail>"}.
  static Response error(int status, std::string_view detail);
  static Response streaming(AsyncGenerator<std::string> chunks, std::string content_type);

  Response& with_header(std::string name, std::string value) & {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Response&& with_header(std::string name, std::string value) && {
    headers.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }
  std::string_view header(std::string_view name) const noexcept;
};

// The standard reason phrase for a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status) noexcept;

}  // namespace serval::http
