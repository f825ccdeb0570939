#include "serval/http/router.hpp"

#include <gtest/gtest.h>

namespace serval::http {
namespace {

TEST(Router, StaticAndParamRoutes) {
  Router r;
  r.add(Method::kGet, "/", 0);
  r.add(Method::kGet, "/health", 1);
  r.add(Method::kPost, "/v2/models/{name}/versions/{version}/infer", 2);
  r.add(Method::kGet, "/v2/models/{name}", 3);
  r.add(Method::kGet, "/v2/models/stats", 4);
  Router::Params params;

  auto m = r.match(Method::kGet, "/", params);
  EXPECT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route_id, 0u);

  m = r.match(Method::kPost, "/v2/models/ocr/versions/7/infer", params);
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route_id, 2u);
  EXPECT_EQ(m.pattern, "/v2/models/{name}/versions/{version}/infer");
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "name");
  EXPECT_EQ(params[0].second, "ocr");
  EXPECT_EQ(params[1].first, "version");
  EXPECT_EQ(params[1].second, "7");

  // A static segment wins over a parameter at the same depth.
  m = r.match(Method::kGet, "/v2/models/stats", params);
  EXPECT_EQ(m.route_id, 4u);
  EXPECT_TRUE(params.empty());
  m = r.match(Method::kGet, "/v2/models/langid", params);
  EXPECT_EQ(m.route_id, 3u);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].second, "langid");
}

TEST(Router, BacktracksFromStaticToParam) {
  Router r;
  r.add(Method::kGet, "/a/b/c", 0);
  r.add(Method::kGet, "/a/{x}/d", 1);
  Router::Params params;
  auto m = r.match(Method::kGet, "/a/b/d", params);
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route_id, 1u);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].second, "b");
}

TEST(Router, NotFoundAndMethodNotAllowed) {
  Router r;
  r.add(Method::kGet, "/items/{id}", 0);
  r.add(Method::kDelete, "/items/{id}", 1);
  Router::Params params;
  EXPECT_EQ(r.match(Method::kGet, "/nope", params).kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/items", params).kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/items/", params).kind, Router::Match::Kind::kNotFound);  // empty param
  EXPECT_EQ(r.match(Method::kGet, "/items/1/extra", params).kind, Router::Match::Kind::kNotFound);
  auto m = r.match(Method::kPost, "/items/1", params);
  EXPECT_EQ(m.kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, DELETE");
}

TEST(Router, HeadFallsBackToGet) {
  Router r;
  r.add(Method::kGet, "/x", 5);
  Router::Params params;
  auto m = r.match(Method::kHead, "/x", params);
  EXPECT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route_id, 5u);
}

TEST(Router, RejectsBadPatterns) {
  Router r;
  EXPECT_THROW(r.add(Method::kGet, "nope", 0), std::invalid_argument);
  EXPECT_THROW(r.add(Method::kGet, "/a/{}", 0), std::invalid_argument);
  EXPECT_THROW(r.add(Method::kGet, "/a/x{id}", 0), std::invalid_argument);
  EXPECT_THROW(r.add(Method::kGet, "/a/{id}/{id}", 0), std::invalid_argument);
  r.add(Method::kGet, "/a/{id}", 0);
  EXPECT_THROW(r.add(Method::kGet, "/a/{id}", 1), std::invalid_argument);       // duplicate
  EXPECT_THROW(r.add(Method::kPost, "/a/{name}", 1), std::invalid_argument);    // conflicting names
  EXPECT_EQ(Router::param_names("/m/{name}/v/{version}"), (std::vector<std::string>{"name", "version"}));
}

TEST(Router, CatchAllTakesTheRestOfThePath) {
  Router r;
  r.add(Method::kGet, "/static/{path...}", 0);
  r.add(Method::kGet, "/static/special", 1);
  r.add(Method::kGet, "/static/{dir}/index", 2);
  Router::Params params;

  auto m = r.match(Method::kGet, "/static/css/site/main.css", params);
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_EQ(m.route_id, 0u);
  EXPECT_EQ(m.pattern, "/static/{path...}");
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "path");
  EXPECT_EQ(params[0].second, "css/site/main.css");

  m = r.match(Method::kGet, "/static/a.txt", params);
  EXPECT_EQ(m.route_id, 0u);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].second, "a.txt");

  // Trailing and doubled slashes stay in the value, raw (still percent-encoded).
  m = r.match(Method::kGet, "/static/d//e/%2e%2e/", params);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].second, "d//e/%2e%2e/");

  // Static and {param} routes win; the catch-all needs at least one character.
  m = r.match(Method::kGet, "/static/special", params);
  EXPECT_EQ(m.route_id, 1u);
  EXPECT_TRUE(params.empty());
  m = r.match(Method::kGet, "/static/x/index", params);
  EXPECT_EQ(m.route_id, 2u);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "dir");
  m = r.match(Method::kGet, "/static/x/index/more", params);  // backtracks from {dir} to the catch-all
  EXPECT_EQ(m.route_id, 0u);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].second, "x/index/more");
  EXPECT_EQ(r.match(Method::kGet, "/static/", params).kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/static", params).kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kPost, "/static/a.txt", params).kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(r.match(Method::kHead, "/static/a.txt", params).route_id, 0u);
}

TEST(Router, CatchAllAtTheRootAndItsRules) {
  Router r;
  r.add(Method::kGet, "/api/items", 0);
  r.add(Method::kGet, "/{file...}", 1);
  Router::Params params;
  EXPECT_EQ(r.match(Method::kGet, "/api/items", params).route_id, 0u);
  auto m = r.match(Method::kGet, "/api/other", params);
  EXPECT_EQ(m.route_id, 1u);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].second, "api/other");
  EXPECT_EQ(r.match(Method::kGet, "/", params).kind, Router::Match::Kind::kNotFound);

  EXPECT_EQ(Router::param_names("/s/{dir}/{rest...}"), (std::vector<std::string>{"dir", "rest"}));
  EXPECT_THROW(r.add(Method::kGet, "/a/{rest...}/b", 2), std::invalid_argument);  // must be last
  EXPECT_THROW(r.add(Method::kPost, "/{other...}", 2), std::invalid_argument);    // conflicting names
  EXPECT_THROW(r.add(Method::kGet, "/{file...}", 2), std::invalid_argument);      // duplicate
  EXPECT_THROW(r.add(Method::kGet, "/a/x{rest...}", 2), std::invalid_argument);
}

}  // namespace
}  // namespace serval::http
