// The server side of a WebSocket: the handshake (a route handler answering 101) and the session
// that takes the connection over (http::UpgradedProtocol) and runs the user's handler coroutine.
//
// Ownership: the connection holds a WebSocketProtocol, which holds the session; the handler
// coroutine holds the session until the handler returns. Timers hold weak references. `io_` (the
// connection) is valid until on_closed(). A connection destroyed without closing (a server cut
// short at exit, a test dropping its connection) still ends the session: the protocol's destructor
// reports the close, so a handler waiting in receive() finishes instead of leaking.
//
// Re-entrancy: user code runs inside the session's callbacks (a resumed handler sends, closes...)
// and the connection may close inside a write. Waiting coroutines are therefore resumed only when
// the outermost call into the session returns — directly for calls from the connection, through
// the event loop for calls from user code — never in the middle of the session's own bookkeeping.
#include "serval/app/websocket.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <stdexcept>
#include <utility>

#include "serval/app/app.hpp"
#include "serval/http/websocket_frame.hpp"
#include "serval/net/event_loop.hpp"
#include "serval/observe/log.hpp"

namespace serval {

namespace ws = http::websocket;

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Our compressor's window and memory level: 12/5 hold ~40 KiB per connection instead of ~260 KiB
// for 15/8, at a small cost in ratio. The peer decodes any window up to 15 bits.
constexpr int kDeflateWindowBits = 12;
constexpr int kDeflateMemLevel = 5;
// Scratch buffers above this are released after use rather than kept for the connection's life.
constexpr std::size_t kKeepBuffer = 64 * 1024;

std::string base64_encode(const unsigned char* data, std::size_t n) {
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(kBase64[(v >> 6) & 63]);
    out.push_back(kBase64[v & 63]);
  }
  if (n - i == 1) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16;
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out += "==";
  } else if (n - i == 2) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(kBase64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict base64 (padded, no whitespace); the number of decoded bytes, or -1.
int base64_decoded_size(std::string_view s) noexcept {
  if (s.empty() || s.size() % 4 != 0) return -1;
  std::size_t pad = 0;
  if (s.back() == '=') ++pad;
  if (s.size() >= 2 && s[s.size() - 2] == '=') ++pad;
  for (std::size_t i = 0; i < s.size() - pad; ++i)
    if (base64_value(s[i]) < 0) return -1;
  // The bits that padding drops must be zero (canonical encoding).
  if (pad == 1 && (base64_value(s[s.size() - 2]) & 0x3) != 0) return -1;
  if (pad == 2 && (base64_value(s[s.size() - 3]) & 0xF) != 0) return -1;
  return static_cast<int>(s.size() / 4 * 3 - pad);
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(item) for each comma-separated item of every `name` header, trimmed, empty ones skipped.
template <class F>
void for_each_list_item(const http::Request& req, std::string_view name, F fn) {
  for (const auto& h : req.headers) {
    if (!http::iequals(h.name, name)) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      std::size_t comma = v.find(',');
      std::string_view item = trim(v.substr(0, comma));
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      if (!item.empty()) fn(item);
    }
  }
}

bool has_token(const http::Request& req, std::string_view name, std::string_view token) {
  bool found = false;
  for_each_list_item(req, name, [&](std::string_view item) { found = found || http::iequals(item, token); });
  return found;
}

void release_if_large(std::string& s) {
  if (s.capacity() > kKeepBuffer) std::string().swap(s);
}

}  // namespace

std::string websocket_accept_key(std::string_view key) {
  std::string input(key);
  input += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 unavailable");
  return base64_encode(digest, len);
}

