// Cors: lets browser code on other origins call the API, the way Starlette's (FastAPI's)
// CORSMiddleware does: answers preflights, and tells the browser which origins, methods and
// headers are allowed on actual requests.
//
//   app.use(std::make_shared<serval::Cors>(serval::CorsOptions{
//       .allow_origins = {"https://app.example.com"},
//       .allow_methods = {"GET", "POST"},
//       .allow_headers = {"Authorization", "Content-Type"},
//       .allow_credentials = true}));
//
// On the wire:
// - Preflight (OPTIONS with Origin and Access-Control-Request-Method): answered at once with 200 and
//   Access-Control-Allow-Origin/-Methods/-Headers/-Max-Age(/-Credentials), or 400
//   {"detail":"Disallowed CORS origin, method, headers"} naming what was refused.
// - Actual request from an allowed Origin: Access-Control-Allow-Origin (the origin itself, or "*"
//   when every origin is allowed and credentials are not), Access-Control-Allow-Credentials,
//   Access-Control-Expose-Headers, and Vary: Origin whenever the answer depends on the origin.
// - No Origin header: untouched (one header lookup).
//
// Use it as global middleware (app.use): preflights must be answered before routing, since the
// routes themselves have no OPTIONS handler.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serval/app/middleware.hpp"

namespace serval {

struct CorsOptions {
  std::vector<std::string> allow_origins;       // exact origins ("https://a.example:8443"), or {"*"}
  std::vector<std::string> allow_methods = {"GET"};  // or {"*"}: DELETE GET HEAD OPTIONS PATCH POST PUT
  std::vector<std::string> allow_headers;       // or {"*"}; Accept, Accept-Language, Content-Language
                                                // and Content-Type are always allowed
  std::vector<std::string> expose_headers;      // response headers browser code may read
  bool allow_credentials = false;               // cookies / Authorization on cross-origin requests
  int max_age = 600;                            // seconds a browser may cache a preflight answer
  std::string allow_origin_regex;               // also allow origins that fully match this (ECMAScript)
};

class Cors final : public Middleware {
 public:
  explicit Cors(CorsOptions options);  // throws std::invalid_argument on a bad regex

  std::optional<http::Response> before(http::Request& request, Context& ctx) override;
  void after(const http::Request& request, Context& ctx, http::Response& response) override;

  bool origin_allowed(std::string_view origin) const;

 private:
  http::Response preflight(const http::Request& request, std::string_view origin) const;

  bool allow_all_origins_ = false;
  bool allow_all_headers_ = false;
  bool allow_credentials_ = false;
  bool explicit_origin_ = false;                 // echo the origin rather than "*"
  std::vector<std::string> origins_;             // sorted
  std::function<bool(std::string_view)> origin_matches_;  // from allow_origin_regex; empty when unset
  std::vector<std::string> methods_;             // as configured (case-sensitive, like Starlette)
  std::vector<std::string> allowed_headers_;     // lowercase, sorted, safelisted ones included
  std::string methods_value_;                    // "GET, POST"
  std::string headers_value_;                    // "Accept, Accept-Language, ..." (empty for "*")
  std::string expose_value_;
  std::string max_age_value_;
};

}  // namespace serval
