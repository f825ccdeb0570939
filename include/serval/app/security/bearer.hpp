// BearerAuth: authentication by `Authorization: Bearer <JWT>` (RFC 6750), FastAPI's
// OAuth2PasswordBearer/HTTPBearer + Security(scopes=...). It verifies the token with a
// JwtVerifier, puts the caller's Principal into the request Context, and checks scopes.
//
//   serval::BearerAuth bearer{serval::JwtVerifier::hs256(secret)};
//   app.use(bearer.require());                                           // every route: a valid token
//   app.get("/me", [](const serval::Principal& me) { return me.subject; },
//           {.middleware = {bearer.require({"me:read"})}});              // this route: and this scope
//
// Answers, with FastAPI's bodies and RFC 6750's WWW-Authenticate:
//   no token                  401 {"detail":"Not authenticated"}              Bearer
//   bad/expired/forged token  401 {"detail":"Could not validate credentials"} Bearer error="invalid_token"
//   missing scope             403 {"detail":"Not enough permissions"}
//                                 Bearer scope="me:read", error="insufficient_scope"
// In /openapi.json the scheme lands in components.securitySchemes (type http, scheme bearer,
// bearerFormat JWT) and each guarded operation gets `security: [{"bearerAuth": [scopes]}]`, so
// Swagger UI's Authorize button works. Used globally, the app's /docs and /openapi.json stay open.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serval/app/middleware.hpp"
#include "serval/app/security/jwt.hpp"
#include "serval/app/security/principal.hpp"

namespace serval {

struct BearerOptions {
  std::string scheme_name = "bearerAuth";  // key in components.securitySchemes, and Principal::scheme
  std::string description = "A JWT sent as `Authorization: Bearer <token>`.";
  bool skip_docs = true;                   // let the app's /docs and /openapi.json through
  // Paths a global step lets through unauthenticated (exact match), e.g. {"/health", "/ready"}
  // for Kubernetes probes. Empty by default: fail closed.
  std::vector<std::string> public_paths;
};

class BearerAuth : public Middleware {
 public:
  explicit BearerAuth(JwtVerifier verifier, BearerOptions options = {});

  // A step that requires a valid token carrying every one of `scopes`. A Principal set by an
  // earlier step of the same scheme (e.g. a global require()) is reused, not verified again.
  MiddlewarePtr require(std::vector<std::string> scopes = {}) const;
  // A step that authenticates when a token is sent and lets anonymous requests through; a token
  // that is sent but invalid is still a 401.
  MiddlewarePtr optional() const;

  // Verifies a raw token (no HTTP): the Principal, or nullopt with `error` set when given.
  std::optional<Principal> authenticate(std::string_view token, JwtError* error = nullptr) const;

  // As a step itself, a BearerAuth requires a valid token and the scopes it was built with.
  std::optional<http::Response> before(http::Request& request, Context& ctx) override;
  void describe(boost::json::object& operation, boost::json::object& components) const override;

  const std::vector<std::string>& scopes() const noexcept { return scopes_; }
  const std::string& scheme_name() const noexcept;

 private:
  struct Shared;
  std::shared_ptr<const Shared> shared_;
  std::vector<std::string> scopes_;
  bool optional_ = false;
};

}  // namespace serval