namespace detail {

// What the handshake agreed on.
struct WebSocketTerms {
  std::string subprotocol;
  bool deflate = false;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0;  // 0: the client set no limit on our window
  std::string extensions;          // the Sec-WebSocket-Extensions answer
};

struct WebSocketRoute {
  WebSocketHandler handler;
  WebSocketOptions options;
  std::string path;
};

namespace {

// One permessage-deflate offer: `permessage-deflate; client_max_window_bits; server_no_context_takeover`.
// Returns false for offers we decline (unknown or repeated parameters, bad values, a window of 8 bits).
bool accept_deflate_offer(std::string_view offer, const WebSocketOptions& options, WebSocketTerms& terms) {
  std::string_view rest = offer;
  std::size_t semi = rest.find(';');
  if (!http::iequals(trim(rest.substr(0, semi)), "permessage-deflate")) return false;
  bool server_nct = false, client_nct = false, client_bits = false;
  int server_bits = 0;
  while (semi != std::string_view::npos) {
    rest = rest.substr(semi + 1);
    semi = rest.find(';');
    std::string_view param = trim(rest.substr(0, semi));
    std::string_view name = param, value;
    bool has_value = false;
    if (auto eq = param.find('='); eq != std::string_view::npos) {
      name = trim(param.substr(0, eq));
      value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      has_value = true;
    }
    auto bits = [&](int& out) {
      if (value.size() < 1 || value.size() > 2) return false;
      int v = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
      }
      if (v < 8 || v > 15) return false;
      out = v;
      return true;
    };
    if (http::iequals(name, "server_no_context_takeover")) {
      if (server_nct || has_value) return false;
      server_nct = true;
    } else if (http::iequals(name, "client_no_context_takeover")) {
      if (client_nct || has_value) return false;
      client_nct = true;
    } else if (http::iequals(name, "server_max_window_bits")) {
      if (server_bits != 0 || !has_value || !bits(server_bits)) return false;
      // zlib's raw deflate cannot keep to a 256-byte window: decline rather than break the limit.
      if (server_bits == 8) return false;
    } else if (http::iequals(name, "client_max_window_bits")) {
      int ignored = 0;
      if (client_bits || (has_value && !bits(ignored))) return false;
      client_bits = true;  // a hint that the client can limit its window; we take any window
    } else {
      return false;
    }
  }
  terms.deflate = true;
  terms.server_no_context_takeover = server_nct || options.deflate_no_context_takeover;
  terms.client_no_context_takeover = client_nct;
  terms.server_max_window_bits = server_bits;
  terms.extensions = "permessage-deflate";
  if (terms.server_no_context_takeover) terms.extensions += "; server_no_context_takeover";
  if (client_nct) terms.extensions += "; client_no_context_takeover";
  if (server_bits != 0) terms.extensions += "; server_max_window_bits=" + std::to_string(server_bits);
  return true;
}

// A copy of the handshake request that outlives the connection's read buffer.
class OwnedRequest {
 public:
  explicit OwnedRequest(const http::Request& r) {
    std::size_t total = r.method_name.size() + r.target.size() + r.route.size() + r.remote_address.size();
    for (const auto& h : r.headers) total += h.name.size() + h.value.size();
    for (const auto& [n, v] : r.path_params) total += n.size() + v.size();
    arena_.reserve(total);  // never reallocates below: the views stay put
    auto keep = [this](std::string_view s) -> std::string_view {
      const std::size_t at = arena_.size();
      arena_.append(s);
      return {arena_.data() + at, s.size()};
    };
    req_.method = r.method;
    req_.method_name = keep(r.method_name);
    req_.target = keep(r.target);
    // path and query are parts of the target.
    auto inside_target = [&](std::string_view part) -> std::string_view {
      if (part.empty()) return {};
      return req_.target.substr(static_cast<std::size_t>(part.data() - r.target.data()), part.size());
    };
    const auto within_target = [&](std::string_view part) {
      const std::less_equal<const char*> le;  // a total order, even for unrelated pointers
      return part.empty() ||
             (le(r.target.data(), part.data()) && le(part.data() + part.size(), r.target.data() + r.target.size()));
    };
    const bool views_in_target = !r.path.empty() && within_target(r.path) && within_target(r.query);
    if (views_in_target) {
      req_.path = inside_target(r.path);
      req_.query = inside_target(r.query);
    } else {
      path_copy_ = r.path;
      query_copy_ = r.query;
      req_.path = path_copy_;
      req_.query = query_copy_;
    }
    req_.version_minor = r.version_minor;
    req_.headers.reserve(r.headers.size());
    for (const auto& h : r.headers) req_.headers.push_back({keep(h.name), keep(h.value)});
    req_.keep_alive = r.keep_alive;
    req_.path_params.reserve(r.path_params.size());
    for (const auto& [n, v] : r.path_params) req_.path_params.emplace_back(keep(n), keep(v));
    req_.route = keep(r.route);
    req_.remote_address = keep(r.remote_address);
  }
  OwnedRequest(const OwnedRequest&) = delete;
  OwnedRequest& operator=(const OwnedRequest&) = delete;

