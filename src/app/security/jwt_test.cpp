// JWT verification: HS256 and RS256, algorithm pinning (none, HS/RS confusion), time claims,
// issuer/audience, key ids, strict base64url, and mutated tokens that must never verify.
#include "serval/app/security/jwt.hpp"

#include <gtest/gtest.h>

#include <random>

#include <boost/json.hpp>

#include "app/security/test_keys.hpp"

namespace serval {
namespace {

namespace json = boost::json;
using test::kSecret;
using namespace std::chrono_literals;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json::object claims(std::int64_t exp_in = 3600) {
  return json::object{{"sub", "alice"}, {"scope", "me:read items:write"}, {"exp", unix_now() + exp_in}};
}

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    std::string enc = base64url_encode(bytes);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    std::string dec;
    ASSERT_TRUE(base64url_decode(enc, dec)) << enc;
    EXPECT_EQ(dec, bytes);
    bytes.push_back(static_cast<char>(i * 37 + 250));
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodeIsStrict) {
  std::string out;
  EXPECT_FALSE(base64url_decode("YQ==", out));   // padding
  EXPECT_FALSE(base64url_decode("a+b/", out));   // standard alphabet
  EXPECT_FALSE(base64url_decode("abcde", out));  // length 1 mod 4 is impossible
  EXPECT_FALSE(base64url_decode("YR", out));     // non-zero trailing bits ("YQ" is canonical)
  EXPECT_FALSE(base64url_decode("Y Q", out));
  EXPECT_TRUE(base64url_decode("YQ", out));
  EXPECT_EQ(out, "a");
  EXPECT_TRUE(base64url_decode("", out));
  EXPECT_EQ(out, "");
}

TEST(JwtHs256, SignedTokenVerifies) {
  auto verifier = JwtVerifier::hs256(kSecret);
  std::string token = JwtSigner::hs256(kSecret).sign(claims());
  JwtResult r = verifier.verify(token);
  ASSERT_TRUE(r) << to_string(r.error);
  EXPECT_EQ(r.header.at("alg"), "HS256");
  EXPECT_EQ(r.claims.at("sub"), "alice");
  Principal p = principal_from_claims(r.claims, "bearerAuth");
  EXPECT_EQ(p.subject, "alice");
  EXPECT_EQ(p.scopes, (std::vector<std::string>{"me:read", "items:write"}));
  EXPECT_EQ(p.scheme, "bearerAuth");
  EXPECT_TRUE(p.has_scope("items:write"));
}

TEST(JwtHs256, ShortSecretIsRefused) {
  EXPECT_THROW(JwtVerifier::hs256("secret"), std::invalid_argument);
  EXPECT_THROW(JwtSigner::hs256("secret"), std::invalid_argument);
}

TEST(JwtHs256, BadSignatureAndTamperingAreRefused) {
  auto verifier = JwtVerifier::hs256(kSecret);
  std::string token = JwtSigner::hs256(kSecret).sign(claims());
  // Another secret.
  std::string other = JwtSigner::hs256(std::string(kSecret) + "x").sign(claims());
  EXPECT_EQ(verifier.verify(other).error, JwtError::kBadSignature);
  // A flipped signature character (first char: all six bits are significant).
  std::string flipped = token;
  std::size_t sig = flipped.rfind('.') + 1;
  flipped[sig] = flipped[sig] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verifier.verify(flipped).error, JwtError::kBadSignature);
  // A payload swapped for one granting more, the signature kept.
  std::size_t d1 = token.find('.'), d2 = token.rfind('.');
  json::object more = claims();
  more["scope"] = "admin";
  std::string forged = token.substr(0, d1 + 1) + base64url_encode(json::serialize(more)) + token.substr(d2);
  JwtResult r = verifier.verify(forged);
  EXPECT_EQ(r.error, JwtError::kBadSignature);
  EXPECT_TRUE(r.claims.empty());
  // Truncated signatures: shorter (whole bytes), or not even canonical base64url.
  EXPECT_EQ(verifier.verify(token.substr(0, token.size() - 3)).error, JwtError::kBadSignature);
  // 39 signature characters end in a 3-character group whose last char carries 2 padding bits;
  // 'B' sets one of them, so the encoding is not canonical whatever the signature was.
  std::string non_canonical = token.substr(0, token.size() - 4);
  non_canonical.back() = 'B';
  EXPECT_EQ(verifier.verify(non_canonical).error, JwtError::kMalformed);
}

