#include "serval/net/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "serval/net/event_loop.hpp"
#include "serval/observe/log.hpp"

namespace serval::net {

class SocketConnection;

// Accepts on one worker's listening socket.
class Listener final : public IoHandler {
 public:
  Listener(Server& server, Server::Worker& worker) : server_(server), worker_(worker) {}
  void on_io(std::uint32_t events) override;

 private:
  Server& server_;
  Server::Worker& worker_;
};

struct Server::Worker {
  EventLoop loop;
  int listen_fd = -1;
  std::unique_ptr<Listener> listener;
  std::unordered_map<SocketConnection*, std::shared_ptr<SocketConnection>> connections;
  std::thread thread;
  bool draining = false;
  std::atomic<bool> finished{false};
};

class SocketConnection final : public http::Connection, public IoHandler {
 public:
  SocketConnection(Server& server, Server::Worker& worker, int fd)
      : http::Connection(server.dispatcher_, server.conn_options_), server_(server), worker_(worker), fd_(fd) {
    idle_deadline_ = worker_.loop.now() + server_.options_.keep_alive_timeout;
  }
  ~SocketConnection() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void on_io(std::uint32_t events) override {
    auto self = shared_from_this();
    if (events & (EPOLLERR | EPOLLHUP)) {
      close();
      return;
    }
    if ((events & EPOLLRDHUP) && busy()) {
      // The client left while its request is being handled or streamed: cancel the work now.
      close();
      return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP)) on_readable();
    if (!closed() && (events & EPOLLOUT)) on_writable();
  }

  void on_readable() {
    read_pending_ = false;
    while (!closed()) {
      if (!wants_input()) {
        read_pending_ = true;  // edge-triggered: remember to read once the handler is done
        return;
      }
      bool was_empty = !has_partial_request();
      char* space = input_space(16 * 1024);
      ssize_t n = ::recv(fd_, space, input_free(), 0);
      if (n > 0) {
        commit_input(static_cast<std::size_t>(n));
        if (was_empty) request_deadline_ = worker_.loop.now() + server_.options_.read_timeout;
        process();
        continue;
      }
      if (n == 0) {  // the peer is gone; nothing can be delivered any more
        peer_eof_ = true;
        close();
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) close();
      return;
    }
  }

  // Called by the sweep timer: enforce the read and keep-alive timeouts.
  void check_timeouts(Clock::time_point now) {
    if (closed() || busy() || upgraded()) return;  // an upgraded protocol keeps its own timers
    if (has_partial_request()) {
      if (now > request_deadline_) fail(408, "Request timed out");
    } else if (unsent_bytes() == 0 && now > idle_deadline_) {
      close();
    }
  }

  void start_drain() { close_when_idle(); }

 protected:
  std::size_t write_some(const char* data, std::size_t len) override {
    while (true) {
      ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) close();
      return 0;
    }
  }

  void close_transport() override {
    if (fd_ < 0) return;
    ::close(fd_);  // also removes it from epoll
    fd_ = -1;
    server_.active_.fetch_sub(1, std::memory_order_relaxed);
    // Erase later: we may be inside one of this object's own methods.
    Server::Worker* w = &worker_;
    SocketConnection* key = this;
    worker_.loop.post([w, key] {
      w->connections.erase(key);
      if (w->draining && w->connections.empty()) w->loop.stop();
    });
  }

  void on_activity() override {
    idle_deadline_ = worker_.loop.now() + server_.options_.keep_alive_timeout;
    if (peer_eof_ && !busy()) {
      flush();
      close();
      return;
    }
    if (read_pending_) {
      auto self = std::static_pointer_cast<SocketConnection>(shared_from_this());
      worker_.loop.post([self] { self->on_readable(); });
    }
  }

 private:
  Server& server_;
  Server::Worker& worker_;
  int fd_;
  bool read_pending_ = false;
  bool peer_eof_ = false;
  Clock::time_point request_deadline_{};
  Clock::time_point idle_deadline_{};
};

namespace {
constexpr std::string_view kOverloaded =
    "HTTP/1.1 503 Service Unavailable\r\nServer: serval\r\nContent-Type: application/json\r\n"
    "Content-Length: 46\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    "{\"detail\":\"Too many connections, retry later\"}";

int bind_listener(const std::string& host, int port, int backlog) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res); rc != 0)
    throw std::runtime_error("cannot resolve host '" + host + "': " + ::gai_strerror(rc));
  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) break;
    last_error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + last_error);
  return fd;
}

int bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}
}  // namespace

