#include "serval/app/test_client.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>
#include <stdexcept>

#include <boost/json/parse.hpp>

#include "serval/net/event_loop.hpp"

namespace serval {

namespace {

// A connection whose "socket" is a string: what the server writes is appended to `written`.
class TestConnection final : public http::Connection {
 public:
  using http::Connection::Connection;
  std::string written;

  void disconnect() { close(); }

  void feed(std::string_view bytes) {
    char* p = input_space(bytes.size());
    std::memcpy(p, bytes.data(), bytes.size());
    commit_input(bytes.size());
    process();
  }

 protected:
  std::size_t write_some(const char* data, std::size_t len) override {
    written.append(data, len);
    return len;
  }
  void close_transport() override {}
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Status line and header fields of one response head (without the blank line).
void parse_head(std::string_view head, int& status, TestClient::Headers& headers) {
  std::size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) throw std::runtime_error("bad status line");
  std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
  std::string_view rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  while (!rest.empty()) {
    std::size_t nl = rest.find("\r\n");
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("bad header line");
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
}

TestClient::Response parse_one(std::string_view bytes, bool head_request, std::size_t* consumed) {
  std::size_t pos = 0;
  TestClient::Response r;
  while (true) {
    std::size_t end = bytes.find("\r\n\r\n", pos);
    if (end == std::string_view::npos) throw std::runtime_error("incomplete response head");
    std::string_view head = bytes.substr(pos, end - pos);
    pos = end + 4;
    int status = 0;
    TestClient::Headers headers;
    parse_head(head, status, headers);
    if (status >= 100 && status < 200) {
      r.interim.push_back(status);
      continue;
    }
    r.status = status;
    r.headers = std::move(headers);
    break;
  }
  bool no_body = head_request || r.status == 204 || r.status == 304;
  std::string_view te = r.header("transfer-encoding");
  std::string_view cl = r.header("content-length");
  if (no_body) {
  } else if (!te.empty()) {
    while (true) {
      std::size_t nl = bytes.find("\r\n", pos);
      if (nl == std::string_view::npos) throw std::runtime_error("incomplete chunk size");
      std::size_t size = 0;
      auto res = std::from_chars(bytes.data() + pos, bytes.data() + nl, size, 16);
      if (res.ec != std::errc()) throw std::runtime_error("bad chunk size");
      pos = nl + 2;
      if (size == 0) {
        pos += 2;
        break;
      }
      if (pos + size + 2 > bytes.size()) throw std::runtime_error("incomplete chunk");
      r.body.append(bytes.substr(pos, size));
      pos += size + 2;
    }
  } else if (!cl.empty()) {
    std::size_t n = 0;
    std::from_chars(cl.data(), cl.data() + cl.size(), n);
    if (pos + n > bytes.size()) throw std::runtime_error("incomplete body");
    r.body.assign(bytes.substr(pos, n));
    pos += n;
  } else {
    r.body.assign(bytes.substr(pos));
    pos = bytes.size();
  }
  if (consumed != nullptr) *consumed = pos;
  return r;
}

}  // namespace

std::string_view TestClient::Response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (http::iequals(k, name)) return v;
  return {};
}

boost::json::value TestClient::Response::json() const { return boost::json::parse(body); }

struct TestClient::Impl {
  Impl(App& a, http::ConnectionOptions o) : app(a), options(std::move(o)) {}
  App& app;
  http::ConnectionOptions options;
  net::EventLoop loop;
};

TestClient::TestClient(App& app, http::ConnectionOptions options)
    : impl_(std::make_unique<Impl>(app, std::move(options))) {
  app.startup();  // like FastAPI's TestClient in a `with` block: lifespan runs first
}
TestClient::~TestClient() = default;

std::string TestClient::raw(std::string_view bytes, std::chrono::milliseconds timeout) {
  auto conn = std::make_shared<TestConnection>(impl_->app, impl_->options);
  std::string input(bytes);
  impl_->loop.post([conn, input] { conn->feed(input); });
  auto deadline = net::Clock::now() + timeout;
  bool fed = false;
  while (net::Clock::now() < deadline) {
    impl_->loop.run_once(fed ? 5 : 0);
    fed = true;
    if (conn->closed() || (!conn->busy() && impl_->loop.idle())) break;
  }
  return conn->written;
}

std::string TestClient::raw_then_disconnect(std::string_view bytes, std::chrono::milliseconds after) {
  auto conn = std::make_shared<TestConnection>(impl_->app, impl_->options);
  std::string input(bytes);
  impl_->loop.post([conn, input] { conn->feed(input); });
  auto deadline = net::Clock::now() + after;
  while (net::Clock::now() < deadline) impl_->loop.run_once(1);
  impl_->loop.post([conn] { conn->disconnect(); });
  for (int i = 0; i < 5; ++i) impl_->loop.run_once(0);
  return conn->written;
}

bool TestClient::idle() const { return impl_->loop.idle(); }

TestClient::Response TestClient::request(std::string_view method, std::string_view target, std::string_view body,
                                         const Headers& headers) {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: testserver\r\n");
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    has_type = has_type || http::iequals(k, "content-type");
    req.append(k).append(": ").append(v).append("\r\n");
  }
  bool with_body = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (with_body) {
    if (!has_type) req.append("Content-Type: application/json\r\n");
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("Connection: close\r\n\r\n").append(body);
  std::string out = raw(req);
  return parse_one(out, method == "HEAD", nullptr);
}

TestClient::Response TestClient::parse_response(std::string_view bytes, std::size_t* consumed) {
  return parse_one(bytes, false, consumed);
}

TestClient::Response TestClient::get(std::string_view t, const Headers& h) { return request("GET", t, {}, h); }
TestClient::Response TestClient::head(std::string_view t, const Headers& h) { return request("HEAD", t, {}, h); }
TestClient::Response TestClient::options(std::string_view t, const Headers& h) { return request("OPTIONS", t, {}, h); }
TestClient::Response TestClient::del(std::string_view t, const Headers& h) { return request("DELETE", t, {}, h); }
TestClient::Response TestClient::post(std::string_view t, std::string_view b, const Headers& h) {
  return request("POST", t, b, h);
}
TestClient::Response TestClient::put(std::string_view t, std::string_view b, const Headers& h) {
  return request("PUT", t, b, h);
}
TestClient::Response TestClient::patch(std::string_view t, std::string_view b, const Headers& h) {
  return request("PATCH", t, b, h);
}

}  // namespace serval

