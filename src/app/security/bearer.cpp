#include "serval/app/security/bearer.hpp"

#include <boost/json/array.hpp>

#include "app/security/auth_common.hpp"
#include "serval/observe/log.hpp"

namespace serval {

namespace json = boost::json;
using security_detail::error_response;

struct BearerAuth::Shared {
  JwtVerifier verifier;
  BearerOptions options;
};

namespace {

// The credentials of `Authorization: Bearer <token>`; empty when absent or another scheme.
std::string_view bearer_token(const http::Request& req) {
  std::string_view value = req.header("authorization");
  std::size_t sp = value.find(' ');
  if (sp == std::string_view::npos || !http::iequals(value.substr(0, sp), "bearer")) return {};
  std::string_view token = value.substr(sp + 1);
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  return token;
}

}  // namespace

BearerAuth::BearerAuth(JwtVerifier verifier, BearerOptions options)
    : shared_(std::make_shared<const Shared>(Shared{std::move(verifier), std::move(options)})) {}

MiddlewarePtr BearerAuth::require(std::vector<std::string> scopes) const {
  auto step = std::make_shared<BearerAuth>(*this);
  step->scopes_ = std::move(scopes);
  step->optional_ = false;
  return step;
}

MiddlewarePtr BearerAuth::optional() const {
  auto step = std::make_shared<BearerAuth>(*this);
  step->scopes_.clear();
  step->optional_ = true;
  return step;
}

const std::string& BearerAuth::scheme_name() const noexcept { return shared_->options.scheme_name; }

std::optional<Principal> BearerAuth::authenticate(std::string_view token, JwtError* error) const {
  JwtResult r = shared_->verifier.verify(token);
  if (error != nullptr) *error = r.error;
  if (!r) return std::nullopt;
  return principal_from_claims(std::move(r.claims), shared_->options.scheme_name);
}

std::optional<http::Response> BearerAuth::before(http::Request& req, Context& ctx) {
  const BearerOptions& o = shared_->options;
  if (security_detail::is_public(req, ctx, o.skip_docs, o.public_paths)) return std::nullopt;
  const Principal* principal = ctx.find<Principal>();
  if (principal == nullptr || principal->scheme != o.scheme_name) {
    std::string_view token = bearer_token(req);
    if (token.empty()) {
      if (optional_) return std::nullopt;
      return error_response(401, "Not authenticated", "WWW-Authenticate", "Bearer");
    }
    JwtError err = JwtError::kNone;
    std::optional<Principal> p = authenticate(token, &err);
    if (!p) {
      log::debug("bearer: ", http::to_string(req.method), " ", req.path, ": token refused: ", to_string(err));
      return error_response(401, "Could not validate credentials", "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    }
    principal = &ctx.emplace<Principal>(std::move(*p));
  }
  if (!principal->has_scopes(scopes_)) {
    return error_response(403, "Not enough permissions", "WWW-Authenticate",
                          "Bearer scope=\"" + security_detail::join(scopes_, " ") + "\", error=\"insufficient_scope\"");
  }
  return std::nullopt;
}

void BearerAuth::describe(json::object& operation, json::object& components) const {
  const BearerOptions& o = shared_->options;
  security_detail::describe_scheme(operation, components, o.scheme_name,
                                   json::object{{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}},
                                   o.description, scopes_, optional_,
                                   "Not authenticated, or the token is invalid or expired");
}

}  // namespace serval