  const http::Request& get() const noexcept { return req_; }

 private:
  std::string arena_;
  std::string path_copy_, query_copy_;
  http::Request req_;
};

}  // namespace

class WebSocketSession final : public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(std::shared_ptr<const WebSocketRoute> route, const http::Request& request, WebSocketTerms terms)
      : route_(std::move(route)), options_(route_->options), request_(request), terms_(std::move(terms)) {
    parser_limits_.expect_masked = true;
    parser_limits_.allow_rsv1 = terms_.deflate;
    // Compressed messages are bounded again after inflating; on the wire allow deflate's worst-case growth.
    const std::uint64_t max = options_.max_message_size;
    const std::uint64_t slack = terms_.deflate ? max / 64 + 1024 : 0;
    parser_limits_.max_message_size = max > UINT64_MAX - slack ? UINT64_MAX : max + slack;
    parser_.set_limits(parser_limits_);
  }

  // --- from the connection (through WebSocketProtocol) --------------------------------------------

  void start(http::UpgradeIo& io) {
    Entry entry(*this, false);
    io_ = &io;
    loop_ = net::EventLoop::current();
    last_received_ = last_ping_ = now();
    arm_keepalive();
    run(shared_from_this());
  }

  std::size_t on_data(std::string_view data) {
    Entry entry(*this, false);
    if (io_ == nullptr || discard_) return data.size();
    last_received_ = now();
    std::size_t used = 0;
    while (used < data.size() && io_ != nullptr && !discard_) {
      if (skip_ > 0) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, data.size() - used));
        skip_ -= n;
        used += n;
        continue;
      }
      if (close_received_) return data.size();  // nothing follows a close frame
      const ws::FrameStatus st = parser_.parse(data.substr(used));
      if (st == ws::FrameStatus::kNeedMore) break;
      if (st == ws::FrameStatus::kError) {
        fail(parser_.error_code(), parser_.error_reason());
        // Keep reading frames for the peer's close when we know where the bad one ends.
        skip_ = parser_.error_frame_size();
        if (skip_ == 0) discard_ = true;
        parser_.reset();
        continue;
      }
      used += parser_.consumed();
      handle_frame(parser_.frame());
    }
    if (io_ == nullptr || discard_) return data.size();
    return used;
  }

  void on_writable() { Entry entry(*this, false); }

  void on_shutdown() {
    Entry entry(*this, false);
    if (io_ == nullptr || close_sent_) return;
    if (!close_code_) close_code_ = ws::kCloseGoingAway;
    send_close(ws::kCloseGoingAway, "server shutting down");
  }

  void on_closed() {
    Entry entry(*this, false);
    if (transport_closed_) return;
    transport_closed_ = true;
    io_ = nullptr;
    cancel_timers();
    if (!close_code_) close_code_ = ws::kCloseAbnormal;
    deflater_.reset();
    inflater_.reset();
    std::string().swap(message_);
    std::string().swap(scratch_);
    std::string().swap(out_);
  }

  // --- for WebSocket ------------------------------------------------------------------------------

  bool receive_ready() const noexcept { return !queue_.empty() || !receiving(); }

  void wait_receive(std::coroutine_handle<> h) {
    if (receiver_) throw std::logic_error("WebSocket::receive() awaited by two coroutines at once");
    receiver_ = h;
  }

  std::optional<WsMessage> take_message() {
    if (queue_.empty()) return std::nullopt;
    WsMessage m = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= m.data.size();
    return m;
  }

  bool send(ws::Opcode opcode, std::string_view payload) {
    Entry entry(*this, true);
    if (!is_open()) return false;
    if (terms_.deflate && payload.size() >= options_.deflate_min_size) {
      if (!deflater_) {
        int window = terms_.server_max_window_bits != 0 ? std::min(kDeflateWindowBits, terms_.server_max_window_bits)
                                                        : kDeflateWindowBits;
        deflater_ = std::make_unique<ws::Deflater>(window, terms_.server_no_context_takeover, kDeflateMemLevel);
      }
      compressed_.clear();
      if (!deflater_->compress(payload, compressed_)) throw std::runtime_error("permessage-deflate: compression failed");
      write_frame(opcode, compressed_, true);
      release_if_large(compressed_);
    } else {
      write_frame(opcode, payload, false);
    }
    return true;
  }

  bool send_ready() const noexcept { return io_ == nullptr || io_->unsent_bytes() < options_.send_high_water; }
  void wait_send(std::coroutine_handle<> h) { send_waiters_.push_back(h); }

  void close(int code, std::string_view reason) {
    if (!ws::is_valid_close_code(code) || code == 1005 || code == 1006)
      throw std::invalid_argument("WebSocket::close(): invalid close code " + std::to_string(code));
    Entry entry(*this, true);
    if (io_ == nullptr || close_sent_) return;
    if (!close_code_) {
      close_code_ = code;
      close_reason_ = reason.substr(0, ws::kMaxCloseReason);
    }
    send_close(code, reason);
  }

  bool is_open() const noexcept { return receiving(); }
  std::optional<int> close_code() const noexcept { return close_code_; }
  const std::string& close_reason() const noexcept { return close_reason_; }
  const std::string& subprotocol() const noexcept { return terms_.subprotocol; }
  bool compressed() const noexcept { return terms_.deflate; }
  const http::Request& request() const noexcept { return request_.get(); }

 private:
  // Counts nested calls into the session; the outermost one resumes whoever can continue.
  class Entry {
   public:
    Entry(WebSocketSession& s, bool from_user) : s_(s), from_user_(from_user) {
      if (!from_user) self_ = s.shared_from_this();  // the connection may drop its reference inside
      ++s_.depth_;
    }
    ~Entry() {
      if (--s_.depth_ != 0 || !s_.needs_wake()) return;
      if (from_user_) {
        s_.post_wake();
      } else {
        s_.wake();
      }
    }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

   private:
    WebSocketSession& s_;
    std::shared_ptr<WebSocketSession> self_;
    bool from_user_;
  };

  static detail::Detached run(std::shared_ptr<WebSocketSession> self) {
    bool failed = false;
    {
      WebSocket socket(self);
      try {
        co_await self->route_->handler(socket, self->request_.get());
      } catch (const std::exception& e) {
        log::error("websocket ", self->route_->path, ": handler threw: ", e.what());
        failed = true;
      } catch (...) {
        log::error("websocket ", self->route_->path, ": handler threw a non-standard exception");
        failed = true;
      }
    }
    self->handler_done(failed);
  }

  void handler_done(bool failed) {
    Entry entry(*this, true);
    if (io_ == nullptr || close_sent_) return;
    const int code = failed ? ws::kCloseInternalError : ws::kCloseNormal;
    if (!close_code_) close_code_ = code;
    send_close(code, failed ? "internal error" : "");
  }

  net::Clock::time_point now() const noexcept { return loop_ != nullptr ? loop_->now() : net::Clock::now(); }
  bool receiving() const noexcept { return io_ != nullptr && !close_sent_ && !close_received_; }

  void handle_frame(const ws::Frame& f) {
    switch (f.opcode) {
      case ws::Opcode::kText:
      case ws::Opcode::kBinary:
      case ws::Opcode::kContinuation:
        handle_data(f);
        break;
      case ws::Opcode::kPing:
        if (close_sent_) break;  // nothing but the close reply after our close frame
        scratch_.clear();
        ws::append_unmasked(scratch_, f.payload, f.mask, f.masked);
        write_frame(ws::Opcode::kPong, scratch_, false);
        break;
      case ws::Opcode::kPong:
        break;  // any bytes already count as a sign of life
      case ws::Opcode::kClose:
        handle_close(f);
        break;
    }
  }

  void handle_data(const ws::Frame& f) {
    if (close_sent_) return;  // closing: data is dropped
    const std::size_t max = options_.max_message_size;
    if (f.opcode != ws::Opcode::kContinuation) {
      message_.clear();
      message_binary_ = f.opcode == ws::Opcode::kBinary;
      message_compressed_ = f.rsv1;
      utf8_.reset();
    }
    const std::size_t before = message_.size();
    if (message_compressed_) {
      if (!inflater_) inflater_ = std::make_unique<ws::Inflater>(terms_.client_no_context_takeover);
      scratch_.clear();
      ws::append_unmasked(scratch_, f.payload, f.mask, f.masked);
      ws::Inflater::Result r = inflater_->inflate(scratch_, message_, max);
      if (r == ws::Inflater::Result::kOk && f.fin) r = inflater_->finish(message_, max);
      release_if_large(scratch_);
      if (r == ws::Inflater::Result::kTooBig) return fail(ws::kCloseMessageTooBig, "message too big");
      if (r == ws::Inflater::Result::kError) return fail(ws::kCloseInvalidPayload, "invalid compressed data");
    } else {
      if (f.payload.size() > max - message_.size()) return fail(ws::kCloseMessageTooBig, "message too big");
      ws::append_unmasked(message_, f.payload, f.mask, f.masked);
    }
    if (!message_binary_ && !utf8_.feed(std::string_view(message_).substr(before)))
      return fail(ws::kCloseInvalidPayload, "text message is not valid UTF-8");
    if (!f.fin) return;
    if (!message_binary_ && !utf8_.complete()) return fail(ws::kCloseInvalidPayload, "text message is not valid UTF-8");
    WsMessage m;
    m.binary = message_binary_;
    m.data = std::move(message_);
    message_ = std::string();
    queued_bytes_ += m.data.size();
    queue_.push_back(std::move(m));
    if (queued_bytes_ > options_.max_queued_bytes) fail(ws::kClosePolicyViolation, "receive queue full");
  }

  void handle_close(const ws::Frame& f) {
    std::string payload;
    ws::append_unmasked(payload, f.payload, f.mask, f.masked);
    ws::ClosePayload close;
    if (int err = ws::parse_close_payload(payload, close); err != 0)
      return fail(err, err == ws::kCloseInvalidPayload ? "close reason is not valid UTF-8" : "invalid close frame");
    close_received_ = true;
    if (!close_code_) {
      close_code_ = close.code;
      close_reason_ = close.reason;
    }
    if (!close_sent_) {
      close_sent_ = true;  // echo the peer's code (RFC 6455 §5.5.1)
      out_.clear();
      ws::append_close_frame(out_, close.code, {});
      io_->write(out_);
    }
    if (io_ != nullptr) {
      arm_close_timer();  // in case the flush never completes
      io_->close_after_flush();
    }
  }

  // Fails the connection: a close frame with `code`, then only the peer's close frame matters.
  void fail(int code, std::string_view reason) {
    if (io_ == nullptr) return;
    log::debug("websocket ", route_->path, ": closing with ", code, ": ", reason);
    if (!close_code_) {
      close_code_ = code;
      close_reason_ = reason;
    }
    if (!close_sent_) send_close(code, reason);
  }

  void send_close(int code, std::string_view reason) {
    close_sent_ = true;
    out_.clear();
    ws::append_close_frame(out_, code, reason);
    io_->write(out_);
    arm_close_timer();
  }

  void write_frame(ws::Opcode opcode, std::string_view payload, bool rsv1) {
    if (io_ == nullptr) return;
    out_.clear();
    ws::append_frame(out_, opcode, payload, true, rsv1);
    io_->write(out_);
    release_if_large(out_);
  }

  // --- timers -------------------------------------------------------------------------------------

  void arm_keepalive() {
    auto tick = options_.ping_interval;
    if (options_.idle_timeout.count() > 0 && (tick.count() <= 0 || options_.idle_timeout < tick))
      tick = options_.idle_timeout;
    if (loop_ == nullptr || tick.count() <= 0 || io_ == nullptr) return;
    keepalive_timer_ = loop_->add_timer(tick, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->on_keepalive();
    });
  }

  void on_keepalive() {
    Entry entry(*this, false);
    keepalive_timer_ = 0;
    if (io_ == nullptr || close_sent_) return;
    const auto t = now();
    if (options_.idle_timeout.count() > 0 && t - last_received_ >= options_.idle_timeout) {
      if (!close_code_) {
        close_code_ = ws::kCloseInternalError;
        close_reason_ = "keepalive timeout";
      }
      send_close(ws::kCloseInternalError, "keepalive timeout");
      return;
    }
    if (options_.ping_interval.count() > 0 && t - last_ping_ >= options_.ping_interval) {
      last_ping_ = t;
      write_frame(ws::Opcode::kPing, {}, false);
    }
    arm_keepalive();
  }

  void arm_close_timer() {
    if (loop_ == nullptr || io_ == nullptr || close_timer_ != 0) return;
    close_timer_ = loop_->add_timer(options_.close_timeout, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return;
      self->close_timer_ = 0;
      if (self->io_ != nullptr) self->io_->abort();  // the peer never answered our close frame
    });
  }

  void cancel_timers() {
    if (loop_ == nullptr) return;
    if (keepalive_timer_ != 0) loop_->cancel_timer(std::exchange(keepalive_timer_, 0));
    if (close_timer_ != 0) loop_->cancel_timer(std::exchange(close_timer_, 0));
  }

  // --- waking waiters -----------------------------------------------------------------------------

  bool needs_wake() const noexcept {
    return (receiver_ && receive_ready()) || (!send_waiters_.empty() && send_ready());
  }

  void wake() {
    auto self = shared_from_this();  // a resumed handler may drop the last other reference
    if (receiver_ && receive_ready()) std::exchange(receiver_, {}).resume();
    if (!send_waiters_.empty() && send_ready()) {
      auto waiters = std::move(send_waiters_);
      send_waiters_.clear();
      for (auto h : waiters) h.resume();
    }
  }

  void post_wake() {
    if (loop_ == nullptr) {
      wake();
      return;
    }
    if (wake_posted_) return;
    wake_posted_ = true;
    loop_->post([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->wake_posted_ = false;
        self->wake();
      }
    });
  }

  std::shared_ptr<const WebSocketRoute> route_;
  const WebSocketOptions& options_;
  OwnedRequest request_;
  WebSocketTerms terms_;

  http::UpgradeIo* io_ = nullptr;
  bool transport_closed_ = false;
  net::EventLoop* loop_ = nullptr;
  int depth_ = 0;
  bool wake_posted_ = false;

  ws::FrameLimits parser_limits_;
  ws::FrameParser parser_;
  std::uint64_t skip_ = 0;   // bytes of a rejected frame still to skip
  bool discard_ = false;     // frame boundaries lost: ignore all input

  std::string message_;      // the message being reassembled
  bool message_binary_ = false;
  bool message_compressed_ = false;
  ws::Utf8Validator utf8_;
  std::string scratch_;      // an unmasked payload
  std::string compressed_;   // an outgoing message, compressed
  std::string out_;          // one outgoing frame
  std::unique_ptr<ws::Deflater> deflater_;  // created on first use
  std::unique_ptr<ws::Inflater> inflater_;

  std::deque<WsMessage> queue_;
  std::size_t queued_bytes_ = 0;
  std::coroutine_handle<> receiver_;
  std::vector<std::coroutine_handle<>> send_waiters_;

  bool close_sent_ = false;
  bool close_received_ = false;
  std::optional<int> close_code_;
  std::string close_reason_;

  net::Clock::time_point last_received_{};
  net::Clock::time_point last_ping_{};
  net::EventLoop::TimerId keepalive_timer_ = 0;
  net::EventLoop::TimerId close_timer_ = 0;
};

