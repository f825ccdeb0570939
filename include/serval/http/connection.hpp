// Connection: the HTTP/1.1 protocol state machine of one client connection, independent of how
// bytes move. The socket transport (net/socket_connection) and the in-process TestClient both drive
// this same class, so tests exercise exactly the code that serves traffic.
//
// Requests are handled one at a time in arrival order: a pipelined request is parsed only after
// the previous response has been queued, which keeps responses in request order for free.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "serval/async/cancel.hpp"
#include "serval/async/task.hpp"
#include "serval/http/parser.hpp"
#include "serval/http/request.hpp"
#include "serval/http/response.hpp"

namespace serval::http {

// What a dispatcher gives back for a request: a response now, or a task that will produce one.
using HandlerOutcome = std::variant<Response, Task<Response>>;

// The application side of a connection (serval::App implements it).
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual HandlerOutcome dispatch(Request& request) = 0;
};

struct ConnectionOptions {
  ParserLimits parser;
  std::size_t stream_high_water = 256 * 1024;  // pause a streaming producer above this many unsent bytes
};

class Connection : public std::enable_shared_from_this<Connection>, private UpgradeIo {
 public:
  Connection(Dispatcher& dispatcher, const ConnectionOptions& options);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Parses and handles every complete request in the input buffer, then flushes.
  void process();

  // Ask the connection to close once the response in flight (if any) is sent; closes now if idle.
  void close_when_idle();

  bool closed() const noexcept { return closed_; }
  bool upgraded() const noexcept { return static_cast<bool>(upgraded_); }
  bool busy() const noexcept { return busy_; }
  // True when bytes of an unfinished request are buffered (used for the read timeout).
  bool has_partial_request() const noexcept { return !upgraded_ && in_len_ > in_start_; }
  std::size_t unsent_bytes() const noexcept override { return out_.size() - out_sent_; }

  // The peer's address, copied into every request's remote_address.
  void set_remote_address(std::string address) { remote_address_ = std::move(address); }

  // Answers `status` with a JSON error body and closes (timeouts, overload).
  void fail(int status, std::string_view detail);

 protected:
  // Transport hooks. write_some sends from out_ and returns bytes accepted (0 when it would block).
  virtual std::size_t write_some(const char* data, std::size_t len) = 0;
  virtual void close_transport() = 0;
  // Called when a request completes or the connection becomes idle (for timeouts).
  virtual void on_activity() {}

  // The transport reads into the buffer returned here, then calls commit_input(n).
  char* input_space(std::size_t min_free);
  std::size_t input_free() const noexcept { return in_.size() - in_len_; }
  void commit_input(std::size_t n) noexcept { in_len_ += n; }
  bool wants_input() const noexcept { return !busy_ && !closed_; }

  // Sends what it can of out_; closes when a close was requested and everything is out.
  void flush();
  // The transport calls this when the peer can take more bytes again.
  void on_writable();
  void close();

  std::string out_;
  std::size_t out_sent_ = 0;

 private:
  void handle_request();
  void finish(Response&& response);
  void write_head(const Response& response, bool chunked, bool keep_alive);
  void write_body(Response&& response);
  detail::Detached pump(std::shared_ptr<Connection> self, AsyncGenerator<std::string> stream);
  void request_done();
  void run_on_sent(Response& response);
  // UpgradeIo, for the protocol that took the connection over.
  void write(std::string_view bytes) override;
  void close_after_flush() override;
  void abort() override { close(); }

  std::shared_ptr<UpgradedProtocol> upgraded_;
  std::string remote_address_;

  Dispatcher& dispatcher_;
  const ConnectionOptions& options_;
  RequestParser parser_;

  std::vector<char> in_;
  std::size_t in_start_ = 0;  // first byte of the current request
  std::size_t in_len_ = 0;    // bytes held

  bool busy_ = false;          // a request is being handled; later pipelined ones wait
  bool closed_ = false;
  bool close_after_ = false;   // close once out_ is flushed
  bool draining_ = false;      // server shutting down: finish the request in progress, then close
  bool keep_alive_ = true;     // of the request in flight
  bool head_request_ = false;
  int version_minor_ = 1;

  // Cancellation: the handler task or stream pump in flight, destroyed if the client leaves.
  CancelScope scope_;
  std::coroutine_handle<> root_;
  bool task_active_ = false;
  bool pump_active_ = false;
  void cancel_in_flight();

  // A streaming producer waiting for out_ to drain below the high-water mark.
  std::coroutine_handle<> writable_waiter_;
  friend struct WritableAwaiter;
};

// "Sun, 22 Nov 2026 03:05:32 GMT", recomputed at most once per second per thread.
std::string_view http_date() noexcept;

}  // namespace serval::http
