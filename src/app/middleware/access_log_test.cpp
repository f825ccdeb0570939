#include "serval/app/middleware/access_log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>
#include <regex>

#include "serval/app/app.hpp"
#include "serval/app/middleware/compression.hpp"
#include "serval/app/middleware/request_id.hpp"
#include "serval/app/stream.hpp"
#include "serval/app/test_client.hpp"
#include "serval/net/event_loop.hpp"

namespace serval {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct Lines {
  std::mutex mu;
  std::vector<std::string> raw;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mu);
      raw.emplace_back(line);
    };
  }
  json::object at(std::size_t i) {
    std::lock_guard lock(mu);
    EXPECT_LT(i, raw.size());
    if (i >= raw.size()) return {};
    EXPECT_TRUE(raw[i].ends_with('\n'));
    EXPECT_EQ(raw[i].find('\n'), raw[i].size() - 1) << "one line per request";
    return json::parse(raw[i]).as_object();
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return raw.size();
  }
};

class AccessLogTest : public ::testing::Test {
 protected:
  AccessLogTest() {
    app.use(std::make_shared<RequestId>());
    app.use(std::make_shared<AccessLog>(AccessLogOptions{.sink = lines.sink(), .skip_paths = {"/health"}}));
    app.get("/items/{id}", [](Path<int, "id"> id) { return *id; });
    app.get("/health", [] { return std::string("ok"); });
    app.get("/text", [] { return http::Response::text(200, "hello"); });
    app.get("/stream", [] {
      return Stream(
          []() -> AsyncGenerator<std::string> {
            for (int i = 0; i < 3; ++i) {
              co_await sleep_for(2ms);
              std::string piece(10, static_cast<char>('a' + i));
              co_yield std::move(piece);
            }
          }(),
          "text/plain");
    });
    app.get("/forever", [] {
      return Stream(
          []() -> AsyncGenerator<std::string> {
            for (;;) {
              co_await sleep_for(5ms);
              std::string piece = "tick\n";
              co_yield std::move(piece);
            }
          }(),
          "text/plain");
    });
  }
  Lines lines;
  App app;
};

TEST_F(AccessLogTest, OneJsonLinePerRequestWithTheFields) {
  TestClient client{app};
  auto r = client.get("/items/42?secret=1", {{"User-Agent", "curl/8.5.0"}});
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(lines.size(), 1u);
  auto line = lines.at(0);
  EXPECT_TRUE(std::regex_match(std::string(line.at("ts").as_string()),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
      << line.at("ts");
  EXPECT_EQ(line.at("method"), "GET");
  EXPECT_EQ(line.at("path"), "/items/42");  // no query string: it may carry secrets
  EXPECT_EQ(line.at("route"), "/items/{id}");
  EXPECT_EQ(line.at("status"), 200);
  EXPECT_EQ(line.at("bytes"), 2);
  EXPECT_EQ(line.at("remote"), "");  // in-process: no peer
  EXPECT_EQ(std::string(line.at("request_id").as_string()), r.header("x-request-id"));
  EXPECT_EQ(line.at("user_agent"), "curl/8.5.0");
  EXPECT_GE(line.at("duration_ms").to_number<double>(), 0.0);
  EXPECT_LT(line.at("duration_ms").to_number<double>(), 5000.0);
  EXPECT_FALSE(line.contains("stream"));
}

TEST_F(AccessLogTest, UnmatchedAndFailedRequestsAreLoggedToo) {
  TestClient client{app};
  client.get("/nope");
  client.get("/items/abc");  // 422
  client.head("/text");
  ASSERT_EQ(lines.size(), 3u);
  auto missing = lines.at(0);
  EXPECT_EQ(missing.at("status"), 404);
  EXPECT_TRUE(missing.at("route").is_null());
  EXPECT_EQ(missing.at("bytes"), 22);  // {"detail":"Not Found"}
  EXPECT_EQ(lines.at(1).at("status"), 422);
  EXPECT_EQ(lines.at(1).at("route"), "/items/{id}");
  auto head = lines.at(2);
  EXPECT_EQ(head.at("method"), "HEAD");
  EXPECT_EQ(head.at("bytes"), 0);  // nothing sent
}

TEST_F(AccessLogTest, SkipPathsAreNotLogged) {
  TestClient client{app};
  client.get("/health");
  EXPECT_EQ(lines.size(), 0u);
  client.get("/text");
  EXPECT_EQ(lines.size(), 1u);
}

TEST_F(AccessLogTest, StreamIsLoggedWhenItEndsWithItsBytes) {
  TestClient client{app};
  auto r = client.get("/stream");
  EXPECT_EQ(r.body, std::string(10, 'a') + std::string(10, 'b') + std::string(10, 'c'));
  ASSERT_EQ(lines.size(), 1u);
  auto line = lines.at(0);
  EXPECT_EQ(line.at("bytes"), 30);
  EXPECT_EQ(line.at("stream"), true);
  EXPECT_FALSE(line.contains("complete"));
  EXPECT_GE(line.at("duration_ms").to_number<double>(), 5.0);  // three 2 ms waits: the whole stream
}

TEST_F(AccessLogTest, StreamCutByTheClientIsMarkedIncomplete) {
  TestClient client{app};
  client.raw_then_disconnect("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n", 30ms);
  ASSERT_EQ(lines.size(), 1u);
  auto line = lines.at(0);
  EXPECT_EQ(line.at("stream"), true);
  EXPECT_EQ(line.at("complete"), false);
  EXPECT_GT(line.at("bytes").to_number<std::int64_t>(), 0);
  EXPECT_EQ(line.at("bytes").to_number<std::int64_t>() % 5, 0);
}

TEST_F(AccessLogTest, HostileStringsStayValidJson) {
  TestClient client{app};
  // (The parser already refuses control characters in header values; tabs and obs-text pass.)
  std::string ua = "evil\"agent\\ \tcaf\xc3\xa9 \xff\xfe \xed\xa0\x80 end";
  client.get("/text", {{"User-Agent", ua}});
  ASSERT_EQ(lines.size(), 1u);
  auto line = lines.at(0);  // parses: quotes, backslashes, controls escaped; bad UTF-8 replaced
  EXPECT_EQ(line.at("user_agent"), "evil\"agent\\ \tcaf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
  EXPECT_NE(lines.raw[0].find(R"(evil\"agent\\ \u0009caf)"), std::string::npos) << lines.raw[0];
}

TEST(AccessLogSink, AFailingSinkDoesNotFailTheRequest) {
  App app;
  app.use(std::make_shared<AccessLog>(
      AccessLogOptions{.sink = [](std::string_view) { throw std::runtime_error("disk full"); }}));
  app.get("/x", [] { return 1; });
  TestClient client{app};
  EXPECT_EQ(client.get("/x").status, 200);
}

TEST(AccessLogSink, CountsCompressedBytesWhenCompressionRunsFirst) {
  Lines lines;
  App app;
  app.use(std::make_shared<AccessLog>(AccessLogOptions{.sink = lines.sink()}));
  app.use(std::make_shared<Compression>());
  std::string body(5000, 'x');
  app.get("/big", [body] { return http::Response::text(200, body); });
  TestClient client{app};
  auto r = client.get("/big", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(r.header("content-encoding"), "gzip");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines.at(0).at("bytes").to_number<std::size_t>(), r.body.size());
  EXPECT_EQ(lines.at(0).at("request_id"), "");  // no RequestId step: empty
}

}  // namespace
}  // namespace serval