// --- WebSocket ------------------------------------------------------------------------------------
// The client side of TestClient::websocket(): it speaks real (masked) frames to the same
// http::Connection the socket path uses, on a private event loop of its own.

namespace serval {

namespace {

namespace ws = http::websocket;

// The in-process "socket" of a WebSocket conversation: server writes land in `written`.
class WsTestConnection final : public http::Connection {
 public:
  using http::Connection::Connection;
  std::string written;

  void feed(std::string_view bytes) {
    if (closed()) return;
    char* p = input_space(bytes.size());
    std::memcpy(p, bytes.data(), bytes.size());
    commit_input(bytes.size());
    process();
  }
  // The client's end of the socket closed (like a TCP FIN after its close frame).
  void peer_closed() { close(); }

 protected:
  std::size_t write_some(const char* data, std::size_t len) override {
    written.append(data, len);
    return len;
  }
  void close_transport() override {}
};

constexpr std::uint64_t kClientMaxMessage = std::uint64_t{1} << 32;
constexpr auto kHandshakeTimeout = std::chrono::seconds(5);

int remaining_ms(net::Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - net::Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 10));
}

// Status line and headers of a 101 answer (parse_one treats 1xx as interim and reads on).
bool parse_upgrade_head(std::string_view bytes, TestClient::Response& r, std::size_t& consumed) {
  std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  parse_head(bytes.substr(0, end), r.status, r.headers);
  consumed = end + 4;
  return true;
}

bool list_has(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t sep = list.find_first_of(",;");
    if (http::iequals(trim(list.substr(0, sep)), token)) return true;
    list = sep == std::string_view::npos ? std::string_view{} : list.substr(sep + 1);
  }
  return false;
}

}  // namespace

struct TestWebSocket::Impl {
  explicit Impl(http::ConnectionOptions o) : options(std::move(o)) {}

