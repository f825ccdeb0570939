// Principal: scope checks, and `const serval::Principal&` as a handler parameter (401 without an
// authentication step, the 401 documented in /openapi.json).
#include "serval/app/security/principal.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "serval/app/app.hpp"
#include "serval/app/test_client.hpp"

namespace serval {
namespace {

TEST(Principal, Scopes) {
  Principal p{.subject = "alice", .scopes = {"me:read", "items:write"}, .scheme = "bearerAuth"};
  EXPECT_TRUE(p.has_scope("me:read"));
  EXPECT_FALSE(p.has_scope("me"));
  EXPECT_FALSE(p.has_scope(""));
  EXPECT_TRUE(p.has_scopes({}));
  EXPECT_TRUE(p.has_scopes({"items:write", "me:read"}));
  EXPECT_FALSE(p.has_scopes({"me:read", "admin"}));
  EXPECT_EQ(p.missing_scopes({"admin", "me:read", "root"}), (std::vector<std::string>{"admin", "root"}));
}

// Stands in for an authentication step: X-User names the caller.
struct FakeAuth : Middleware {
  std::optional<http::Response> before(http::Request& req, Context& ctx) override {
    if (req.has_header("x-user"))
      ctx.emplace<Principal>(Principal{.subject = std::string(req.header("x-user")), .scopes = {"s1"}, .scheme = "fake"});
    return std::nullopt;
  }
};

TEST(PrincipalParameter, HandlerReceivesThePrincipal) {
  App app;
  app.use(std::make_shared<FakeAuth>());
  app.get("/me", [](const Principal& me) { return me.subject + ":" + me.scopes.at(0); });
  app.get("/copy", [](Principal me) { return me.scheme; });
  app.get("/ctx", [](Context& ctx) {
    const Principal* p = ctx.find<Principal>();
    return p != nullptr ? p->subject : std::string("anonymous");
  });
  TestClient client{app};
  auto r = client.get("/me", {{"X-User", "bob"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json(), "bob:s1");
  EXPECT_EQ(client.get("/copy", {{"X-User", "bob"}}).json(), "fake");
  EXPECT_EQ(client.get("/ctx", {{"X-User", "eve"}}).json(), "eve");
  EXPECT_EQ(client.get("/ctx").json(), "anonymous");
}

TEST(PrincipalParameter, MissingPrincipalIs401AndDocumented) {
  App app;
  app.get("/me", [](const Principal& me) { return me.subject; });
  app.get("/async", [](const Principal& me) -> Task<std::string> { co_return me.subject; });
  TestClient client{app};
  for (const char* path : {"/me", "/async"}) {
    auto r = client.get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.body, R"({"detail":"Not authenticated"})");
  }
  auto doc = client.get("/openapi.json").json();
  auto& responses = doc.at("paths").at("/me").at("get").at("responses");
  EXPECT_EQ(responses.at("401").at("description"), "Not authenticated");
  EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains("HTTPError"));
}

}  // namespace
}  // namespace serval
