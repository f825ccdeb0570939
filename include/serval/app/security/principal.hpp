// Principal: who made the request, as established by an authentication step (BearerAuth,
// ApiKeyAuth, or your own middleware). The step stores it in the request's Context; handlers read
// it back, either from the Context or by taking it as a parameter (401 when nobody authenticated).
//
//   // in an authentication middleware's before():
//   ctx.emplace<serval::Principal>(serval::Principal{.subject = "alice", .scopes = {"me:read"}, .scheme = "bearer"});
//   // in a handler:
//   app.get("/me", [](const serval::Principal& me) { return me.subject; }, {.middleware = {bearer.require()}});
//   app.get("/maybe", [](serval::Context& ctx) { auto* p = ctx.find<serval::Principal>(); ... });
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace serval {

struct Principal {
  std::string subject;              // a stable id of the caller: the JWT `sub`, an API key's name or hash prefix
  std::vector<std::string> scopes;  // permissions granted, e.g. {"me:read", "items:write"}
  std::string scheme;               // the OpenAPI security scheme name that authenticated it
  boost::json::object claims;       // the verified token's claims (empty for API keys)

  bool has_scope(std::string_view scope) const noexcept;
  // True when every one of `required` is granted (vacuously true for none).
  bool has_scopes(const std::vector<std::string>& required) const noexcept;
  // The required scopes this principal lacks, in the order given.
  std::vector<std::string> missing_scopes(const std::vector<std::string>& required) const;
};

}  // namespace serval
