// ApiKeyAuth: authentication by a static API key in a request header (FastAPI's APIKeyHeader),
// for service-to-service calls and simple deployments. Keys are held as SHA-256 digests and
// compared in constant time; the Principal names a key by its name or a hash prefix, never by the
// key itself, so it is safe to log and to rate-limit by.
//
//   serval::ApiKeyAuth api_key{{.keys = {"k-3f9a...", {"k-77c1...", "ci-bot", {"jobs:write"}}}}};
//   app.use(api_key.require());                                   // every route
//   app.post("/jobs", handler, {.middleware = {api_key.require({"jobs:write"})}});
//
// Answers (FastAPI says 403 for a missing APIKeyHeader; serval says 401, as RFC 9110 means it:
// credentials are missing or wrong, retrying with the right ones may succeed):
//   no key        401 {"detail":"Not authenticated"}     WWW-Authenticate: APIKey header="X-API-Key"
//   unknown key   401 {"detail":"Invalid API key"}       WWW-Authenticate: APIKey header="X-API-Key"
//   missing scope 403 {"detail":"Not enough permissions"}
// In /openapi.json: components.securitySchemes gets {"type":"apiKey","in":"header","name":"X-API-Key"}.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serval/app/middleware.hpp"
#include "serval/app/security/principal.hpp"

namespace serval {

struct ApiKey {
  ApiKey(const char* key) : key(key) {}  // NOLINT: a plain key converts, so `.keys = {"a", "b"}` reads well
  ApiKey(std::string key, std::string name = {}, std::vector<std::string> scopes = {})
      : key(std::move(key)), name(std::move(name)), scopes(std::move(scopes)) {}

  std::string key;
  std::string name;                 // Principal::subject; default "apikey:" + 12 hex digits of SHA-256(key)
  std::vector<std::string> scopes;  // Principal::scopes
};

struct ApiKeyOptions {
  std::string header = "X-API-Key";
  std::vector<ApiKey> keys;             // at least one; an empty key is refused
  std::string scheme_name = "APIKeyHeader";
  std::string description = "An API key sent in a request header.";
  bool skip_docs = true;                // let the app's /docs and /openapi.json through
  // Paths a global step lets through unauthenticated (exact match), e.g. {"/health", "/ready"}
  // for Kubernetes probes. Empty by default: fail closed.
  std::vector<std::string> public_paths;
};

class ApiKeyAuth : public Middleware {
 public:
  // Throws std::invalid_argument without keys, with an empty key, or with an empty header name.
  explicit ApiKeyAuth(ApiKeyOptions options);

  // A step that requires a known key carrying every one of `scopes`.
  MiddlewarePtr require(std::vector<std::string> scopes = {}) const;

  // The Principal for a raw key, or nullopt. Constant time in the key's content.
  std::optional<Principal> authenticate(std::string_view key) const;

  std::optional<http::Response> before(http::Request& request, Context& ctx) override;
  void describe(boost::json::object& operation, boost::json::object& components) const override;

 private:
  struct Shared;
  std::shared_ptr<const Shared> shared_;
  std::vector<std::string> scopes_;
};

}  // namespace serval