  net::EventLoop loop;  // first: destroyed last
  http::ConnectionOptions options;
  std::shared_ptr<WsTestConnection> conn;
  std::size_t read_pos = 0;
  TestClient::Response handshake;
  ws::FrameParser parser;
  std::mt19937 rng{std::random_device{}()};

  bool deflate = false;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::unique_ptr<ws::Deflater> deflater;
  std::unique_ptr<ws::Inflater> inflater;

  std::string message;
  bool message_binary = false;
  bool message_compressed = false;

  bool close_sent = false;
  bool close_received = false;
  std::optional<int> close_code;
  std::string close_reason;

  // Runs `fn` on the loop (where the app's code expects to run), then whatever it set off.
  template <class F>
  void on_loop(F fn) {
    loop.post(std::move(fn));
    loop.run_once(0);
  }

  void send_bytes(std::string bytes) {
    on_loop([c = conn, b = std::move(bytes)] { c->feed(b); });
  }

  // A fresh masking key per frame, as RFC 6455 §5.3 asks of clients.
  ws::MaskKey next_mask() {
    ws::MaskKey mask;
    const auto r = static_cast<std::uint32_t>(rng());
    for (std::size_t i = 0; i < 4; ++i) mask[i] = static_cast<std::uint8_t>(r >> (8 * i));
    return mask;
  }

  void send_frame(ws::Opcode op, std::string_view payload, bool fin, bool rsv1) {
    const ws::MaskKey mask = next_mask();
    std::string out;
    ws::append_frame(out, op, payload, fin, rsv1, &mask);
    send_bytes(std::move(out));
  }

  void send_message(ws::Opcode op, std::string_view payload) {
    if (deflate && !payload.empty()) {
      if (!deflater) deflater = std::make_unique<ws::Deflater>(15, client_no_context_takeover);
      std::string compressed;
      if (!deflater->compress(payload, compressed)) throw std::runtime_error("TestWebSocket: deflate failed");
      send_frame(op, compressed, true, true);
    } else {
      send_frame(op, payload, true, false);
    }
  }

  void send_close(int code, std::string_view reason) {
    if (close_sent || conn->closed()) return;
    close_sent = true;
    const ws::MaskKey mask = next_mask();
    std::string out;
    ws::append_close_frame(out, code, reason, &mask);
    send_bytes(std::move(out));
  }

  void peer_closed() {
    if (!conn->closed()) on_loop([c = conn] { c->peer_closed(); });
  }

  std::optional<Frame> next_frame(net::Clock::time_point deadline) {
    while (true) {
      std::string_view avail(conn->written);
      avail.remove_prefix(read_pos);
      ws::FrameStatus st = parser.parse(avail);
      if (st == ws::FrameStatus::kError)
        throw std::runtime_error("TestWebSocket: the server sent a bad frame: " + std::string(parser.error_reason()));
      if (st == ws::FrameStatus::kFrame) {
        const ws::Frame& f = parser.frame();
        Frame out;
        out.opcode = f.opcode;
        out.fin = f.fin;
        out.rsv1 = f.rsv1;
        ws::append_unmasked(out.payload, f.payload, f.mask, f.masked);
        read_pos += parser.consumed();
        if (read_pos > 64 * 1024) {
          conn->written.erase(0, read_pos);
          read_pos = 0;
        }
        return out;
      }
      if (conn->closed() || net::Clock::now() >= deadline) return std::nullopt;
      loop.run_once(remaining_ms(deadline));
    }
  }

  // The server's close frame: remember its code, answer it, and close our end like a browser would.
  void on_close_frame(const Frame& f) {
    ws::ClosePayload payload;
    if (ws::parse_close_payload(f.payload, payload) != 0)
      throw std::runtime_error("TestWebSocket: the server sent an invalid close frame");
    close_received = true;
    close_code = payload.code;
    close_reason = std::string(payload.reason);
    send_close(payload.code, {});
    peer_closed();
  }