namespace {

// What the connection holds: forwards to the session, and ends it if the connection goes away
// without closing first.
class WebSocketProtocol final : public http::UpgradedProtocol {
 public:
  explicit WebSocketProtocol(std::shared_ptr<WebSocketSession> session) noexcept : session_(std::move(session)) {}
  ~WebSocketProtocol() override {
    if (started_ && !closed_) session_->on_closed();
  }
  WebSocketProtocol(const WebSocketProtocol&) = delete;
  WebSocketProtocol& operator=(const WebSocketProtocol&) = delete;

  void start(http::UpgradeIo& io) override {
    started_ = true;
    session_->start(io);
  }
  std::size_t on_data(std::string_view data) override { return session_->on_data(data); }
  void on_writable() override { session_->on_writable(); }
  void on_shutdown() override { session_->on_shutdown(); }
  void on_closed() override {
    closed_ = true;
    session_->on_closed();
  }

 private:
  std::shared_ptr<WebSocketSession> session_;
  bool started_ = false;
  bool closed_ = false;
};

http::Response bad_handshake(std::string_view detail) { return http::Response::error(400, detail); }

http::Response accept_websocket(const std::shared_ptr<const WebSocketRoute>& route, const http::Request& req) {
  if (req.method != http::Method::kGet) return bad_handshake("WebSocket handshake must be a GET request");
  if (req.version_minor < 1) return bad_handshake("WebSocket handshake needs HTTP/1.1");
  if (!has_token(req, "upgrade", "websocket")) return bad_handshake("Missing or invalid Upgrade header: expected websocket");
  if (!has_token(req, "connection", "upgrade")) return bad_handshake("Missing or invalid Connection header: expected upgrade");
  if (trim(req.header("sec-websocket-version")) != "13")
    return http::Response::error(426, "Unsupported WebSocket version: expected 13").with_header("Sec-WebSocket-Version", "13");
  std::string_view key;
  int keys = 0;
  for (const auto& h : req.headers) {
    if (!http::iequals(h.name, "sec-websocket-key")) continue;
    key = trim(h.value);
    ++keys;
  }
  if (keys != 1 || base64_decoded_size(key) != 16) return bad_handshake("Missing or invalid Sec-WebSocket-Key");

  const WebSocketOptions& options = route->options;
  WebSocketTerms terms;
  if (!options.subprotocols.empty()) {
    std::vector<std::string_view> offered;
    for_each_list_item(req, "sec-websocket-protocol", [&](std::string_view p) { offered.push_back(p); });
    for (const auto& mine : options.subprotocols) {
      if (std::find(offered.begin(), offered.end(), mine) != offered.end()) {
        terms.subprotocol = mine;
        break;
      }
    }
  }
  if (options.permessage_deflate) {
    for_each_list_item(req, "sec-websocket-extensions", [&](std::string_view offer) {
      if (!terms.deflate) accept_deflate_offer(offer, options, terms);
    });
  }

  http::Response r;
  r.status = 101;
  r.headers.emplace_back("Upgrade", "websocket");
  r.headers.emplace_back("Connection", "Upgrade");
  r.headers.emplace_back("Sec-WebSocket-Accept", websocket_accept_key(key));
  if (!terms.subprotocol.empty()) r.headers.emplace_back("Sec-WebSocket-Protocol", terms.subprotocol);
  if (terms.deflate) r.headers.emplace_back("Sec-WebSocket-Extensions", terms.extensions);
  r.upgrade = std::make_shared<WebSocketProtocol>(std::make_shared<WebSocketSession>(route, req, std::move(terms)));
  return r;
}

}  // namespace
}  // namespace detail

