#include "serval/http/connection.hpp"

#include <charconv>
#include <cstring>
#include <ctime>

#include "serval/net/event_loop.hpp"
#include "serval/observe/log.hpp"

namespace serval::http {

namespace {
constexpr std::size_t kInitialInput = 8 * 1024;

bool has_no_body(int status) { return status < 200 || status == 204 || status == 304; }

// Header names and values come from handlers; strip CR/LF so nothing can split the response.
void append_clean(std::string& out, std::string_view s) {
  for (char c : s)
    if (c != '\r' && c != '\n') out.push_back(c);
}

void append_uint(std::string& out, std::size_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
}  // namespace

std::string_view http_date() noexcept {
  thread_local std::time_t cached_second = 0;
  thread_local char cached[40];
  thread_local std::size_t cached_len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    cached_len = std::strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {cached, cached_len};
}

struct WritableAwaiter {
  Connection* conn;
  bool await_ready() const noexcept { return conn->closed_ || conn->unsent_bytes() < conn->options_.stream_high_water; }
  void await_suspend(std::coroutine_handle<> h) noexcept { conn->writable_waiter_ = h; }
  void await_resume() const noexcept {}
};

Connection::Connection(Dispatcher& dispatcher, const ConnectionOptions& options)
    : dispatcher_(dispatcher), options_(options), parser_(options.parser) {}

Connection::~Connection() = default;

char* Connection::input_space(std::size_t min_free) {
  if (in_.size() - in_len_ < min_free) {
    // Move the unconsumed bytes to the front before growing; the parser keeps offsets relative to
    // the request start, so a move is safe between parse() calls. Never while a handler holds views.
    if (in_start_ > 0 && !busy_) {
      std::memmove(in_.data(), in_.data() + in_start_, in_len_ - in_start_);
      in_len_ -= in_start_;
      in_start_ = 0;
    }
    if (in_.size() - in_len_ < min_free) in_.resize(std::max(in_.size() * 2, std::max(kInitialInput, in_len_ + min_free)));
  }
  return in_.data() + in_len_;
}

void Connection::process() {
  auto self = shared_from_this();  // a handler may drop the last other reference
  if (upgraded_) {
    if (in_len_ > in_start_ && !closed_) {
      std::size_t used = upgraded_->on_data({in_.data() + in_start_, in_len_ - in_start_});
      in_start_ += std::min(used, in_len_ - in_start_);
      if (in_start_ == in_len_) in_start_ = in_len_ = 0;
    }
    flush();
    return;
  }
  while (!busy_ && !closed_ && !close_after_ && in_start_ < in_len_) {
    std::span<char> buf(in_.data() + in_start_, in_len_ - in_start_);
    ParseStatus st = parser_.parse(buf);
    if (st == ParseStatus::kNeedMore) break;
    if (st == ParseStatus::kHeadComplete) {
      if (parser_.expects_continue()) out_ += "HTTP/1.1 100 Continue\r\n\r\n";
      continue;
    }
    if (st == ParseStatus::kError) {
      fail(parser_.error_status(), parser_.error_message());
      return;
    }
    handle_request();
  }
  if (!busy_ && in_start_ == in_len_) in_start_ = in_len_ = 0;
  flush();
}

void Connection::handle_request() {
  busy_ = true;
  scope_.reset();
  CancelScope::Enter enter(&scope_);
  Request& req = parser_.request();
  req.remote_address = remote_address_;
  keep_alive_ = req.keep_alive;
  head_request_ = req.method == Method::kHead;
  version_minor_ = req.version_minor;
  HandlerOutcome outcome;
  try {
    outcome = dispatcher_.dispatch(req);
  } catch (const std::exception& e) {
    log::error("dispatch failed: ", e.what());
    outcome = Response::error(500, "Internal Server Error");
  }
  if (auto* ready = std::get_if<Response>(&outcome)) {
    finish(std::move(*ready));
    return;
  }
  task_active_ = true;
  auto root = spawn(std::move(std::get<Task<Response>>(outcome)), [self = shared_from_this()](Result<Response> r) {
    self->task_active_ = false;
    self->root_ = {};
    if (self->closed_) return;
    if (r.ok()) {
      self->finish(std::move(r.value()));
    } else {
      log::error("handler task failed without a response");
      self->finish(Response::error(500, "Internal Server Error"));
    }
    self->flush();
    if (!self->busy_) self->process();
  });
  if (task_active_) root_ = root.handle;  // still waiting: remember it so a disconnect can cancel it
}

void Connection::write_head(const Response& r, bool chunked, bool keep_alive) {
  out_ += "HTTP/1.1 ";
  append_uint(out_, static_cast<std::size_t>(r.status));
  out_.push_back(' ');
  out_ += reason_phrase(r.status);
  out_ += "\r\nServer: serval\r\nDate: ";
  out_ += http_date();
  out_ += "\r\n";
  if (!has_no_body(r.status)) {
    out_ += "Content-Type: ";
    append_clean(out_, r.content_type);
    out_ += "\r\n";
    if (chunked) {
      out_ += "Transfer-Encoding: chunked\r\n";
    } else if (!r.stream) {
      out_ += "Content-Length: ";
      append_uint(out_, r.body.size());
      out_ += "\r\n";
    }
  }
  if (!keep_alive) {
    out_ += "Connection: close\r\n";
  } else if (version_minor_ == 0) {
    out_ += "Connection: keep-alive\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    append_clean(out_, name);
    out_ += ": ";
    append_clean(out_, value);
    out_ += "\r\n";
  }
  out_ += "\r\n";
}

void Connection::run_on_sent(Response& r) {
  for (auto& fn : r.on_sent) {
    try {
      fn();
    } catch (const std::exception& e) {
      log::error("on_sent callback failed: ", e.what());
    }
  }
  r.on_sent.clear();
}

void Connection::write(std::string_view bytes) {
  if (closed_) return;
  out_ += bytes;
  flush();
}

void Connection::close_after_flush() {
  close_after_ = true;
  busy_ = false;
  flush();
}

void Connection::finish(Response&& r) {
  if (r.status == 101 && r.upgrade && draining_) {
    // No new long-lived sessions while shutting down: say so instead of a 101 that never upgrades.
    r = Response::error(503, "Server is shutting down");
    r.headers.emplace_back("Retry-After", "1");
  }
  if (r.status == 101 && r.upgrade) {
    // Switching protocols: the head goes out, then the bytes belong to the new protocol.
    write_head(r, false, true);
    in_start_ += parser_.consumed();
    parser_.reset();
    busy_ = false;
    upgraded_ = std::move(r.upgrade);
    upgraded_->start(*this);
    run_on_sent(r);
    if (in_start_ < in_len_ && !closed_) {
      std::size_t used = upgraded_->on_data({in_.data() + in_start_, in_len_ - in_start_});
      in_start_ += std::min(used, in_len_ - in_start_);
    }
    if (in_start_ == in_len_) in_start_ = in_len_ = 0;
    flush();
    return;
  }
  bool keep_alive = keep_alive_ && !close_after_ && !draining_;
  if (r.stream && !head_request_ && !has_no_body(r.status)) {
    // HTTP/1.0 has no chunked encoding: the body ends when the connection does.
    bool chunked = version_minor_ >= 1;
    if (!chunked) keep_alive = false;
    keep_alive_ = keep_alive;
    write_head(r, chunked, keep_alive);
    flush();
    run_on_sent(r);
    auto stream = std::move(*r.stream);
    CancelScope::Enter enter(&scope_);
    pump_active_ = true;
    auto root = pump(shared_from_this(), std::move(stream));
    if (pump_active_) root_ = root.handle;
    return;
  }
  keep_alive_ = keep_alive;
  write_head(r, false, keep_alive);
  if (!head_request_ && !has_no_body(r.status)) out_ += r.body;
  request_done();
  if (!r.on_sent.empty()) {
    flush();
    run_on_sent(r);
  }
}

detail::Detached Connection::pump(std::shared_ptr<Connection> self, AsyncGenerator<std::string> stream) {
  bool chunked = version_minor_ >= 1;
  struct Finished {  // runs on every way out, including destruction on cancel
    Connection* c;
    ~Finished() {
      if (c == nullptr) return;
      c->pump_active_ = false;
      c->root_ = {};
    }
  } finished{this};
  try {
    while (true) {
      std::optional<std::string> chunk = co_await stream.next();
      if (closed_) co_return;
      if (!chunk) break;
      if (chunk->empty()) continue;
      if (chunked) {
        char size[20];
        auto res = std::to_chars(size, size + sizeof size, chunk->size(), 16);
        out_.append(size, res.ptr).append("\r\n").append(*chunk).append("\r\n");
      } else {
        out_ += *chunk;
      }
      flush();
      co_await WritableAwaiter{this};
      if (closed_) co_return;
    }
  } catch (const std::exception& e) {
    // Headers are gone already: the only honest signal left is to cut the stream short.
    log::error("stream producer failed: ", e.what());
    close();
    co_return;
  }
  if (chunked) out_ += "0\r\n\r\n";
  finished.c = nullptr;  // from here a pipelined request may start its own task
  pump_active_ = false;
  root_ = {};
  request_done();
  flush();
  if (!busy_ && !closed_) process();
  (void)self;
}

void Connection::request_done() {
  in_start_ += parser_.consumed();
  parser_.reset();
  busy_ = false;
  if (!keep_alive_ || draining_) close_after_ = true;
  if (in_start_ == in_len_) in_start_ = in_len_ = 0;
  on_activity();
}

void Connection::flush() {
  while (!closed_ && out_sent_ < out_.size()) {
    std::size_t n = write_some(out_.data() + out_sent_, out_.size() - out_sent_);
    if (n == 0) break;
    out_sent_ += n;
  }
  if (closed_) return;
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
    if (close_after_ && !busy_) close();
  }
}

void Connection::on_writable() {
  flush();
  if (upgraded_ && !closed_) upgraded_->on_writable();
  if (writable_waiter_ && (closed_ || unsent_bytes() < options_.stream_high_water)) {
    CancelScope::Enter enter(&scope_);
    std::exchange(writable_waiter_, {}).resume();
  }
}

void Connection::cancel_in_flight() {
  if (!root_) return;
  scope_.cancel();  // unhook the timer or queue entry the chain is suspended in
  // Destroy the suspended chain from the loop, not from inside whatever called close(): the chain
  // may be the caller. If it finished in the meantime, root_ was cleared and nothing happens.
  auto destroy = [self = shared_from_this()] {
    if (auto h = std::exchange(self->root_, {})) h.destroy();
  };
  if (auto* loop = net::EventLoop::current()) {
    loop->post(std::move(destroy));
  } else {
    destroy();
  }
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  close_transport();
  if (upgraded_) {
    auto protocol = std::move(upgraded_);
    protocol->on_closed();
  }
  if (writable_waiter_) {
    std::exchange(writable_waiter_, {}).resume();  // the pump sees closed_ and ends
  } else if (busy_) {
    cancel_in_flight();
  }
}

void Connection::close_when_idle() {
  draining_ = true;
  if (upgraded_) {  // the protocol decides how to end (a WebSocket sends close 1001)
    upgraded_->on_shutdown();
    return;
  }
  if (!busy_ && !has_partial_request() && unsent_bytes() == 0) close();
}

void Connection::fail(int status, std::string_view detail) {
  if (closed_) return;
  keep_alive_ = false;
  close_after_ = true;
  version_minor_ = 1;
  head_request_ = false;
  Response r = Response::error(status, detail);
  write_head(r, false, false);
  out_ += r.body;
  busy_ = false;
  flush();
}

}  // namespace serval::http
