#include "serval/app/test_client.hpp"

#include <charconv>
#include <cstring>
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

TestClient::Response parse_one(std::string_view bytes, bool head_request, std::size_t* consumed) {
  std::size_t pos = 0;
  TestClient::Response r;
  while (true) {
    std::size_t end = bytes.find("\r\n\r\n", pos);
    if (end == std::string_view::npos) throw std::runtime_error("incomplete response head");
    std::string_view head = bytes.substr(pos, end - pos);
    pos = end + 4;
    std::size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) throw std::runtime_error("bad status line");
    int status = 0;
    std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    TestClient::Headers headers;
    std::string_view rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
    while (!rest.empty()) {
      std::size_t nl = rest.find("\r\n");
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 2);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) throw std::runtime_error("bad header line");
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    }
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
