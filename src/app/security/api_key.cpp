#include "serval/app/security/api_key.hpp"

#include <array>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "app/security/auth_common.hpp"

namespace serval {

namespace json = boost::json;
using security_detail::error_response;

namespace {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

}  // namespace

struct ApiKeyAuth::Shared {
  struct Entry {
    Digest digest;
    std::string subject;
    std::vector<std::string> scopes;
  };
  std::vector<Entry> entries;
  ApiKeyOptions options;  // with the raw keys dropped
  std::string challenge;  // WWW-Authenticate value
};

ApiKeyAuth::ApiKeyAuth(ApiKeyOptions options) {
  if (options.header.empty()) throw std::invalid_argument("ApiKeyAuth: the header name is empty");
  if (options.keys.empty()) throw std::invalid_argument("ApiKeyAuth: no keys configured");
  auto shared = std::make_shared<Shared>();
  for (ApiKey& k : options.keys) {
    if (k.key.empty()) throw std::invalid_argument("ApiKeyAuth: an API key is empty");
    Shared::Entry e;
    e.digest = sha256(k.key);
    e.subject = !k.name.empty() ? std::move(k.name) : "apikey:" + security_detail::sha256_hex(k.key).substr(0, 12);
    e.scopes = std::move(k.scopes);
    OPENSSL_cleanse(k.key.data(), k.key.size());
    shared->entries.push_back(std::move(e));
  }
  options.keys.clear();
  shared->challenge = "APIKey header=\"" + options.header + "\"";
  shared->options = std::move(options);
  shared_ = std::move(shared);
}

MiddlewarePtr ApiKeyAuth::require(std::vector<std::string> scopes) const {
  auto step = std::make_shared<ApiKeyAuth>(*this);
  step->scopes_ = std::move(scopes);
  return step;
}

std::optional<Principal> ApiKeyAuth::authenticate(std::string_view key) const {
  // Hash first, then compare every digest: the time taken depends on neither the key's length
  // nor on how much of it matches.
  Digest d = sha256(key);
  const Shared::Entry* match = nullptr;
  for (const auto& e : shared_->entries) {
    bool same = CRYPTO_memcmp(d.data(), e.digest.data(), d.size()) == 0;
    if (same && match == nullptr) match = &e;
  }
  if (match == nullptr) return std::nullopt;
  return Principal{.subject = match->subject, .scopes = match->scopes, .scheme = shared_->options.scheme_name};
}

std::optional<http::Response> ApiKeyAuth::before(http::Request& req, Context& ctx) {
  const ApiKeyOptions& o = shared_->options;
  if (security_detail::is_public(req, ctx, o.skip_docs, o.public_paths)) return std::nullopt;
  const Principal* principal = ctx.find<Principal>();
  if (principal == nullptr || principal->scheme != o.scheme_name) {
    std::string_view key = req.header(o.header);
    if (key.empty()) return error_response(401, "Not authenticated", "WWW-Authenticate", shared_->challenge);
    std::optional<Principal> p = authenticate(key);
    if (!p) return error_response(401, "Invalid API key", "WWW-Authenticate", shared_->challenge);
    principal = &ctx.emplace<Principal>(std::move(*p));
  }
  if (!principal->has_scopes(scopes_)) return error_response(403, "Not enough permissions");
  return std::nullopt;
}

void ApiKeyAuth::describe(json::object& operation, json::object& components) const {
  const ApiKeyOptions& o = shared_->options;
  security_detail::describe_scheme(operation, components, o.scheme_name,
                                   json::object{{"type", "apiKey"}, {"in", "header"}, {"name", o.header}}, o.description,
                                   scopes_, false, "Not authenticated: the API key is missing or unknown");
}

}  // namespace serval