// --- WebSocket ------------------------------------------------------------------------------------

WebSocket::WebSocket(std::shared_ptr<detail::WebSocketSession> session) noexcept : session_(std::move(session)) {}
WebSocket::~WebSocket() = default;
WebSocket::WebSocket(const WebSocket&) noexcept = default;
WebSocket& WebSocket::operator=(const WebSocket&) noexcept = default;

bool WebSocket::ReceiveAwaiter::await_ready() const noexcept { return session_->receive_ready(); }
void WebSocket::ReceiveAwaiter::await_suspend(std::coroutine_handle<> h) { session_->wait_receive(h); }
std::optional<WsMessage> WebSocket::ReceiveAwaiter::await_resume() { return session_->take_message(); }

bool WebSocket::SendAwaiter::await_ready() const noexcept { return !queued_ || session_->send_ready(); }
void WebSocket::SendAwaiter::await_suspend(std::coroutine_handle<> h) { session_->wait_send(h); }

WebSocket::ReceiveAwaiter WebSocket::receive() noexcept { return ReceiveAwaiter{session_.get()}; }

WebSocket::SendAwaiter WebSocket::send_text(std::string_view text) {
  if (!ws::is_valid_utf8(text)) throw std::invalid_argument("WebSocket::send_text(): text is not valid UTF-8");
  return SendAwaiter{session_.get(), session_->send(ws::Opcode::kText, text)};
}