  std::optional<WsMessage> receive(std::chrono::milliseconds timeout) {
    auto deadline = net::Clock::now() + timeout;
    while (auto f = next_frame(deadline)) {
      switch (f->opcode) {
        case ws::Opcode::kPing:
          if (!close_sent) send_frame(ws::Opcode::kPong, f->payload, true, false);
          continue;
        case ws::Opcode::kPong:
          continue;
        case ws::Opcode::kClose:
          on_close_frame(*f);
          return std::nullopt;
        case ws::Opcode::kText:
        case ws::Opcode::kBinary:
        case ws::Opcode::kContinuation:
          if (auto m = absorb(*f)) return m;
          break;
      }
    }
    return std::nullopt;
  }

  // Adds a data frame to the message being reassembled; the message once it is complete.
  std::optional<WsMessage> absorb(const Frame& f) {
    if (f.opcode != ws::Opcode::kContinuation) {
      message.clear();
      message_binary = f.opcode == ws::Opcode::kBinary;
      message_compressed = f.rsv1;
    }
    if (message_compressed) {
      if (!inflater) inflater = std::make_unique<ws::Inflater>(server_no_context_takeover);
      auto r = inflater->inflate(f.payload, message, kClientMaxMessage);
      if (r == ws::Inflater::Result::kOk && f.fin) r = inflater->finish(message, kClientMaxMessage);
      if (r != ws::Inflater::Result::kOk) throw std::runtime_error("TestWebSocket: cannot inflate a server message");
    } else {
      message += f.payload;
    }
    if (!f.fin) return std::nullopt;
    if (!message_binary && !ws::is_valid_utf8(message))
      throw std::runtime_error("TestWebSocket: the server sent a text message that is not UTF-8");
    WsMessage m;
    m.binary = message_binary;
    m.data = std::move(message);
    message = std::string();
    return m;
  }

  void close(int code, std::string_view reason) {
    send_close(code, reason);
    auto deadline = net::Clock::now() + std::chrono::seconds(5);
    while (!close_received) {
      auto f = next_frame(deadline);
      if (!f) break;
      if (f->opcode == ws::Opcode::kClose) on_close_frame(*f);
    }
    peer_closed();
  }
};

TestWebSocketRejected::TestWebSocketRejected(TestClient::Response r)
    : std::runtime_error("WebSocket handshake rejected with status " + std::to_string(r.status)), response(std::move(r)) {}

TestWebSocket TestClient::websocket(std::string_view target, const TestWebSocketOptions& options) {
  auto impl = std::make_unique<TestWebSocket::Impl>(impl_->options);
  impl->conn = std::make_shared<WsTestConnection>(impl_->app, impl->options);

  unsigned char nonce[16];
  for (auto& b : nonce) b = static_cast<unsigned char>(impl->rng());
  unsigned char key_buf[32] = {0};
  EVP_EncodeBlock(key_buf, nonce, sizeof nonce);
  std::string key(reinterpret_cast<const char*>(key_buf));

  std::string req;
  req.append("GET ").append(target).append(" HTTP/1.1\r\nHost: testserver\r\nUpgrade: websocket\r\n");
  req.append("Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ").append(key).append("\r\n");
  if (!options.subprotocols.empty()) {
    req.append("Sec-WebSocket-Protocol: ");
    for (std::size_t i = 0; i < options.subprotocols.size(); ++i)
      req.append(i == 0 ? "" : ", ").append(options.subprotocols[i]);
    req.append("\r\n");
  }
  if (!options.extensions.empty()) {
    req.append("Sec-WebSocket-Extensions: ").append(options.extensions).append("\r\n");
  } else if (options.permessage_deflate) {
    req.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
  }
  for (const auto& [k, v] : options.headers) req.append(k).append(": ").append(v).append("\r\n");
  req.append("\r\n");
  impl->send_bytes(std::move(req));

  auto deadline = net::Clock::now() + kHandshakeTimeout;
  std::size_t head_size = 0;
  TestClient::Response head;
  while (!parse_upgrade_head(impl->conn->written, head, head_size)) {
    if (impl->conn->closed() || net::Clock::now() >= deadline)
      throw std::runtime_error("TestWebSocket: no handshake response from the app");
    impl->loop.run_once(remaining_ms(deadline));
  }
  if (head.status != 101) {
    // The whole refusal (a JSON error body): wait for it, then hand it over.
    while (true) {
      std::optional<TestClient::Response> full;
      try {
        full = parse_response(impl->conn->written);
      } catch (const std::runtime_error&) {  // incomplete so far
        if (impl->conn->closed() || net::Clock::now() >= deadline) throw;
      }
      if (full) throw TestWebSocketRejected(std::move(*full));
      impl->loop.run_once(remaining_ms(deadline));
    }
  }
  if (head.header("sec-websocket-accept") != websocket_accept_key(key))
    throw std::runtime_error("TestWebSocket: wrong Sec-WebSocket-Accept in the handshake response");
  std::string_view extensions = head.header("sec-websocket-extensions");
  impl->deflate = list_has(extensions, "permessage-deflate");
  impl->server_no_context_takeover = list_has(extensions, "server_no_context_takeover");
  impl->client_no_context_takeover = list_has(extensions, "client_no_context_takeover");
  impl->parser.set_limits({.expect_masked = false, .allow_rsv1 = impl->deflate, .max_message_size = kClientMaxMessage});
  impl->handshake = std::move(head);
  impl->read_pos = head_size;
  return TestWebSocket(std::move(impl));
}

