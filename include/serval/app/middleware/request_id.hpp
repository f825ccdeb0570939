// RequestId: gives every request an id that follows it through logs, traces and the response, so a
// user's bug report ("request 5f0c... failed") finds the log lines that belong to it.
//
// A well-formed X-Request-ID from the client or a proxy (1..128 characters of [A-Za-z0-9._-]) is
// kept, so one id spans several services; otherwise a fresh 32-hex-digit id is generated (a
// per-thread SplitMix64 stream: no lock, no system call). The id lands in Context::request_id()
// for handlers, AccessLog and error reports, and is echoed on every response, errors included.
//
//   app.use(std::make_shared<serval::RequestId>());
//   app.get("/who", [](serval::Context& ctx) { return std::string(ctx.request_id()); });
//   // -> X-Request-ID: 3f9a0c4e7d21b6a85e0f13c2a9d4b7e1
//
// Put it first in the middleware list so that every later step (and every log line) sees the id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "serval/app/middleware.hpp"

namespace serval {

struct RequestIdOptions {
  std::string header = "X-Request-ID";  // read from the request, written on the response
  bool trust_incoming = true;           // false: always generate (the edge of an untrusted network)
};

class RequestId final : public Middleware {
 public:
  explicit RequestId(RequestIdOptions options = {});

  std::optional<http::Response> before(http::Request& request, Context& ctx) override;
  void after(const http::Request& request, Context& ctx, http::Response& response) override;

  // 1..128 characters of [A-Za-z0-9._-]: safe to log and to echo in a header.
  static bool valid(std::string_view id) noexcept;
  // 32 lowercase hex digits (128 bits) from this thread's generator.
  static std::string generate();

 private:
  RequestIdOptions options_;
};

}  // namespace serval
