// secure_api: bearer JWTs with scopes, an API key for services, and rate limits, in one backend.
//
//   POST /token        {"username":"alice","password":"..."} -> {"access_token": "...", ...}  (5/minute per IP)
//   GET  /me           Bearer token with scope me:read                                      (10/minute per user)
//   GET  /admin/stats  Bearer token with scope admin
//   POST /jobs         X-API-Key with scope jobs:write
//
//   SERVAL_JWT_SECRET   HS256 secret (>= 32 bytes); default: random per start (tokens die with the process)
//   SERVAL_SERVICE_KEY  the service's API key; default: printed at start
//
// Open /docs, call /token, then "Authorize" with the access token. The users are a stand-in for
// your identity provider: in production, verify its RS256 tokens with JwtVerifier::rs256(pem).
#include <serval/serval.hpp>
#include <serval/app/security/api_key.hpp>
#include <serval/app/security/bearer.hpp>
#include <serval/app/security/rate_limit.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct LoginIn {
  std::string username;
  std::string password;
};
template <>
inline constexpr auto serval::schema<LoginIn> = serval::fields(
    serval::field("username", &LoginIn::username).min_length(1).max_length(64),
    serval::field("password", &LoginIn::password).min_length(1).max_length(256));

struct TokenOut {
  std::string access_token;
  std::string token_type = "bearer";
  int expires_in = 0;
};
template <>
inline constexpr auto serval::schema<TokenOut> = serval::fields(
    serval::field("access_token", &TokenOut::access_token), serval::field("token_type", &TokenOut::token_type),
    serval::field("expires_in", &TokenOut::expires_in).doc("Seconds until the token expires"));

struct MeOut {
  std::string username;
  std::vector<std::string> scopes;
};
template <>
inline constexpr auto serval::schema<MeOut> =
    serval::fields(serval::field("username", &MeOut::username), serval::field("scopes", &MeOut::scopes));

struct JobOut {
  std::string queued_by;
};
template <>
inline constexpr auto serval::schema<JobOut> = serval::fields(serval::field("queued_by", &JobOut::queued_by));

namespace {

struct User {
  const char* name;
  const char* password;
  const char* scopes;
};
constexpr User kUsers[] = {{"alice", "wonderland", "me:read"}, {"root", "change-me-now", "me:read admin"}};
constexpr int kTokenSeconds = 900;

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

bool same(std::string_view a, std::string_view b) {  // constant time for equal lengths
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string secret = env_or("SERVAL_JWT_SECRET", random_hex(32));
  std::string service_key = env_or("SERVAL_SERVICE_KEY", "");
  if (service_key.empty()) {
    service_key = "sk-" + random_hex(16);
    std::printf("secure_api: service API key for this run: %s\n", service_key.c_str());
  }

  serval::App app{{.title = "Secure API", .version = "1.0.0",
                   .description = "Bearer JWTs with scopes, API keys and rate limits."}};
  serval::JwtSigner signer = serval::JwtSigner::hs256(secret);
  serval::BearerAuth bearer{serval::JwtVerifier::hs256(secret, {.leeway = std::chrono::seconds(30)})};
  serval::ApiKeyAuth service{{.keys = {{service_key, "batch-service", {"jobs:write"}}}}};
  auto login_limit = std::make_shared<serval::RateLimit>(serval::RateLimitOptions{.limit = "5/minute"});
  auto user_limit =
      std::make_shared<serval::RateLimit>(serval::RateLimitOptions{.limit = "10/minute", .key = serval::KeyBy::kUser});

  app.post("/token", [signer](const LoginIn& in) {
    for (const User& u : kUsers) {
      if (in.username != u.name || !same(in.password, u.password)) continue;
      auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      std::string token = signer.sign({{"sub", u.name}, {"scope", u.scopes}, {"iat", now.count()},
                                       {"exp", now.count() + kTokenSeconds}});
      return TokenOut{std::move(token), "bearer", kTokenSeconds};
    }
    throw serval::HttpError(401, "Incorrect username or password").with_header("WWW-Authenticate", "Bearer");
  }, {.summary = "Log in (demo users) and get a bearer token", .tags = {"auth"},
      .responses = {{401, "Incorrect username or password"}}, .middleware = {login_limit}});

  app.get("/me", [](const serval::Principal& me) { return MeOut{me.subject, me.scopes}; },
          {.summary = "Who am I", .tags = {"users"}, .middleware = {bearer.require({"me:read"}), user_limit}});

  app.get("/admin/stats", [](const serval::Principal& me) { return MeOut{me.subject, me.scopes}; },
          {.summary = "Admins only", .tags = {"admin"}, .middleware = {bearer.require({"admin"})}});

  app.post("/jobs", [](const serval::Principal& caller) { return JobOut{caller.subject}; },
           {.summary = "Queue a job (services, by API key)", .tags = {"jobs"}, .status = 202,
            .middleware = {service.require({"jobs:write"})}});

  return app.run(argc, argv);
}