void Listener::on_io(std::uint32_t) {
  if (worker_.draining) return;
  while (true) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    int fd = ::accept4(worker_.listen_fd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) log::warning("accept: out of file descriptors");
      return;  // EAGAIN: accepted everything
    }
    if (server_.active_.load(std::memory_order_relaxed) >= server_.options_.max_connections) {
      // Shed the newcomer with an answer it can act on; the connections we hold are unharmed.
      [[maybe_unused]] auto n = ::send(fd, kOverloaded.data(), kOverloaded.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    server_.active_.fetch_add(1, std::memory_order_relaxed);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_shared<SocketConnection>(server_, worker_, fd);
    char addr[INET6_ADDRSTRLEN] = {0};
    if (peer.ss_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, addr, sizeof addr);
    else if (peer.ss_family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, addr, sizeof addr);
    conn->set_remote_address(addr);
    SocketConnection* key = conn.get();
    worker_.connections.emplace(key, std::move(conn));
    worker_.loop.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, key);
  }
}

Server::Server(ServerOptions options, http::Dispatcher& dispatcher)
    : options_(std::move(options)), dispatcher_(dispatcher) {
  conn_options_.parser = options_.limits;
}

Server::~Server() {
  if (started_) {
    stop();
    for (auto& w : workers_) {
      w->loop.stop();
      if (w->thread.joinable()) w->thread.join();
    }
  }
  if (signals_blocked_) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
}

void Server::start() {
  if (started_) return;
  ::signal(SIGPIPE, SIG_IGN);
  if (options_.handle_signals) {
    // Block before the loop threads exist so they inherit the mask; wait() takes the signals.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signals_blocked_ = true;
  }
  int n = options_.threads > 0 ? options_.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int port = options_.port;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->listen_fd = bind_listener(options_.host, port, options_.backlog);
    if (i == 0) port = bound_port(w->listen_fd);  // port 0: the others join the port the first got
    w->listener = std::make_unique<Listener>(*this, *w);
    w->loop.add(w->listen_fd, EPOLLIN, w->listener.get());
    workers_.push_back(std::move(w));
  }
  port_ = port;
  for (auto& w : workers_) {
    Worker* wp = w.get();
    // Sweep timeouts a few times a second rather than keeping a timer per connection.
    auto sweep_ptr = std::make_shared<std::function<void()>>();
    *sweep_ptr = [wp, sweep_ptr_weak = std::weak_ptr<std::function<void()>>(sweep_ptr)] {
      auto now = wp->loop.now();
      std::vector<std::shared_ptr<SocketConnection>> conns;
      conns.reserve(wp->connections.size());
      for (auto& [k, c] : wp->connections) conns.push_back(c);
      for (auto& c : conns) c->check_timeouts(now);
      if (auto next = sweep_ptr_weak.lock()) wp->loop.add_timer(std::chrono::milliseconds(100), [next] { (*next)(); });
    };
    wp->thread = std::thread([wp, sweep_ptr] {
      wp->loop.add_timer(std::chrono::milliseconds(100), [sweep_ptr] { (*sweep_ptr)(); });
      wp->loop.run();
      wp->finished.store(true, std::memory_order_release);
    });
  }
  started_ = true;
  if (options_.announce) {
    std::string line = "serval: listening on http://" + options_.host + ":" + std::to_string(port_) + " (" +
                       std::to_string(workers_.size()) + " threads)\n";
    [[maybe_unused]] auto w = ::write(2, line.data(), line.size());
  }
}

void Server::stop() noexcept { stop_requested_.store(true, std::memory_order_release); }

int Server::wait() {
  if (!started_) start();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  timespec tick{0, 50 * 1000 * 1000};
  while (!stop_requested_.load(std::memory_order_acquire)) {
    if (options_.handle_signals) {
      int sig = ::sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  // Drain: stop accepting everywhere, close idle connections, let the rest finish.
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->loop.post([wp] {
      wp->draining = true;
      wp->loop.remove(wp->listen_fd);
      ::close(wp->listen_fd);
      wp->listen_fd = -1;
      std::vector<std::shared_ptr<SocketConnection>> conns;
      for (auto& [k, c] : wp->connections) conns.push_back(c);
      for (auto& c : conns) c->start_drain();
      if (wp->connections.empty()) wp->loop.stop();
    });
  }
  auto deadline = Clock::now() + options_.drain_timeout;
  bool clean = true;
  for (auto& w : workers_) {
    while (!w->finished.load(std::memory_order_acquire) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!w->finished.load(std::memory_order_acquire)) {
      clean = false;
      w->loop.stop();
    }
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  for (auto& w : workers_) w->connections.clear();
  started_ = false;
  if (!clean) log::warning("drain deadline passed with requests still in progress; they were cut");
  if (options_.announce) {
    constexpr std::string_view kDrained = "serval: drained\n";
    [[maybe_unused]] auto n = ::write(2, kDrained.data(), kDrained.size());
  }
  return 0;
}

}  // namespace serval::net
