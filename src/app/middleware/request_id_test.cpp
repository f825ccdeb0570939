#include "serval/app/middleware/request_id.hpp"

#include <gtest/gtest.h>

#include <set>

#include "serval/app/app.hpp"
#include "serval/app/errors.hpp"
#include "serval/app/test_client.hpp"

namespace serval {
namespace {

bool is_generated_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

class RequestIdTest : public ::testing::Test {
 protected:
  RequestIdTest() {
    app.use(std::make_shared<RequestId>());
    app.get("/who", [](Context& ctx) { return std::string(ctx.request_id()); });
    app.get("/fail", []() -> int { throw HttpError(409, "conflict"); });
    app.get("/crash", []() -> int { throw std::runtime_error("boom"); });
  }
  App app;
};

TEST_F(RequestIdTest, GeneratesAFreshIdPerRequestAndEchoesIt) {
  TestClient client{app};
  auto a = client.get("/who");
  auto b = client.get("/who");
  ASSERT_EQ(a.status, 200);
  std::string id_a(a.header("x-request-id")), id_b(b.header("x-request-id"));
  EXPECT_TRUE(is_generated_id(id_a)) << id_a;
  EXPECT_TRUE(is_generated_id(id_b)) << id_b;
  EXPECT_NE(id_a, id_b);
  EXPECT_EQ(a.json().as_string(), id_a);  // the handler saw the same id
  EXPECT_EQ(b.json().as_string(), id_b);
}

TEST_F(RequestIdTest, KeepsAWellFormedIncomingId) {
  TestClient client{app};
  auto r = client.get("/who", {{"X-Request-ID", "edge-7f3a.b_C9"}});
  EXPECT_EQ(r.header("x-request-id"), "edge-7f3a.b_C9");
  EXPECT_EQ(r.json().as_string(), "edge-7f3a.b_C9");
  std::string longest(128, 'z');
  r = client.get("/who", {{"x-request-id", longest}});
  EXPECT_EQ(r.header("X-Request-ID"), longest);
}

TEST_F(RequestIdTest, ReplacesMalformedIncomingIds) {
  TestClient client{app};
  for (std::string bad : {std::string("has space"), std::string(129, 'a'), std::string("quote\"d"),
                          std::string("semi;colon"), std::string("\xc3\xa9t\xc3\xa9"), std::string("a/b")}) {
    auto r = client.get("/who", {{"X-Request-ID", bad}});
    EXPECT_TRUE(is_generated_id(r.header("x-request-id"))) << bad << " -> " << r.header("x-request-id");
  }
}

TEST_F(RequestIdTest, EchoedOnErrorsAndNotFound) {
  TestClient client{app};
  for (const char* path : {"/fail", "/crash", "/missing"}) {
    auto r = client.get(path, {{"X-Request-ID", "trace-1"}});
    EXPECT_NE(r.status, 200) << path;
    EXPECT_EQ(r.header("x-request-id"), "trace-1") << path;
  }
  auto r = client.post("/who", "{}");  // 405
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(is_generated_id(r.header("x-request-id")));
}

TEST(RequestIdOptions, UntrustedIncomingAndCustomHeader) {
  App app;
  app.use(std::make_shared<RequestId>(RequestIdOptions{.header = "X-Correlation-ID", .trust_incoming = false}));
  app.get("/who", [](Context& ctx) { return std::string(ctx.request_id()); });
  TestClient client{app};
  auto r = client.get("/who", {{"X-Correlation-ID", "client-chosen"}});
  EXPECT_TRUE(is_generated_id(r.header("x-correlation-id")));
  EXPECT_EQ(r.json().as_string(), r.header("x-correlation-id"));
  EXPECT_TRUE(r.header("x-request-id").empty());
}

TEST(RequestIdOptions, PerRouteMiddlewareAlsoEchoes) {
  App app;
  app.get("/only", [](Context& ctx) { return std::string(ctx.request_id()); },
          {.middleware = {std::make_shared<RequestId>()}});
  app.get("/other", [](Context& ctx) { return std::string(ctx.request_id()); });
  TestClient client{app};
  EXPECT_TRUE(is_generated_id(client.get("/only").header("x-request-id")));
  auto other = client.get("/other");
  EXPECT_TRUE(other.header("x-request-id").empty());
  EXPECT_EQ(other.json().as_string(), "");
}

TEST(RequestIdUnit, ValidationAndGeneration) {
  EXPECT_TRUE(RequestId::valid("a"));
  EXPECT_TRUE(RequestId::valid("AZaz09._-"));
  EXPECT_FALSE(RequestId::valid(""));
  EXPECT_FALSE(RequestId::valid(std::string(129, 'x')));
  EXPECT_FALSE(RequestId::valid("a b"));
  EXPECT_FALSE(RequestId::valid("a\r\nSet-Cookie: x"));
  EXPECT_FALSE(RequestId::valid(std::string_view("a\0b", 3)));
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = RequestId::generate();
    ASSERT_TRUE(is_generated_id(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "duplicate id " << id;
  }
}

}  // namespace
}  // namespace serval
