#include "app/security/auth_common.hpp"

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <openssl/evp.h>

#include "serval/app/app.hpp"

namespace serval::security_detail {

namespace json = boost::json;

bool is_public(const http::Request& request, const Context& ctx, bool docs, const std::vector<std::string>& public_paths) {
  std::string_view path = request.path;
  for (const auto& p : public_paths)
    if (path == p) return true;
  if (!docs) return false;
  const AppInfo& info = ctx.app().info();
  if (!info.openapi_url.empty() && path == info.openapi_url) return true;
  if (info.docs_url.empty() || !path.starts_with(info.docs_url)) return false;
  return path.size() == info.docs_url.size() || path[info.docs_url.size()] == '/';
}

http::Response error_response(int status, std::string_view detail, std::string_view header, std::string value) {
  http::Response r = http::Response::error(status, detail);
  if (!header.empty() && !value.empty()) r.headers.emplace_back(std::string(header), std::move(value));
  return r;
}

void add_security_requirement(json::object& operation, std::string_view scheme, const std::vector<std::string>& scopes,
                              bool optional) {
  json::value& sec = operation["security"];
  if (!sec.is_array()) sec = json::array{};
  json::array& alternatives = sec.as_array();
  bool has_required = std::any_of(alternatives.begin(), alternatives.end(),
                                  [](const json::value& v) { return v.is_object() && !v.as_object().empty(); });
  auto requirement = [&] {
    json::array s;
    for (const auto& scope : scopes) s.emplace_back(scope);
    return json::object{{scheme, std::move(s)}};
  };
  if (optional) {
    if (has_required) return;  // someone already requires credentials: anonymous is not an option
    alternatives.emplace_back(requirement());
    alternatives.emplace_back(json::object{});
    return;
  }
  if (!has_required) {
    alternatives = json::array{requirement()};
    return;
  }
  // AND: every alternative needs this scheme too (with the union of scopes).
  json::array merged;
  for (auto& alt : alternatives) {
    if (!alt.is_object() || alt.as_object().empty()) continue;
    json::value& existing = alt.as_object()[scheme];
    if (!existing.is_array()) existing = json::array{};
    for (const auto& scope : scopes) {
      json::array& have = existing.as_array();
      if (std::find(have.begin(), have.end(), json::value(scope)) == have.end()) have.emplace_back(scope);
    }
    merged.emplace_back(std::move(alt));
  }
  alternatives = std::move(merged);
}

void add_error_response(json::object& operation, int status, std::string_view description) {
  json::value& responses = operation["responses"];
  if (!responses.is_object()) responses = json::object{};
  std::string key = std::to_string(status);
  if (responses.as_object().contains(key)) return;
  responses.as_object()[key] = json::object{
      {"description", description},
      {"content", json::object{{"application/json",
                                json::object{{"schema", json::object{{"$ref", "#/components/schemas/HTTPError"}}}}}}}};
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += separator;
    out += w;
  }
  return out;
}

void describe_scheme(json::object& operation, json::object& components, const std::string& name,
                     json::object scheme, const std::string& description, const std::vector<std::string>& scopes,
                     bool optional, std::string_view unauthorized) {
  json::value& schemes = components["securitySchemes"];
  if (!schemes.is_object()) schemes = json::object{};
  if (!description.empty()) scheme["description"] = description;
  schemes.as_object()[name] = std::move(scheme);
  add_security_requirement(operation, name, scopes, optional);
  add_error_response(operation, 401, unauthorized);
  if (!scopes.empty()) add_error_response(operation, 403, "Not enough permissions: needs " + join(scopes, ", "));
}

}  // namespace serval::security_detail