TEST(JwtAlgorithms, NoneIsRefused) {
  auto verifier = JwtVerifier::hs256(kSecret);
  std::string payload = json::serialize(claims());
  for (const char* header : {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"NONE","typ":"JWT"})"}) {
    std::string unsigned_token = base64url_encode(header) + "." + base64url_encode(payload) + ".";
    EXPECT_EQ(verifier.verify(unsigned_token).error, JwtError::kAlgorithmNotAllowed) << header;
    EXPECT_EQ(verifier.verify(test::make_token(header, payload, "sig")).error, JwtError::kAlgorithmNotAllowed);
  }
  EXPECT_EQ(verifier.verify(test::make_token(R"({"alg":"HS512"})", payload, "x")).error, JwtError::kAlgorithmNotAllowed);
  EXPECT_EQ(verifier.verify(test::make_token(R"({"typ":"JWT"})", payload, "x")).error, JwtError::kMalformed);
  EXPECT_EQ(verifier.verify(test::make_token(R"({"alg":256})", payload, "x")).error, JwtError::kMalformed);
}

TEST(JwtAlgorithms, HsRsConfusionIsRefused) {
  // The classic attack: the RS256 public key (public!) used as an HMAC secret.
  const auto& kp = test::shared_rsa_key();
  auto verifier = JwtVerifier::rs256(kp.public_pem);
  std::string forged = JwtSigner::hs256(kp.public_pem).sign(claims());
  EXPECT_EQ(verifier.verify(forged).error, JwtError::kAlgorithmNotAllowed);
  // And the other way round: an HS256 verifier never runs RSA.
  auto hs = JwtVerifier::hs256(kSecret);
  EXPECT_EQ(hs.verify(test::sign_rs256(kp.pkey.get(), claims())).error, JwtError::kAlgorithmNotAllowed);
}

TEST(JwtRs256, SignedWithThePrivateKeyVerifies) {
  const auto& kp = test::shared_rsa_key();
  auto verifier = JwtVerifier::rs256(kp.public_pem);
  JwtResult r = verifier.verify(test::sign_rs256(kp.pkey.get(), claims()));
  ASSERT_TRUE(r) << to_string(r.error);
  EXPECT_EQ(r.claims.at("sub"), "alice");
  // Another key pair's signature does not.
  auto other = test::make_rsa_key(2048);
  EXPECT_EQ(verifier.verify(test::sign_rs256(other.pkey.get(), claims())).error, JwtError::kBadSignature);
}

TEST(JwtRs256, KeyMustBeRsaOfAtLeast2048Bits) {
  EXPECT_THROW(JwtVerifier::rs256("not a pem"), std::invalid_argument);
  EXPECT_THROW(JwtVerifier::rs256(""), std::invalid_argument);
  auto small = test::make_rsa_key(1024);
  EXPECT_THROW(JwtVerifier::rs256(small.public_pem), std::invalid_argument);
}

TEST(JwtClaims, ExpiryAndNotBeforeWithLeeway) {
  auto signer = JwtSigner::hs256(kSecret);
  auto now = std::chrono::system_clock::now();
  JwtOptions options;
  options.clock = [&now] { return now; };
  auto verifier = JwtVerifier::hs256(kSecret, options);
  std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  EXPECT_EQ(verifier.verify(signer.sign({{"sub", "a"}, {"exp", t - 1}})).error, JwtError::kExpired);
  EXPECT_EQ(verifier.verify(signer.sign({{"sub", "a"}, {"exp", t}})).error, JwtError::kExpired);  // exp is exclusive
  EXPECT_TRUE(verifier.verify(signer.sign({{"sub", "a"}, {"exp", t + 10}})));
  EXPECT_EQ(verifier.verify(signer.sign({{"sub", "a"}, {"exp", t + 100}, {"nbf", t + 50}})).error, JwtError::kNotYetValid);
  EXPECT_EQ(verifier.verify(signer.sign({{"sub", "a"}})).error, JwtError::kMissingExpiry);
  EXPECT_EQ(verifier.verify(signer.sign({{"sub", "a"}, {"exp", "tomorrow"}})).error, JwtError::kMalformed);
  EXPECT_TRUE(verifier.verify(signer.sign({{"sub", "a"}, {"exp", static_cast<double>(t) + 0.5 + 10}})));

  // The fake clock moves: a token valid now expires later.
  std::string token = signer.sign({{"sub", "a"}, {"exp", t + 60}});
  EXPECT_TRUE(verifier.verify(token));
  now += 61s;
  EXPECT_EQ(verifier.verify(token).error, JwtError::kExpired);

  options.leeway = 120s;
  options.require_exp = false;
  auto lenient = JwtVerifier::hs256(kSecret, options);
  EXPECT_TRUE(lenient.verify(token));                                                  // within leeway
  EXPECT_TRUE(lenient.verify(signer.sign({{"sub", "a"}, {"nbf", t + 61 + 100}})));  // within leeway
  EXPECT_TRUE(lenient.verify(signer.sign({{"sub", "a"}})));                            // exp optional
}

