// Server: N event loops (one per core by default), each with its own SO_REUSEPORT listener, serving
// HTTP/1.1 connections to a Dispatcher. SIGTERM/SIGINT (or stop()) drains: stop accepting, let
// requests in progress finish, close idle connections, and return within the drain deadline.
//
//   serval::net::Server server{options, app};
//   server.start();                 // binds; throws std::runtime_error with a readable message
//   return server.wait();           // until a signal or stop(); then drains
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "serval/http/connection.hpp"
#include "serval/http/parser.hpp"

namespace serval::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                       // 0 picks a free port; see Server::port()
  int threads = 0;                       // event loops; 0 = one per core
  std::size_t max_connections = 10000;   // beyond: answer 503 and close, others unharmed
  http::ParserLimits limits;             // request line, headers, body sizes
  std::chrono::milliseconds read_timeout{30000};       // a started request must arrive within this (408)
  std::chrono::milliseconds keep_alive_timeout{5000};  // idle keep-alive connections close after this
  std::chrono::milliseconds drain_timeout{10000};      // shutdown waits this long for requests in progress
  int backlog = 4096;
  bool handle_signals = true;            // SIGTERM/SIGINT start a drain
  bool announce = true;                  // print "serval: listening on ..." to stderr
};

class Server {
 public:
  Server(ServerOptions options, http::Dispatcher& dispatcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  int port() const noexcept { return port_; }
  int threads() const noexcept { return static_cast<int>(workers_.size()); }
  std::size_t connections() const noexcept { return active_.load(std::memory_order_relaxed); }

  // Blocks until a signal or stop(), drains, joins the loops. Returns 0 on a clean drain.
  int wait();
  void stop() noexcept;  // thread-safe, async-signal-safe enough: sets a flag

  struct Worker;

 private:
  ServerOptions options_;
  http::Dispatcher& dispatcher_;
  http::ConnectionOptions conn_options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  int port_ = 0;
  std::atomic<std::size_t> active_{0};
  std::atomic<bool> stop_requested_{false};
  bool started_ = false;
  bool signals_blocked_ = false;

  friend class SocketConnection;
  friend class Listener;
};

}  // namespace serval::net
