// ApiKeyAuth through the whole stack (TestClient): accepted, missing and wrong keys, scopes, the
// Principal it sets (never the raw key), configuration errors, and /openapi.json.
#include "serval/app/security/api_key.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "serval/app/app.hpp"
#include "serval/app/test_client.hpp"

namespace serval {
namespace {

namespace json = boost::json;

constexpr const char* kPlainKey = "sk-live-0f9e8d7c6b5a";
constexpr const char* kBotKey = "sk-bot-11223344556677";

class ApiKeyTest : public ::testing::Test {
 protected:
  ApiKeyTest() {
    app.get("/whoami", [](const Principal& p) { return p.subject + "|" + p.scheme; },
            {.middleware = {keys.require()}});
    app.post("/jobs", [](const Principal& p) { return p.subject; }, {.middleware = {keys.require({"jobs:write"})}});
  }

  ApiKeyAuth keys{{.keys = {kPlainKey, {kBotKey, "ci-bot", {"jobs:write"}}}}};
  App app;
  TestClient client{app};
};

TEST_F(ApiKeyTest, KnownKeyIsAccepted) {
  auto r = client.get("/whoami", {{"X-API-Key", kBotKey}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), "ci-bot|APIKeyHeader");
  // An unnamed key is named by a hash prefix, never by the key itself.
  auto anon = client.get("/whoami", {{"x-api-key", kPlainKey}});
  ASSERT_EQ(anon.status, 200);
  std::string subject(anon.json().as_string());
  EXPECT_TRUE(subject.starts_with("apikey:")) << subject;
  EXPECT_EQ(subject.size(), std::string("apikey:").size() + 12 + std::string("|APIKeyHeader").size());
  EXPECT_EQ(subject.find("sk-live"), std::string::npos);
}

TEST_F(ApiKeyTest, MissingKeyIs401) {
  auto r = client.get("/whoami");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"Not authenticated"})");
  EXPECT_EQ(r.header("WWW-Authenticate"), R"(APIKey header="X-API-Key")");
}

TEST_F(ApiKeyTest, WrongKeyIs401) {
  for (std::string bad : {std::string("sk-live-0f9e8d7c6b5b"), std::string(kPlainKey) + "x", std::string("sk"),
                          std::string(kPlainKey).substr(1)}) {
    auto r = client.get("/whoami", {{"X-API-Key", bad}});
    EXPECT_EQ(r.status, 401) << bad;
    EXPECT_EQ(r.body, R"({"detail":"Invalid API key"})");
    EXPECT_EQ(r.header("WWW-Authenticate"), R"(APIKey header="X-API-Key")");
  }
  // The key goes in its header, not in Authorization.
  EXPECT_EQ(client.get("/whoami", {{"Authorization", std::string("Bearer ") + kPlainKey}}).status, 401);
}

TEST_F(ApiKeyTest, ScopesComeFromTheKey) {
  EXPECT_EQ(client.post("/jobs", "", {{"X-API-Key", kBotKey}}).status, 200);
  auto r = client.post("/jobs", "", {{"X-API-Key", kPlainKey}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"detail":"Not enough permissions"})");
}

TEST_F(ApiKeyTest, OpenApiHasTheApiKeyScheme) {
  auto doc = client.get("/openapi.json").json();
  EXPECT_EQ(doc.at("components").at("securitySchemes").at("APIKeyHeader").at("type"), "apiKey");
  EXPECT_EQ(doc.at("components").at("securitySchemes").at("APIKeyHeader").at("in"), "header");
  EXPECT_EQ(doc.at("components").at("securitySchemes").at("APIKeyHeader").at("name"), "X-API-Key");
  EXPECT_EQ(doc.at("paths").at("/whoami").at("get").at("security"), json::parse(R"([{"APIKeyHeader":[]}])"));
  EXPECT_EQ(doc.at("paths").at("/jobs").at("post").at("security"), json::parse(R"([{"APIKeyHeader":["jobs:write"]}])"));
  EXPECT_TRUE(doc.at("paths").at("/jobs").at("post").at("responses").as_object().contains("403"));
}

TEST(ApiKeyAuthConfig, RefusesUselessConfigurations) {
  EXPECT_THROW(ApiKeyAuth({.keys = {}}), std::invalid_argument);
  EXPECT_THROW(ApiKeyAuth({.keys = {"ok-key", ""}}), std::invalid_argument);
  EXPECT_THROW(ApiKeyAuth({.header = "", .keys = {"k"}}), std::invalid_argument);
}

TEST(ApiKeyAuthGlobal, CustomHeaderAndPublicPaths) {
  ApiKeyAuth keys{{.header = "X-Service-Token", .keys = {"tok-abc"}, .public_paths = {"/ping"}}};
  App app;
  app.use(std::make_shared<ApiKeyAuth>(keys));
  app.get("/data", [] { return 42; });
  app.get("/ping", [] { return std::string("pong"); });
  TestClient client{app};
  EXPECT_EQ(client.get("/data").status, 401);
  EXPECT_EQ(client.get("/data", {{"X-API-Key", "tok-abc"}}).status, 401);
  EXPECT_EQ(client.get("/data", {{"X-Service-Token", "tok-abc"}}).json(), 42);
  EXPECT_EQ(client.get("/ping").status, 200);
  EXPECT_EQ(client.get("/openapi.json").status, 200);
  EXPECT_TRUE(keys.authenticate("tok-abc").has_value());
  EXPECT_FALSE(keys.authenticate("tok-abd").has_value());
  EXPECT_FALSE(keys.authenticate("").has_value());
}

}  // namespace
}  // namespace serval
