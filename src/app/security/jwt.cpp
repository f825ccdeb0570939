#include "serval/app/security/jwt.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace serval {

namespace json = boost::json;

enum class JwtAlg { kHS256, kRS256 };

struct JwtVerifier::Key {
  JwtAlg alg = JwtAlg::kHS256;
  std::string kid;
  std::string secret;        // HS256
  EVP_PKEY* pkey = nullptr;  // RS256; read-only after construction, so shared across threads

  Key() = default;
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key() {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    EVP_PKEY_free(pkey);
  }
};

namespace {

constexpr std::size_t kMinHmacSecret = 32;  // RFC 7518 3.2: a key at least as long as the hash
constexpr int kMinRsaBits = 2048;           // RFC 7518 3.3
constexpr std::size_t kSha256Bytes = 32;

std::string_view alg_name(JwtAlg alg) { return alg == JwtAlg::kHS256 ? "HS256" : "RS256"; }

std::shared_ptr<const JwtVerifier::Key> make_hmac_key(std::string_view secret, std::string kid) {
  if (secret.size() < kMinHmacSecret)
    throw std::invalid_argument("JWT HS256 secret must be at least 32 bytes (RFC 7518 section 3.2), got " +
                                std::to_string(secret.size()));
  auto key = std::make_shared<JwtVerifier::Key>();
  key->alg = JwtAlg::kHS256;
  key->kid = std::move(kid);
  key->secret.assign(secret);
  return key;
}

std::shared_ptr<const JwtVerifier::Key> make_rsa_key(std::string_view pem, std::string kid) {
  // OSSL_DECODER reads both "PUBLIC KEY" (SubjectPublicKeyInfo) and "RSA PUBLIC KEY" (PKCS#1).
  EVP_PKEY* pkey = nullptr;
  OSSL_DECODER_CTX* dctx =
      OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, "RSA", EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (dctx == nullptr) throw std::runtime_error("JWT RS256: OpenSSL has no PEM decoder for RSA keys");
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  std::size_t len = pem.size();
  int ok = OSSL_DECODER_from_data(dctx, &data, &len);
  OSSL_DECODER_CTX_free(dctx);
  if (ok != 1 || pkey == nullptr) {
    EVP_PKEY_free(pkey);
    throw std::invalid_argument("JWT RS256: not a PEM RSA public key");
  }
  if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_bits(pkey) < kMinRsaBits) {
    int bits = EVP_PKEY_get_bits(pkey);
    EVP_PKEY_free(pkey);
    throw std::invalid_argument("JWT RS256: the key must be RSA with at least 2048 bits, got " + std::to_string(bits));
  }
  auto key = std::make_shared<JwtVerifier::Key>();
  key->alg = JwtAlg::kRS256;
  key->kid = std::move(kid);
  key->pkey = pkey;
  return key;
}

bool hmac_sha256(std::string_view secret, std::string_view data, std::array<unsigned char, kSha256Bytes>& out) {
  unsigned int len = 0;
  unsigned char* r = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return r != nullptr && len == kSha256Bytes;
}

bool verify_signature(const JwtVerifier::Key& key, std::string_view signing_input, std::string_view signature) {
  if (key.alg == JwtAlg::kHS256) {
    std::array<unsigned char, kSha256Bytes> mac{};
    if (signature.size() != mac.size() || !hmac_sha256(key.secret, signing_input, mac)) return false;
    return CRYPTO_memcmp(mac.data(), signature.data(), mac.size()) == 0;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  // The default RSA padding for EVP_DigestVerify is PKCS#1 v1.5, which RS256 is.
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.pkey) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool parse_object(std::string_view b64, json::object& out) {
  std::string text;
  if (b64.empty() || !base64url_decode(b64, text)) return false;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  out = std::move(v.as_object());
  return true;
}

// A NumericDate (RFC 7519 section 2): any JSON number. Absent -> nullopt; not a number -> false.
bool numeric_date(const json::object& claims, std::string_view name, std::optional<double>& out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return true;
  if (v->is_int64()) out = static_cast<double>(v->get_int64());
  else if (v->is_uint64()) out = static_cast<double>(v->get_uint64());
  else if (v->is_double() && std::isfinite(v->get_double())) out = v->get_double();
  else return false;
  return true;
}

void add_scopes(const json::value* v, std::vector<std::string>& scopes) {
  auto add = [&](std::string_view s) {
    for (const auto& have : scopes)
      if (have == s) return;
    scopes.emplace_back(s);
  };
  auto add_words = [&](std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      std::size_t j = i;
      while (j < text.size() && text[j] != ' ') ++j;
      if (j > i) add(text.substr(i, j - i));
      i = j;
    }
  };
  if (v == nullptr) return;
  if (v->is_string()) {
    add_words(v->get_string());
  } else if (v->is_array()) {
    for (const auto& item : v->get_array())
      if (item.is_string() && !item.get_string().empty()) add(item.get_string());
  }
}