TEST(JwtClaims, IssuerAndAudience) {
  auto signer = JwtSigner::hs256(kSecret);
  auto verifier = JwtVerifier::hs256(kSecret, {.issuer = "https://auth.example", .audience = {"api", "api2"}});
  auto with = [&](json::object extra) {
    json::object c = claims();
    for (auto& kv : extra) c[kv.key()] = kv.value();
    return verifier.verify(signer.sign(c)).error;
  };
  EXPECT_EQ(with({{"iss", "https://auth.example"}, {"aud", "api"}}), JwtError::kNone);
  EXPECT_EQ(with({{"iss", "https://auth.example"}, {"aud", json::array{"other", "api2"}}}), JwtError::kNone);
  EXPECT_EQ(with({{"iss", "https://evil.example"}, {"aud", "api"}}), JwtError::kIssuerMismatch);
  EXPECT_EQ(with({{"aud", "api"}}), JwtError::kIssuerMismatch);
  EXPECT_EQ(with({{"iss", "https://auth.example"}, {"aud", "other"}}), JwtError::kAudienceMismatch);
  EXPECT_EQ(with({{"iss", "https://auth.example"}}), JwtError::kAudienceMismatch);
  EXPECT_EQ(with({{"iss", "https://auth.example"}, {"aud", json::array{1, 2}}}), JwtError::kAudienceMismatch);
}

TEST(JwtKeys, KeyIdsSelectTheKeyForRotation) {
  std::string old_secret(40, 'o'), new_secret(40, 'n');
  JwtVerifier verifier;
  verifier.add_hs256(old_secret, "2024").add_hs256(new_secret, "2025");
  EXPECT_TRUE(verifier.verify(JwtSigner::hs256(old_secret, "2024").sign(claims())));
  EXPECT_TRUE(verifier.verify(JwtSigner::hs256(new_secret, "2025").sign(claims())));
  // The right kid with the wrong key, and a kid nobody has.
  EXPECT_EQ(verifier.verify(JwtSigner::hs256(old_secret, "2025").sign(claims())).error, JwtError::kBadSignature);
  EXPECT_EQ(verifier.verify(JwtSigner::hs256(old_secret, "1999").sign(claims())).error, JwtError::kUnknownKey);
  // Without a kid in the token, every key of the algorithm is tried.
  EXPECT_TRUE(verifier.verify(JwtSigner::hs256(new_secret).sign(claims())));
}

TEST(JwtMalformed, GarbageNeverVerifies) {
  auto verifier = JwtVerifier::hs256(kSecret);
  std::string payload = json::serialize(claims());
  for (std::string_view bad : {"", ".", "..", "a.b", "a.b.c.d", "a.b.c.d.e", "!!!.???.***", "eyJhbGciOiJIUzI1NiJ9..",
                               "eyJhbGciOiJIUzI1NiJ9.e30"}) {
    EXPECT_FALSE(verifier.verify(bad)) << bad;
  }
  EXPECT_EQ(verifier.verify(test::make_token("[1,2]", payload, "x")).error, JwtError::kMalformed);
  EXPECT_EQ(verifier.verify(test::make_token("{", payload, "x")).error, JwtError::kMalformed);
  EXPECT_EQ(verifier.verify(test::make_token(R"({"alg":"HS256","crit":["exp"]})", payload, "x")).error,
            JwtError::kMalformed);
  EXPECT_EQ(verifier.verify(std::string(9000, 'a')).error, JwtError::kMalformed);
  // A correctly signed payload that is not an object.
  std::string input = base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode("[]");
  unsigned char mac[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  std::string token = input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
  EXPECT_EQ(verifier.verify(token).error, JwtError::kMalformed);
}

TEST(JwtMalformed, MutatedTokensNeverVerify) {
  // A small in-test fuzzer: random byte edits, insertions and deletions of a valid token must
  // never crash, throw, or verify (the libFuzzer target fuzz/jwt_fuzz.cpp goes further).
  auto verifier = JwtVerifier::hs256(kSecret);
  const std::string token = JwtSigner::hs256(kSecret).sign(claims());
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string t = token;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[pos] = static_cast<char>(rng() % 256); break;
        case 1: t.insert(pos, 1, static_cast<char>(rng() % 256)); break;
        default: t.erase(pos, 1); break;
      }
    }
    if (t == token) continue;
    JwtResult r;
    ASSERT_NO_THROW(r = verifier.verify(t));
    EXPECT_FALSE(r) << t;
    ++rejected;
  }
  EXPECT_GT(rejected, 2900);
}

TEST(JwtPrincipal, ScopesFromEveryClaimForm) {
  auto p = principal_from_claims(json::parse(R"({"sub":"u1","scope":"a  b","scp":["b","c",7],"scopes":"d"})").as_object(), "x");
  EXPECT_EQ(p.subject, "u1");
  EXPECT_EQ(p.scopes, (std::vector<std::string>{"a", "b", "c", "d"}));
  auto q = principal_from_claims(json::parse(R"({"client_id":"svc","scp":"read write"})").as_object(), "x");
  EXPECT_EQ(q.subject, "svc");
  EXPECT_EQ(q.scopes, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(q.claims.at("client_id"), "svc");
  auto none = principal_from_claims(json::object{}, "x");
  EXPECT_TRUE(none.subject.empty());
  EXPECT_TRUE(none.scopes.empty());
}

}  // namespace
}  // namespace serval