TestWebSocket::TestWebSocket(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TestWebSocket::TestWebSocket(TestWebSocket&&) noexcept = default;
TestWebSocket& TestWebSocket::operator=(TestWebSocket&&) noexcept = default;

TestWebSocket::~TestWebSocket() {
  if (!impl_) return;
  try {
    if (!impl_->conn->closed()) impl_->close(1000, {});
  } catch (const std::exception&) {
  }
  impl_->peer_closed();
  impl_->loop.run_once(0);  // let work the close set off finish before the loop goes
}

void TestWebSocket::send_text(std::string_view text) { impl_->send_message(ws::Opcode::kText, text); }
void TestWebSocket::send_binary(std::string_view data) { impl_->send_message(ws::Opcode::kBinary, data); }
void TestWebSocket::ping(std::string_view payload) { impl_->send_frame(ws::Opcode::kPing, payload, true, false); }
void TestWebSocket::send_frame(ws::Opcode opcode, std::string_view payload, bool fin, bool rsv1) {
  impl_->send_frame(opcode, payload, fin, rsv1);
}
void TestWebSocket::send_raw(std::string_view bytes) { impl_->send_bytes(std::string(bytes)); }

std::optional<WsMessage> TestWebSocket::receive(std::chrono::milliseconds timeout) { return impl_->receive(timeout); }

std::optional<TestWebSocket::Frame> TestWebSocket::receive_frame(std::chrono::milliseconds timeout) {
  auto f = impl_->next_frame(net::Clock::now() + timeout);
  // Data frames still go through the decompressor, so its context stays in step with the server's.
  if (f && !ws::is_control(f->opcode)) impl_->absorb(*f);
  if (f && f->opcode == ws::Opcode::kClose) {
    ws::ClosePayload payload;
    if (ws::parse_close_payload(f->payload, payload) == 0) {
      impl_->close_received = true;
      impl_->close_code = payload.code;
      impl_->close_reason = std::string(payload.reason);
    }
  }
  return f;
}

void TestWebSocket::close(int code, std::string_view reason) { impl_->close(code, reason); }
void TestWebSocket::disconnect() { impl_->peer_closed(); }
void TestWebSocket::shutdown_server() {
  impl_->on_loop([c = impl_->conn] { c->close_when_idle(); });
}

void TestWebSocket::run_for(std::chrono::milliseconds d) {
  auto deadline = net::Clock::now() + d;
  while (net::Clock::now() < deadline) impl_->loop.run_once(remaining_ms(deadline));
}

std::optional<int> TestWebSocket::close_code() const noexcept { return impl_->close_code; }
const std::string& TestWebSocket::close_reason() const noexcept { return impl_->close_reason; }
bool TestWebSocket::closed() const noexcept { return impl_->conn->closed(); }
const TestClient::Response& TestWebSocket::handshake() const noexcept { return impl_->handshake; }
std::string_view TestWebSocket::subprotocol() const noexcept { return impl_->handshake.header("sec-websocket-protocol"); }
bool TestWebSocket::permessage_deflate() const noexcept { return impl_->deflate; }

}  // namespace serval
