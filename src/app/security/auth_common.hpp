// Private helpers shared by the security middleware (bearer, api_key, rate_limit): the error
// responses they answer with, and the OpenAPI pieces they describe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "serval/app/context.hpp"
#include "serval/http/request.hpp"
#include "serval/http/response.hpp"

namespace serval::security_detail {

// True for requests a global auth step lets through: the app's own /openapi.json and /docs (and
// its assets) when `docs` is set, as FastAPI's docs stay reachable when the API needs
// credentials; and any path listed in `public_paths` (exact match, e.g. "/health").
bool is_public(const http::Request& request, const Context& ctx, bool docs, const std::vector<std::string>& public_paths);

// {"detail": detail} with `status` and one extra header (skipped when its value is empty).
http::Response error_response(int status, std::string_view detail, std::string_view header = {},
                              std::string value = {});

// Adds {scheme: scopes} to the operation's `security`. Requirements from several steps are ANDed
// (merged into the same object); an optional step adds the `{}` alternative (anonymous allowed)
// unless a required step is present.
void add_security_requirement(boost::json::object& operation, std::string_view scheme,
                              const std::vector<std::string>& scopes, bool optional);

// Documents an error response with the {"detail": ...} schema, unless the status is documented.
void add_error_response(boost::json::object& operation, int status, std::string_view description);

// What every auth step documents: its scheme in components.securitySchemes (with `description`),
// the operation's security requirement, its 401 and, when it needs scopes, its 403.
void describe_scheme(boost::json::object& operation, boost::json::object& components, const std::string& name,
                     boost::json::object scheme, const std::string& description,
                     const std::vector<std::string>& scopes, bool optional, std::string_view unauthorized);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// "a b c"
std::string join(const std::vector<std::string>& words, std::string_view separator);

}  // namespace serval::security_detail