constexpr std::string_view kB64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string_view to_string(JwtError error) noexcept {
  switch (error) {
    case JwtError::kNone: return "ok";
    case JwtError::kMalformed: return "malformed token";
    case JwtError::kAlgorithmNotAllowed: return "algorithm not allowed";
    case JwtError::kUnknownKey: return "unknown key id";
    case JwtError::kBadSignature: return "bad signature";
    case JwtError::kExpired: return "token expired";
    case JwtError::kNotYetValid: return "token not yet valid";
    case JwtError::kMissingExpiry: return "token has no expiry";
    case JwtError::kIssuerMismatch: return "issuer mismatch";
    case JwtError::kAudienceMismatch: return "audience mismatch";
  }
  return "unknown error";
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kB64Alphabet[(n >> 18) & 63];
    out += kB64Alphabet[(n >> 12) & 63];
    out += kB64Alphabet[(n >> 6) & 63];
    out += kB64Alphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned n = at(i) << 16;
    out += kB64Alphabet[(n >> 18) & 63];
    out += kB64Alphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned n = (at(i) << 16) | (at(i + 1) << 8);
    out += kB64Alphabet[(n >> 18) & 63];
    out += kB64Alphabet[(n >> 12) & 63];
    out += kB64Alphabet[(n >> 6) & 63];
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Left-over bits must be zero, so that each byte string has exactly one encoding.
  return (acc & ((1u << bits) - 1)) == 0;
}

JwtVerifier::JwtVerifier(JwtOptions options) : options_(std::move(options)) {}

JwtVerifier JwtVerifier::hs256(std::string_view secret, JwtOptions options) {
  JwtVerifier v(std::move(options));
  v.add_hs256(secret);
  return v;
}

JwtVerifier JwtVerifier::rs256(std::string_view public_key_pem, JwtOptions options) {
  JwtVerifier v(std::move(options));
  v.add_rs256(public_key_pem);
  return v;
}

JwtVerifier& JwtVerifier::add_hs256(std::string_view secret, std::string kid) {
  keys_.push_back(make_hmac_key(secret, std::move(kid)));
  return *this;
}

JwtVerifier& JwtVerifier::add_rs256(std::string_view public_key_pem, std::string kid) {
  keys_.push_back(make_rsa_key(public_key_pem, std::move(kid)));
  return *this;
}

