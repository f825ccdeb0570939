// BearerAuth through the whole stack (TestClient): valid HS256 and RS256 tokens, the 401 and 403
// shapes with their WWW-Authenticate headers, global and per-route use, and /openapi.json.
#include "serval/app/security/bearer.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "app/security/test_keys.hpp"
#include "serval/app/app.hpp"
#include "serval/app/security/api_key.hpp"
#include "serval/app/test_client.hpp"

namespace serval {
namespace {

namespace json = boost::json;
using test::kSecret;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TestClient::Headers auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

struct Me {
  std::string subject;
  std::vector<std::string> scopes;
};

}  // namespace
}  // namespace serval

template <>
inline constexpr auto serval::schema<serval::Me> =
    serval::fields(serval::field("subject", &serval::Me::subject), serval::field("scopes", &serval::Me::scopes));

namespace serval {
namespace {

class BearerTest : public ::testing::Test {
 protected:
  BearerTest() {
    app.get("/me", [](const Principal& me) { return Me{me.subject, me.scopes}; },
            {.middleware = {bearer.require({"me:read"})}});
    app.get("/any", [](const Principal& me) { return me.subject; }, {.middleware = {bearer.require()}});
    app.get("/public", [] { return std::string("hello"); });
  }

  std::string token(json::object extra = {}, std::int64_t exp_in = 600) {
    json::object c{{"sub", "alice"}, {"scope", "me:read"}, {"exp", unix_now() + exp_in}};
    for (auto& kv : extra) c[kv.key()] = kv.value();
    return signer.sign(c);
  }

  JwtSigner signer = JwtSigner::hs256(kSecret);
  BearerAuth bearer{JwtVerifier::hs256(kSecret)};
  App app{{.title = "Secure"}};
  TestClient client{app};
};

TEST_F(BearerTest, ValidHs256TokenGives200WithPrincipal) {
  auto r = client.get("/me", auth(token()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), json::parse(R"({"subject":"alice","scopes":["me:read"]})"));
  EXPECT_EQ(client.get("/any", {{"authorization", "bearer " + token()}}).status, 200);  // scheme is case-insensitive
  EXPECT_EQ(client.get("/public").status, 200);
}

TEST_F(BearerTest, MissingTokenIs401NotAuthenticated) {
  for (const TestClient::Headers& h : {TestClient::Headers{}, TestClient::Headers{{"Authorization", "Basic YTpi"}},
                                       TestClient::Headers{{"Authorization", "Bearer"}},
                                       TestClient::Headers{{"Authorization", "Bearer   "}}}) {
    auto r = client.get("/me", h);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, R"({"detail":"Not authenticated"})");
    EXPECT_EQ(r.header("www-authenticate"), "Bearer");
  }
}

TEST_F(BearerTest, ExpiredTokenIs401InvalidToken) {
  auto r = client.get("/me", auth(token({}, -10)));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"Could not validate credentials"})");
  EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer error="invalid_token")");
}

TEST_F(BearerTest, BadSignatureIs401) {
  std::string t = JwtSigner::hs256(std::string(kSecret) + "other").sign(
      {{"sub", "alice"}, {"scope", "me:read"}, {"exp", unix_now() + 600}});
  auto r = client.get("/me", auth(t));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer error="invalid_token")");
  EXPECT_EQ(client.get("/me", auth("not-a-jwt")).status, 401);
}

TEST_F(BearerTest, AlgNoneIs401) {
  json::object c{{"sub", "alice"}, {"scope", "me:read"}, {"exp", unix_now() + 600}};
  std::string t = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(json::serialize(c)) + ".";
  auto r = client.get("/me", auth(t));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"Could not validate credentials"})");
}

TEST_F(BearerTest, MissingScopeIs403WithInsufficientScope) {
  auto r = client.get("/me", auth(token({{"scope", "items:read"}})));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"detail":"Not enough permissions"})");
  EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer scope="me:read", error="insufficient_scope")");
  EXPECT_EQ(client.get("/any", auth(token({{"scope", "items:read"}}))).status, 200);  // no scope needed there
}

TEST_F(BearerTest, OpenApiHasSchemeAndPerOperationSecurity) {
  auto doc = client.get("/openapi.json").json();
  EXPECT_EQ(doc.at("components").at("securitySchemes").at("bearerAuth").at("type"), "http");
  EXPECT_EQ(doc.at("components").at("securitySchemes").at("bearerAuth").at("scheme"), "bearer");
  EXPECT_EQ(doc.at("components").at("securitySchemes").at("bearerAuth").at("bearerFormat"), "JWT");
  auto& me = doc.at("paths").at("/me").at("get");
  EXPECT_EQ(me.at("security"), json::parse(R"([{"bearerAuth":["me:read"]}])"));
  EXPECT_EQ(me.at("responses").at("401").at("content").at("application/json").at("schema").at("$ref"),
            "#/components/schemas/HTTPError");
  EXPECT_TRUE(me.at("responses").as_object().contains("403"));
  EXPECT_TRUE(me.at("responses").as_object().contains("200"));
  auto& any = doc.at("paths").at("/any").at("get");
  EXPECT_EQ(any.at("security"), json::parse(R"([{"bearerAuth":[]}])"));
  EXPECT_FALSE(any.at("responses").as_object().contains("403"));
  EXPECT_FALSE(doc.at("paths").at("/public").at("get").as_object().contains("security"));
  EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains("HTTPError"));
}

