// AccessLog: one JSON line per request — what was asked, what was answered, how long it took —
// for log pipelines (Loki, Elasticsearch, CloudWatch) to parse without regexes.
//
//   app.use(std::make_shared<serval::RequestId>());   // first, so lines carry the id
//   app.use(std::make_shared<serval::AccessLog>());    // stderr by default
//
//   {"ts":"2026-03-01T12:34:56.789Z","method":"POST","path":"/classify","route":"/classify",
//    "status":200,"remote":"10.0.0.7","request_id":"3f9a...","user_agent":"curl/8.5.0",
//    "duration_ms":0.412,"bytes":37}
//
// `ts` is when the response was ready (RFC 3339, UTC, milliseconds); `route` is the matched
// pattern (null when nothing matched), so dashboards group "/items/{id}" rather than every id;
// `path` leaves the query string out (it may carry secrets). `bytes` is the body as sent
// (compressed when Compression ran first; 0 for HEAD, 204 and 304). A streamed body is logged
// when the stream ends, with the bytes it carried, "stream":true, and "complete":false if the
// client left first — so an LLM stream's line shows its whole duration, not just its first byte.
//
// The sink is called from every I/O thread at once; the default writes each line to stderr with a
// single write(2), which keeps lines whole. A line is formatted straight into one string (~0.3 µs
// on a 2-core VM) and costs one system call with the default sink.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serval/app/middleware.hpp"

namespace serval {

struct AccessLogOptions {
  // Receives one JSON object followed by '\n'. Empty: stderr.
  std::function<void(std::string_view line)> sink;
  // Exact paths not logged (probes, scrapes): {"/health", "/ready", "/metrics"}.
  std::vector<std::string> skip_paths;
};

class AccessLog final : public Middleware {
 public:
  explicit AccessLog(AccessLogOptions options = {});

  void after(const http::Request& request, Context& ctx, http::Response& response) override;

 private:
  std::shared_ptr<const std::function<void(std::string_view)>> sink_;
  std::vector<std::string> skip_paths_;
};

}  // namespace serval
