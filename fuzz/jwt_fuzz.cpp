// Fuzzes JWT verification, the one parser of credentials: any byte string handed to a verifier must
// yield a JwtError or verified claims, never a crash, an exception or a sanitizer report. Three views
// of the input:
//   1. the bytes as a token, against HS256 and RS256 verifiers (algorithm pinning, base64url, JSON);
//   2. "header\npayload" signed here with the HS256 secret, so the fuzzer reaches the claim checks
//      (exp, nbf, iss, aud, scopes) behind a valid signature;
//   3. base64url decode -> encode is the identity on what decodes (strict, canonical).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "serval/app/security/jwt.hpp"

namespace {

constexpr std::string_view kSecret = "fuzzing-secret-of-at-least-32-bytes!!";

std::string public_pem() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

const serval::JwtVerifier& hs() {
  static const serval::JwtVerifier v =
      serval::JwtVerifier::hs256(kSecret, {.issuer = "iss", .audience = {"aud"}, .require_exp = false});
  return v;
}

const serval::JwtVerifier& rs() {
  static const serval::JwtVerifier v = serval::JwtVerifier::rs256(public_pem());
  return v;
}

void check(const serval::JwtResult& r) {
  if (r) {
    (void)serval::principal_from_claims(r.claims, "fuzz");
  } else if (!r.claims.empty()) {
    std::abort();  // claims are only ever exposed for a verified token
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  check(hs().verify(in));
  if (auto r = rs().verify(in)) std::abort();  // nobody here has the private key

  if (std::size_t nl = in.find('\n'); nl != std::string_view::npos) {
    std::string input = serval::base64url_encode(in.substr(0, nl)) + "." + serval::base64url_encode(in.substr(nl + 1));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    std::string token = input + "." + serval::base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
    check(hs().verify(token));
  }

  std::string decoded;
  if (serval::base64url_decode(in, decoded) && serval::base64url_encode(decoded) != in) std::abort();
  return 0;
}