TEST(BearerRs256, ValidTokenAndHsConfusion) {
  const auto& kp = test::shared_rsa_key();
  BearerAuth bearer{JwtVerifier::rs256(kp.public_pem)};
  App app;
  app.get("/me", [](const Principal& me) { return me.subject; }, {.middleware = {bearer.require({"me:read"})}});
  TestClient client{app};
  json::object c{{"sub", "rsa-user"}, {"scp", json::array{"me:read"}}, {"exp", unix_now() + 600}};
  auto r = client.get("/me", auth(test::sign_rs256(kp.pkey.get(), c)));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), "rsa-user");
  // HS256 signed with the public key PEM as the secret: refused.
  auto forged = client.get("/me", auth(JwtSigner::hs256(kp.public_pem).sign(c)));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.header("WWW-Authenticate"), R"(Bearer error="invalid_token")");
}

TEST(BearerGlobal, GuardsEveryRouteButTheDocs) {
  BearerAuth bearer{JwtVerifier::hs256(kSecret)};
  App app;
  app.use(bearer.require());
  app.get("/me", [](const Principal& me) { return me.subject; });
  app.get("/admin", [](const Principal& me) { return me.subject; }, {.middleware = {bearer.require({"admin"})}});
  TestClient client{app};
  EXPECT_EQ(client.get("/me").status, 401);
  EXPECT_EQ(client.get("/nowhere").status, 401);  // before routing: no hint about what exists
  EXPECT_EQ(client.get("/openapi.json").status, 200);
  EXPECT_NE(client.get("/docs").status, 401);
  auto t = JwtSigner::hs256(kSecret).sign({{"sub", "u"}, {"scope", "me:read"}, {"exp", unix_now() + 60}});
  EXPECT_EQ(client.get("/me", auth(t)).status, 200);
  auto r = client.get("/admin", auth(t));  // authenticated once (global), scopes checked per route
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer scope="admin", error="insufficient_scope")");

  auto doc = client.get("/openapi.json").json();
  EXPECT_EQ(doc.at("paths").at("/me").at("get").at("security"), json::parse(R"([{"bearerAuth":[]}])"));
  EXPECT_EQ(doc.at("paths").at("/admin").at("get").at("security"), json::parse(R"([{"bearerAuth":["admin"]}])"));
}

TEST(BearerOptional, AnonymousPassesInvalidDoesNot) {
  BearerAuth bearer{JwtVerifier::hs256(kSecret)};
  App app;
  app.get("/feed", [](Context& ctx) {
    const Principal* p = ctx.find<Principal>();
    return p != nullptr ? p->subject : std::string("anonymous");
  }, {.middleware = {bearer.optional()}});
  TestClient client{app};
  EXPECT_EQ(client.get("/feed").json(), "anonymous");
  auto t = JwtSigner::hs256(kSecret).sign({{"sub", "u7"}, {"exp", unix_now() + 60}});
  EXPECT_EQ(client.get("/feed", auth(t)).json(), "u7");
  EXPECT_EQ(client.get("/feed", auth("garbage")).status, 401);
  auto doc = client.get("/openapi.json").json();
  EXPECT_EQ(doc.at("paths").at("/feed").at("get").at("security"), json::parse(R"([{"bearerAuth":[]},{}])"));
}

TEST(BearerAndApiKey, BothRequiredAreAndedInOpenApi) {
  BearerAuth bearer{JwtVerifier::hs256(kSecret)};
  ApiKeyAuth keys{{.keys = {"k-123456"}}};
  App app;
  app.get("/both", [] { return 1; }, {.middleware = {keys.require(), bearer.require({"x"})}});
  TestClient client{app};
  auto doc = client.get("/openapi.json").json();
  EXPECT_EQ(doc.at("paths").at("/both").at("get").at("security"),
            json::parse(R"([{"APIKeyHeader":[],"bearerAuth":["x"]}])"));
  auto& schemes = doc.at("components").at("securitySchemes").as_object();
  EXPECT_TRUE(schemes.contains("APIKeyHeader"));
  EXPECT_TRUE(schemes.contains("bearerAuth"));
  // At run time both are needed; the bearer principal (the later step) is what the handler sees.
  auto t = JwtSigner::hs256(kSecret).sign({{"sub", "u"}, {"scope", "x"}, {"exp", unix_now() + 60}});
  EXPECT_EQ(client.get("/both", auth(t)).status, 401);
  EXPECT_EQ(client.get("/both", {{"X-API-Key", "k-123456"}}).status, 401);
  EXPECT_EQ(client.get("/both", {{"X-API-Key", "k-123456"}, {"Authorization", "Bearer " + t}}).status, 200);
}

}  // namespace
}  // namespace serval
