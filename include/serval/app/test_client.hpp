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
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "serval/app/app.hpp"

namespace serval {

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace serval