WebSocket::SendAwaiter WebSocket::send_binary(std::string_view data) {
  return SendAwaiter{session_.get(), session_->send(ws::Opcode::kBinary, data)};
}

void WebSocket::close(int code, std::string_view reason) { session_->close(code, reason); }
bool WebSocket::is_open() const noexcept { return session_->is_open(); }
std::optional<int> WebSocket::close_code() const noexcept { return session_->close_code(); }
const std::string& WebSocket::close_reason() const noexcept { return session_->close_reason(); }
const std::string& WebSocket::subprotocol() const noexcept { return session_->subprotocol(); }
bool WebSocket::compressed() const noexcept { return session_->compressed(); }
const http::Request& WebSocket::request() const noexcept { return session_->request(); }

// --- App ------------------------------------------------------------------------------------------

App& App::add_websocket(std::string_view path, WebSocketHandler handler, RouteInfo info, WebSocketOptions options) {
  auto route = std::make_shared<detail::WebSocketRoute>();
  route->handler = std::move(handler);
  route->options = std::move(options);
  route->path = std::string(path);
  RouteDoc doc;
  doc.method = http::Method::kGet;
  doc.path = std::string(path);
  doc.info = std::move(info);
  doc.info.include_in_schema = false;  // not an OpenAPI operation
  std::shared_ptr<const detail::WebSocketRoute> shared = std::move(route);
  return add_route(std::move(doc), [shared](http::Request& req) -> http::HandlerOutcome {
    return detail::accept_websocket(shared, req);
  });
}

}  // namespace serval
