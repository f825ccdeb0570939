// Test helpers for the security tests: RSA key pairs generated with OpenSSL EVP, RS256 signing with
// the private key, and hand-made tokens (alg none, wrong algorithms). Not part of the library.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "serval/app/security/jwt.hpp"

namespace serval::test {

struct RsaKeyPair {
  std::shared_ptr<EVP_PKEY> pkey;
  std::string public_pem;
};

inline RsaKeyPair make_rsa_key(unsigned bits = 2048) {
  EVP_PKEY* raw = EVP_RSA_gen(bits);
  if (raw == nullptr) throw std::runtime_error("EVP_RSA_gen failed");
  RsaKeyPair kp{std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), {}};
  BIO* bio = BIO_new(BIO_s_mem());
  if (PEM_write_bio_PUBKEY(bio, raw) != 1) throw std::runtime_error("PEM_write_bio_PUBKEY failed");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  kp.public_pem.assign(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return kp;
}

// header.payload.signature from JSON texts and raw signature bytes.
inline std::string make_token(std::string_view header_json, std::string_view payload_json, std::string_view signature) {
  return base64url_encode(header_json) + "." + base64url_encode(payload_json) + "." + base64url_encode(signature);
}

inline std::string sign_rs256(EVP_PKEY* key, const boost::json::object& claims, std::string_view kid = {}) {
  boost::json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  std::string input = base64url_encode(boost::json::serialize(header)) + "." + base64url_encode(boost::json::serialize(claims));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("RS256 signing failed");
  return input + "." + base64url_encode(sig);
}

// A 2048-bit key pair shared by every test in the binary (generation takes a moment).
inline const RsaKeyPair& shared_rsa_key() {
  static const RsaKeyPair kp = make_rsa_key(2048);
  return kp;
}

inline constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef-test-secret";

}  // namespace serval::test
