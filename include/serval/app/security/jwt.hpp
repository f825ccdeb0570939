// JWT: verifying (and, for HS256, minting) JSON Web Tokens (RFC 7519) in JWS compact form
// (RFC 7515), the bearer tokens OAuth2 servers and identity providers hand out.
//
// A verifier is configured with its keys and so with the algorithms it accepts: the token's `alg`
// header only selects among those keys, never the other way round. `none`, unknown algorithms and
// HS256/RS256 confusion (an RS256 public key used as an HMAC secret) are refused before any
// cryptography. Signatures are compared in constant time; `exp` and `nbf` are checked with a
// configurable leeway; `iss` and `aud` when configured. Input is never trusted: any byte string
// gets a JwtError, never a crash or an exception.
//
//   auto verifier = serval::JwtVerifier::hs256(secret, {.issuer = "https://auth.example.com"});
//   serval::JwtResult r = verifier.verify(token);
//   if (!r) log(serval::to_string(r.error));
//   else   use(r.claims.at("sub"));
//
//   auto signer = serval::JwtSigner::hs256(secret);          // tests, examples, internal services
//   std::string token = signer.sign({{"sub", "alice"}, {"scope", "me:read"}, {"exp", now + 3600}});
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "serval/app/security/principal.hpp"

namespace serval {

enum class JwtError {
  kNone,
  kMalformed,             // not three base64url parts of JSON objects, or too large, or a `crit` header
  kAlgorithmNotAllowed,   // `alg` is none, unknown, or has no configured key (HS/RS confusion)
  kUnknownKey,            // `kid` names no configured key
  kBadSignature,
  kExpired,               // now >= exp + leeway
  kNotYetValid,           // now + leeway < nbf
  kMissingExpiry,         // no `exp` while require_exp is set
  kIssuerMismatch,
  kAudienceMismatch,
};
std::string_view to_string(JwtError error) noexcept;

struct JwtOptions {
  std::optional<std::string> issuer;            // when set, `iss` must equal it
  std::vector<std::string> audience;            // when not empty, `aud` (string or array) must contain one
  std::chrono::seconds leeway{0};               // clock skew allowed for exp and nbf
  bool require_exp = true;                      // tokens without `exp` never expire: refuse them by default
  std::size_t max_token_bytes = 8192;
  std::function<std::chrono::system_clock::time_point()> clock;  // default: system_clock::now
};

struct JwtResult {
  JwtError error = JwtError::kNone;
  boost::json::object header;  // set once the header parsed
  boost::json::object claims;  // set only when the signature verified
  explicit operator bool() const noexcept { return error == JwtError::kNone; }
};

class JwtVerifier {
 public:
  // One key each; add more (key rotation) with add_hs256 / add_rs256. Throw std::invalid_argument
  // on a secret shorter than 32 bytes (RFC 7518 3.2) or a PEM that is not an RSA public key of at
  // least 2048 bits.
  static JwtVerifier hs256(std::string_view secret, JwtOptions options = {});
  static JwtVerifier rs256(std::string_view public_key_pem, JwtOptions options = {});
  explicit JwtVerifier(JwtOptions options = {});

  // With a `kid`, a token whose header names that kid is checked against this key only.
  JwtVerifier& add_hs256(std::string_view secret, std::string kid = {});
  JwtVerifier& add_rs256(std::string_view public_key_pem, std::string kid = {});

  JwtResult verify(std::string_view token) const;
  const JwtOptions& options() const noexcept { return options_; }

  struct Key;

 private:
  std::vector<std::shared_ptr<const Key>> keys_;
  JwtOptions options_;
};

// Mints HS256 tokens. Claims are serialised as given (add `exp` yourself).
class JwtSigner {
 public:
  static JwtSigner hs256(std::string_view secret, std::string kid = {});
  std::string sign(const boost::json::object& claims) const;

 private:
  std::shared_ptr<const JwtVerifier::Key> key_;
};

// The Principal a verified token describes: subject from `sub` (else `client_id`, `azp`), scopes
// from `scope` (space-separated) and `scp` / `scopes` (array or space-separated string).
Principal principal_from_claims(boost::json::object claims, std::string scheme);

// Base64url without padding (RFC 4648 section 5), as JWS uses it. decode is strict: it refuses
// padding, characters outside the alphabet, impossible lengths and non-zero trailing bits.
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace serval