JwtResult JwtVerifier::verify(std::string_view token) const {
  JwtResult r;
  auto fail = [&r](JwtError e) {
    r.error = e;
    r.claims.clear();
    return std::move(r);
  };
  if (token.size() > options_.max_token_bytes) return fail(JwtError::kMalformed);
  std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return fail(JwtError::kMalformed);
  std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail(JwtError::kMalformed);  // JWE (five parts) and garbage alike
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);

  if (!parse_object(header_b64, r.header)) return fail(JwtError::kMalformed);
  // Extensions we do not implement must not be ignored (RFC 7515 section 4.1.11).
  if (r.header.contains("crit")) return fail(JwtError::kMalformed);
  const json::value* alg_v = r.header.if_contains("alg");
  if (alg_v == nullptr || !alg_v->is_string()) return fail(JwtError::kMalformed);
  std::string_view alg = alg_v->get_string();

  // The configured keys decide which algorithms are acceptable; the header only picks among them.
  std::vector<const Key*> candidates;
  for (const auto& k : keys_)
    if (alg_name(k->alg) == alg) candidates.push_back(k.get());
  if (candidates.empty()) return fail(JwtError::kAlgorithmNotAllowed);
  if (const json::value* kid_v = r.header.if_contains("kid"); kid_v != nullptr && kid_v->is_string()) {
    std::string_view kid = kid_v->get_string();
    std::vector<const Key*> named;
    for (const Key* k : candidates)
      if (!k->kid.empty() && k->kid == kid) named.push_back(k);
    if (!named.empty()) {
      candidates = std::move(named);
    } else {
      // Keys configured without a kid accept any kid; keys with one accept only their own.
      std::erase_if(candidates, [](const Key* k) { return !k->kid.empty(); });
      if (candidates.empty()) return fail(JwtError::kUnknownKey);
    }
  }

  std::string signature;
  if (signature_b64.empty() || !base64url_decode(signature_b64, signature)) return fail(JwtError::kMalformed);
  std::string_view signing_input = token.substr(0, dot2);
  bool verified = false;
  for (const Key* k : candidates) verified = verified || verify_signature(*k, signing_input, signature);
  if (!verified) return fail(JwtError::kBadSignature);

  // Only now is the payload worth parsing: it was signed by a key we trust.
  if (!parse_object(payload_b64, r.claims)) return fail(JwtError::kMalformed);

  std::optional<double> exp, nbf;
  if (!numeric_date(r.claims, "exp", exp) || !numeric_date(r.claims, "nbf", nbf)) return fail(JwtError::kMalformed);
  auto now_tp = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  double now = std::chrono::duration<double>(now_tp.time_since_epoch()).count();
  double leeway = static_cast<double>(options_.leeway.count());
  if (!exp && options_.require_exp) return fail(JwtError::kMissingExpiry);
  if (exp && now >= *exp + leeway) return fail(JwtError::kExpired);
  if (nbf && now + leeway < *nbf) return fail(JwtError::kNotYetValid);

  if (options_.issuer) {
    const json::value* iss = r.claims.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != *options_.issuer)
      return fail(JwtError::kIssuerMismatch);
  }
  if (!options_.audience.empty()) {
    const json::value* aud = r.claims.if_contains("aud");
    auto accepted = [this](const json::value& v) {
      if (!v.is_string()) return false;
      for (const auto& a : options_.audience)
        if (v.get_string() == a) return true;
      return false;
    };
    bool ok = false;
    if (aud != nullptr && aud->is_string()) ok = accepted(*aud);
    if (aud != nullptr && aud->is_array())
      for (const auto& item : aud->get_array()) ok = ok || accepted(item);
    if (!ok) return fail(JwtError::kAudienceMismatch);
  }
  return r;
}

JwtSigner JwtSigner::hs256(std::string_view secret, std::string kid) {
  JwtSigner s;
  s.key_ = make_hmac_key(secret, std::move(kid));
  return s;
}

std::string JwtSigner::sign(const json::object& claims) const {
  json::object header{{"alg", "HS256"}, {"typ", "JWT"}};
  if (!key_->kid.empty()) header["kid"] = key_->kid;
  std::string token = base64url_encode(json::serialize(header));
  token += '.';
  token += base64url_encode(json::serialize(claims));
  std::array<unsigned char, kSha256Bytes> mac{};
  if (!hmac_sha256(key_->secret, token, mac)) throw std::runtime_error("JWT: HMAC-SHA256 failed");
  token += '.';
  token += base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

Principal principal_from_claims(json::object claims, std::string scheme) {
  Principal p;
  for (std::string_view name : {"sub", "client_id", "azp"}) {
    const json::value* v = claims.if_contains(name);
    if (v != nullptr && v->is_string() && !v->get_string().empty()) {
      p.subject = std::string(v->get_string());
      break;
    }
  }
  add_scopes(claims.if_contains("scope"), p.scopes);
  add_scopes(claims.if_contains("scp"), p.scopes);
  add_scopes(claims.if_contains("scopes"), p.scopes);
  p.scheme = std::move(scheme);
  p.claims = std::move(claims);
  return p;
}

}  // namespace serval
