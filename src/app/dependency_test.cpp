// Dependency injection, lifespan, background tasks and middleware order, through the TestClient.
#include "serval/app/dependency.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "serval/app/app.hpp"
#include "serval/app/test_client.hpp"

namespace {
struct Database {
  std::string name;
  int opened = 0;
};
struct User {
  std::string name;
};
struct Clock {
  int now = 42;
};
}  // namespace

namespace serval {
namespace {

namespace json = boost::json;

TEST(Dependencies, AppScopeIsBuiltOnceAtStartupRequestScopePerRequest) {
  App app;
  int db_built = 0, user_built = 0, user_released = 0;
  app.provide<Database>([&db_built] {
    ++db_built;
    return Database{"main", 1};
  });
  app.provide_per_request<User>([&user_built, &user_released](Header<std::string, "x-user"> name,
                                                              Dep<Database> db) -> std::shared_ptr<User> {
    ++user_built;
    if (name->empty()) throw HttpError(401, "Not authenticated");
    // A custom deleter runs when the request ends: FastAPI's `yield` dependency clean-up.
    return std::shared_ptr<User>(new User{*name + "@" + db->name}, [&user_released](User* u) {
      ++user_released;
      delete u;
    });
  });
  app.get("/me", [](Dep<User> user, Dep<User> again, Dep<Database> db) {
    EXPECT_EQ(user.ptr, again.ptr);  // one value per request, shared
    return user->name + " " + std::to_string(db->opened);
  });
  TestClient client{app};
  EXPECT_EQ(db_built, 1);  // built by startup, before any request

  auto r = client.get("/me", {{"X-User", "alice"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json(), "alice@main 1");
  r = client.get("/me", {{"X-User", "bob"}});
  EXPECT_EQ(r.json(), "bob@main 1");
  EXPECT_EQ(db_built, 1);
  EXPECT_EQ(user_built, 2);
  EXPECT_EQ(user_released, 2);

  r = client.get("/me");  // the provider's own input is validated like a handler's
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json().at("detail").at(0).at("loc"), json::parse(R"(["header","x-user"])"));
  r = client.get("/me", {{"X-User", ""}});
  EXPECT_EQ(r.status, 401);

  // The provider's input appears in the route's OpenAPI parameters.
  auto doc = client.get("/openapi.json").json();
  auto& params = doc.at("paths").at("/me").at("get").at("parameters").as_array();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].at("name"), "x-user");
  EXPECT_EQ(params[0].at("in"), "header");
}

TEST(Dependencies, OverridesReplaceProvidersInTests) {
  App app;
  app.provide_per_request<User>([](Header<std::string, "x-user"> name) { return User{*name}; });
  app.get("/me", [](Dep<User> user) { return user->name; });
  app.override_dependency<User>([] { return User{"test-user"}; });
  TestClient client{app};
  EXPECT_EQ(client.get("/me").json(), "test-user");
  app.clear_dependency_overrides();
  EXPECT_EQ(client.get("/me", {{"X-User", "real"}}).json(), "real");
}

TEST(Dependencies, MissingProviderIsA500WithAClearLog) {
  App app;
  app.get("/clock", [](Dep<Clock> c) { return c->now; });
  TestClient client{app};
  auto r = client.get("/clock");
  EXPECT_EQ(r.status, 500);
}

TEST(Dependencies, ValuesPutInTheContextByMiddlewareAreInjectable) {
  struct SetUser : Middleware {
    std::optional<http::Response> before(http::Request&, Context& ctx) override {
      ctx.emplace<User>(User{"from-middleware"});
      return std::nullopt;
    }
  };
  App app;
  app.use(std::make_shared<SetUser>());
  app.get("/me", [](Dep<User> user) { return user->name; });
  TestClient client{app};
  EXPECT_EQ(client.get("/me").json(), "from-middleware");
}

TEST(Lifespan, StartupHooksRunBeforeRequestsAndReadyFlips) {
  App app;
  std::vector<std::string> events;
  app.on_startup([&] { events.push_back("start"); });
  app.on_shutdown([&] { events.push_back("stop-1"); });
  app.on_shutdown([&] { events.push_back("stop-2"); });
  EXPECT_FALSE(app.ready());
  TestClient client{app};
  EXPECT_TRUE(app.ready());
  EXPECT_EQ(client.get("/ready").json(), json::parse(R"({"status":"ready"})"));
  EXPECT_EQ(client.get("/health").json(), json::parse(R"({"status":"ok"})"));
  app.shutdown();
  app.shutdown();  // idempotent
  EXPECT_EQ(events, (std::vector<std::string>{"start", "stop-2", "stop-1"}));
  // After shutdown the app is not ready: routes answer 503, probes still answer.
  EXPECT_EQ(client.get("/ready").status, 503);
}

TEST(BackgroundTasks, RunAfterTheResponseOnThePoolAndCountFailures) {
  App app;
  std::atomic<int> ran{0};
  std::atomic<std::thread::id> ran_on{};
  app.post("/notes", [&ran, &ran_on](const http::Request&, BackgroundTasks& bg) {
    bg.add([&ran, &ran_on] {
      ran_on = std::this_thread::get_id();
      ++ran;
    });
    bg.add([] { throw std::runtime_error("disk full"); });
    return Reply<std::string>{"accepted", 202, {}};
  });
  TestClient client{app};
  auto r = client.post("/notes", "{}");
  EXPECT_EQ(r.status, 202);
  ASSERT_TRUE(app.background_pool().drain(std::chrono::seconds(5)));
  EXPECT_EQ(ran.load(), 1);
  EXPECT_NE(ran_on.load(), std::this_thread::get_id());  // never on the event loop
  auto stats = app.background_pool().stats();
  EXPECT_EQ(stats.done, 1u);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.pending, 0u);
}

TEST(Middleware, RunsInOrderAroundHandlersAndCanAnswerEarly) {
  struct Tag : Middleware {
    std::string name;
    std::vector<std::string>* log;
    bool stop = false;
    Tag(std::string n, std::vector<std::string>* l, bool s = false) : name(std::move(n)), log(l), stop(s) {}
    std::optional<http::Response> before(http::Request&, Context&) override {
      log->push_back(name + ".before");
      if (stop) return http::Response::error(403, "stopped by " + name);
      return std::nullopt;
    }
    void after(const http::Request&, Context&, http::Response& r) override {
      log->push_back(name + ".after");
      r.headers.emplace_back("X-Seen-By", name);
    }
  };
  std::vector<std::string> log;
  App app;
  app.use(std::make_shared<Tag>("a", &log));
  app.use(std::make_shared<Tag>("b", &log));
  app.get("/x", [&log] {
    log.push_back("handler");
    return 1;
  }, {.middleware = {std::make_shared<Tag>("route", &log)}});
  app.get("/blocked", [&log] {
    log.push_back("never");
    return 1;
  }, {.middleware = {std::make_shared<Tag>("guard", &log, true)}});
  TestClient client{app};
  auto r = client.get("/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(log, (std::vector<std::string>{"a.before", "b.before", "route.before", "handler", "route.after",
                                           "b.after", "a.after"}));
  log.clear();
  r = client.get("/blocked");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(log, (std::vector<std::string>{"a.before", "b.before", "guard.before", "guard.after", "b.after",
                                           "a.after"}));
  log.clear();
  r = client.get("/missing");  // global middleware sees 404s too
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(log, (std::vector<std::string>{"a.before", "b.before", "b.after", "a.after"}));
}

}  // namespace
}  // namespace serval
