#include "serval/app/middleware/cors.hpp"

#include <gtest/gtest.h>

#include "serval/app/app.hpp"
#include "serval/app/errors.hpp"
#include "serval/app/test_client.hpp"

namespace serval {
namespace {

using Headers = TestClient::Headers;

void add_routes(App& app) {
  app.get("/items", [] { return std::string("items"); });
  app.post("/items", [] { return std::string("created"); });
  app.get("/fail", []() -> int { throw HttpError(409, "conflict"); });
  app.get("/varied", [] { return http::Response::json(200, "1").with_header("Vary", "Accept-Language"); });
  app.get("/own-cors", [] {
    return http::Response::json(200, "1").with_header("access-control-allow-origin", "https://stale.example");
  });
}

std::size_t count_headers(const TestClient::Response& r, std::string_view name) {
  std::size_t n = 0;
  for (const auto& [k, v] : r.headers) n += http::iequals(k, name) ? 1 : 0;
  return n;
}

bool has_cors_headers(const TestClient::Response& r) {
  for (const auto& [name, value] : r.headers)
    if (http::iequals(name.substr(0, std::min<std::size_t>(name.size(), 15)), "access-control-")) return true;
  return false;
}

class CorsListTest : public ::testing::Test {
 protected:
  CorsListTest() {
    app.use(std::make_shared<Cors>(CorsOptions{.allow_origins = {"https://app.example.com", "http://localhost:3000"},
                                               .allow_methods = {"GET", "POST"},
                                               .allow_headers = {"Authorization", "X-Trace"},
                                               .expose_headers = {"X-Request-ID", "X-Cache"},
                                               .allow_credentials = true,
                                               .max_age = 300}));
    add_routes(app);
  }
  App app;
};

TEST_F(CorsListTest, PreflightAllowed) {
  TestClient client{app};
  auto r = client.options("/items", {{"Origin", "https://app.example.com"},
                                     {"Access-Control-Request-Method", "POST"},
                                     {"Access-Control-Request-Headers", "authorization, content-type,X-TRACE"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(r.header("access-control-allow-methods"), "GET, POST");
  EXPECT_EQ(r.header("access-control-allow-headers"),
            "Accept, Accept-Language, Authorization, Content-Language, Content-Type, X-Trace");
  EXPECT_EQ(r.header("access-control-max-age"), "300");
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
  EXPECT_EQ(r.header("vary"), "Origin");
  EXPECT_TRUE(r.header("access-control-expose-headers").empty());  // not part of a preflight answer
}

TEST_F(CorsListTest, PreflightRefusalsNameWhatWasRefused) {
  TestClient client{app};
  auto r = client.options("/items", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("detail"), "Disallowed CORS origin");
  EXPECT_TRUE(r.header("access-control-allow-origin").empty());

  r = client.options("/items", {{"Origin", "http://localhost:3000"}, {"Access-Control-Request-Method", "DELETE"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("detail"), "Disallowed CORS method");
  EXPECT_EQ(r.header("access-control-allow-origin"), "http://localhost:3000");

  r = client.options("/items", {{"Origin", "http://localhost:3000"},
                                {"Access-Control-Request-Method", "GET"},
                                {"Access-Control-Request-Headers", "X-Trace, X-Secret"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("detail"), "Disallowed CORS headers");

  r = client.options("/items", {{"Origin", "null"},
                                {"Access-Control-Request-Method", "get"},  // methods are case-sensitive
                                {"Access-Control-Request-Headers", "X-Secret"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("detail"), "Disallowed CORS origin, method, headers");
}

TEST_F(CorsListTest, PreflightIsAnsweredBeforeRouting) {
  TestClient client{app};
  // No route has OPTIONS, and this path does not even exist: the preflight is still answered.
  auto r = client.options("/not-a-route", {{"Origin", "http://localhost:3000"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 200);
  // A plain OPTIONS (no Access-Control-Request-Method) is not a preflight: the router answers it.
  r = client.options("/items", {{"Origin", "http://localhost:3000"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(r.header("access-control-allow-origin"), "http://localhost:3000");
}

TEST_F(CorsListTest, ActualRequestFromAnAllowedOrigin) {
  TestClient client{app};
  auto r = client.post("/items", "{}", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
  EXPECT_EQ(r.header("access-control-expose-headers"), "X-Request-ID, X-Cache");
  EXPECT_EQ(r.header("vary"), "Origin");
  EXPECT_TRUE(r.header("access-control-allow-methods").empty());

  // Errors carry the headers too, or browser code could not read the error body.
  for (const char* path : {"/fail", "/nope"}) {
    r = client.get(path, {{"Origin", "http://localhost:3000"}});
    EXPECT_NE(r.status, 200);
    EXPECT_EQ(r.header("access-control-allow-origin"), "http://localhost:3000") << path;
  }
  // CORS headers a handler set itself are replaced, not duplicated.
  r = client.get("/own-cors", {{"Origin", "http://localhost:3000"}});
  EXPECT_EQ(r.header("access-control-allow-origin"), "http://localhost:3000");
  EXPECT_EQ(count_headers(r, "access-control-allow-origin"), 1u);
  EXPECT_EQ(count_headers(r, "access-control-allow-credentials"), 1u);
  // An existing Vary is extended, not replaced.
  r = client.get("/varied", {{"Origin", "http://localhost:3000"}});
  EXPECT_EQ(r.header("vary"), "Accept-Language, Origin");
}

TEST_F(CorsListTest, DisallowedOriginGetsNoGrantButVary) {
  TestClient client{app};
  auto r = client.get("/items", {{"Origin", "https://app.example.com.evil.io"}});
  EXPECT_EQ(r.status, 200);  // the browser, not the server, blocks the read
  EXPECT_FALSE(has_cors_headers(r));
  EXPECT_EQ(r.header("vary"), "Origin");
}

TEST_F(CorsListTest, NonCorsRequestsAreUntouched) {
  TestClient client{app};
  auto r = client.get("/items");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(has_cors_headers(r));
  EXPECT_TRUE(r.header("vary").empty());
  r = client.options("/items", {{"Access-Control-Request-Method", "GET"}});  // no Origin: not a preflight even with the request-method header
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(has_cors_headers(r));
}

TEST(CorsWildcard, AnyOriginWithoutCredentials) {
  App app;
  app.use(std::make_shared<Cors>(CorsOptions{.allow_origins = {"*"}, .allow_methods = {"*"}, .allow_headers = {"*"}}));
  add_routes(app);
  TestClient client{app};
  auto r = client.options("/items", {{"Origin", "https://anyone.example"},
                                     {"Access-Control-Request-Method", "PATCH"},
                                     {"Access-Control-Request-Headers", "X-Anything, X-Else"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_EQ(r.header("access-control-allow-methods"), "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
  EXPECT_EQ(r.header("access-control-allow-headers"), "X-Anything, X-Else");  // mirrored
  EXPECT_EQ(r.header("access-control-max-age"), "600");
  EXPECT_TRUE(r.header("access-control-allow-credentials").empty());
  EXPECT_TRUE(r.header("vary").empty());

  r = client.get("/items", {{"Origin", "https://anyone.example"}});
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_TRUE(r.header("vary").empty());
  EXPECT_TRUE(r.header("access-control-allow-credentials").empty());
}

TEST(CorsWildcard, AnyOriginWithCredentialsEchoesTheOrigin) {
  App app;
  app.use(std::make_shared<Cors>(CorsOptions{.allow_origins = {"*"}, .allow_credentials = true}));
  add_routes(app);
  TestClient client{app};
  auto r = client.get("/items", {{"Origin", "https://anyone.example"}});
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://anyone.example");  // "*" is refused with credentials
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
  EXPECT_EQ(r.header("vary"), "Origin");
  r = client.options("/items", {{"Origin", "https://anyone.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://anyone.example");
  EXPECT_EQ(r.header("access-control-allow-methods"), "GET");  // Starlette's default
}

TEST(CorsRegex, OriginsMatchingThePatternAreAllowed) {
  App app;
  app.use(std::make_shared<Cors>(
      CorsOptions{.allow_origins = {"https://exact.example"}, .allow_origin_regex = R"(https://[a-z0-9-]+\.example\.org)"}));
  add_routes(app);
  TestClient client{app};
  EXPECT_EQ(client.get("/items", {{"Origin", "https://pr-42.example.org"}}).header("access-control-allow-origin"),
            "https://pr-42.example.org");
  EXPECT_EQ(client.get("/items", {{"Origin", "https://exact.example"}}).header("access-control-allow-origin"),
            "https://exact.example");
  // Full match only: a suffix after the pattern is not allowed.
  EXPECT_TRUE(client.get("/items", {{"Origin", "https://a.example.org.evil.io"}}).header("access-control-allow-origin").empty());
  EXPECT_THROW(Cors(CorsOptions{.allow_origin_regex = "(unclosed"}), std::invalid_argument);
}

}  // namespace
}  // namespace serval
