#include "serval/app/middleware/static_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "serval/app/app.hpp"
#include "serval/app/middleware/compression.hpp"
#include "serval/app/test_client.hpp"

namespace serval::detail {
void force_openat2_fallback_for_testing(bool on);  // static_files.cpp
}

namespace serval {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& p, std::string_view content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
  return s;
}

std::string app_js() {
  std::string s;
  for (int i = 0; i < 100; ++i) s += "export const value" + std::to_string(i) + " = compute(" + std::to_string(i) + ");\n";
  return s;
}

// A scratch tree:
//   <tmp>/root/index.html, css/site.css, data.bin (pattern 1000), big.bin (2.5 MiB), .env,
//   docs/index.html, empty.txt, link-in -> css/site.css, link-out -> ../secret.txt,
//   dir-out -> ../outside, fifo
//   <tmp>/secret.txt, <tmp>/outside/x.txt
class StaticFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/serval-static-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = new fs::path(tmpl);
    fs::path root = *base_ / "root";
    write_file(root / "index.html", "<h1>home</h1>");
    write_file(root / "app.js", app_js());
    write_file(root / "css" / "site.css", "body{color:red}");
    write_file(root / "data.bin", pattern(1000));
    write_file(root / "big.bin", pattern(2'500'000));
    write_file(root / ".env", "SECRET=1");
    write_file(root / "docs" / "index.html", "<h1>docs</h1>");
    write_file(root / "a b%.txt", "spaces");
    write_file(root / "evil.example" / "docs" / "index.html", "<h1>not a redirect target</h1>");
    write_file(root / "empty.txt", "");
    write_file(*base_ / "secret.txt", "top secret");
    write_file(*base_ / "outside" / "x.txt", "outside");
    fs::create_symlink("css/site.css", root / "link-in");
    fs::create_symlink("../secret.txt", root / "link-out");
    fs::create_symlink(*base_ / "secret.txt", root / "link-abs");
    fs::create_directory_symlink("../outside", root / "dir-out");
    ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0600), 0);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*base_);
    delete base_;
  }
  static std::string root() { return (*base_ / "root").string(); }

  StaticFilesTest() { app.mount_static("/static", root()); }

  static fs::path* base_;
  App app;
};
fs::path* StaticFilesTest::base_ = nullptr;

TEST_F(StaticFilesTest, ServesFilesWithTypeAndValidators) {
  TestClient client{app};
  auto r = client.get("/static/css/site.css");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body{color:red}");
  EXPECT_EQ(r.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(r.header("content-length"), "15");
  EXPECT_EQ(r.header("accept-ranges"), "bytes");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_TRUE(r.header("etag").starts_with("\"f-")) << r.header("etag");  // size 15 in hex, then mtime
  EXPECT_TRUE(r.header("last-modified").ends_with(" GMT"));
  EXPECT_EQ(r.header("last-modified").size(), 29u);

  r = client.get("/static/data.bin");
  EXPECT_EQ(r.header("content-type"), "application/octet-stream");
  EXPECT_EQ(r.body, pattern(1000));
  EXPECT_EQ(client.get("/static/index.html").header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(client.get("/static/a%20b%25.txt").body, "spaces");  // percent-decoded once
  r = client.get("/static/empty.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

TEST_F(StaticFilesTest, HeadHasTheHeadersWithoutTheBody) {
  TestClient client{app};
  auto r = client.head("/static/data.bin");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "1000");
  EXPECT_FALSE(r.header("etag").empty());
  EXPECT_TRUE(r.body.empty());
}

TEST_F(StaticFilesTest, MissingFilesAndOtherMethods) {
  TestClient client{app};
  auto r = client.get("/static/nope.txt");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json().at("detail"), "Not Found");
  EXPECT_EQ(client.get("/static/css").status, 404);        // a directory, html mode off
  EXPECT_EQ(client.get("/static/css/").status, 404);
  EXPECT_EQ(client.get("/static/data.bin/").status, 404);  // a file is not a directory
  EXPECT_EQ(client.get("/static/fifo").status, 404);       // not a regular file (and no hang)
  EXPECT_EQ(client.post("/static/data.bin", "x").status, 405);
  EXPECT_EQ(client.get("/static").status, 404);
}

TEST_F(StaticFilesTest, TraversalIsImpossible) {
  TestClient client{app};
  for (const char* path :
       {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/%2E%2E/secret.txt", "/static/css/../../secret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt", "/static/%2e%2e%2fsecret.txt", "/static/..%2fsecret.txt",
        "/static/..%5csecret.txt", "/static/css%2f..%2f..%2fsecret.txt", "/static/./css/site.css",
        "/static/data.bin%00.css", "/static/%zz", "/static/%", "/static/.env", "/static/%2eenv",
        "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/link-out", "/static/link-abs",
        "/static/dir-out/x.txt"}) {
    auto r = client.get(path);
    EXPECT_EQ(r.status, 404) << path << " -> " << r.body;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << path;
  }
  // A symlink that stays inside the root is followed; doubled slashes are harmless.
  EXPECT_EQ(client.get("/static/link-in").body, "body{color:red}");
  EXPECT_EQ(client.get("/static/css//site.css").body, "body{color:red}");
}

TEST_F(StaticFilesTest, TraversalIsImpossibleWithoutOpenat2Too) {
  detail::force_openat2_fallback_for_testing(true);
  TestClient client{app};
  for (const char* path : {"/static/link-out", "/static/link-abs", "/static/dir-out/x.txt", "/static/%2e%2e/secret.txt"})
    EXPECT_EQ(client.get(path).status, 404) << path;
  EXPECT_EQ(client.get("/static/link-in").body, "body{color:red}");
  EXPECT_EQ(client.get("/static/css/site.css").body, "body{color:red}");
  detail::force_openat2_fallback_for_testing(false);
}

TEST_F(StaticFilesTest, ConditionalRequests) {
  TestClient client{app};
  auto first = client.get("/static/css/site.css");
  std::string etag(first.header("etag")), modified(first.header("last-modified"));

  auto r = client.get("/static/css/site.css", {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("etag"), etag);
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_EQ(client.get("/static/css/site.css", {{"If-None-Match", "\"other\", W/" + etag}}).status, 304);
  EXPECT_EQ(client.get("/static/css/site.css", {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(client.get("/static/css/site.css", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(client.head("/static/css/site.css", {{"If-None-Match", etag}}).status, 304);

  EXPECT_EQ(client.get("/static/css/site.css", {{"If-Modified-Since", modified}}).status, 304);
  EXPECT_EQ(client.get("/static/css/site.css", {{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}}).status, 304);
  EXPECT_EQ(client.get("/static/css/site.css", {{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 200);
  EXPECT_EQ(client.get("/static/css/site.css", {{"If-Modified-Since", "yesterday"}}).status, 200);
  // If-None-Match wins over If-Modified-Since.
  EXPECT_EQ(client.get("/static/css/site.css", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", modified}}).status,
            200);
}

TEST_F(StaticFilesTest, SingleRanges) {
  TestClient client{app};
  std::string data = pattern(1000);
  struct Case {
    const char* range;
    std::size_t first, length;
  };
  for (Case c : {Case{"bytes=0-9", 0, 10}, Case{"bytes=990-", 990, 10}, Case{"bytes=-5", 995, 5},
                 Case{"bytes=500-5000", 500, 500}, Case{"bytes=-5000", 0, 1000}, Case{"bytes=7-7", 7, 1},
                 Case{"Bytes=0-0", 0, 1}}) {
    auto r = client.get("/static/data.bin", {{"Range", c.range}});
    ASSERT_EQ(r.status, 206) << c.range;
    EXPECT_EQ(r.body, data.substr(c.first, c.length)) << c.range;
    EXPECT_EQ(r.header("content-range"), "bytes " + std::to_string(c.first) + "-" +
                                             std::to_string(c.first + c.length - 1) + "/1000")
        << c.range;
    EXPECT_EQ(r.header("content-type"), "application/octet-stream");
  }
}

TEST_F(StaticFilesTest, UnsatisfiableAndIgnoredRanges) {
  TestClient client{app};
  for (const char* range : {"bytes=1000-", "bytes=5000-6000", "bytes=-0"}) {
    auto r = client.get("/static/data.bin", {{"Range", range}});
    EXPECT_EQ(r.status, 416) << range;
    EXPECT_EQ(r.header("content-range"), "bytes */1000") << range;
  }
  EXPECT_EQ(client.get("/static/empty.txt", {{"Range", "bytes=0-"}}).status, 416);
  // Several ranges, other units, malformed: the whole file.
  for (const char* range : {"bytes=0-1,5-6", "items=0-1", "bytes=5-2", "bytes=x-", "bytes=", "bytes = 0-1", "bytes=99999999999999999999-"}) {
    auto r = client.get("/static/data.bin", {{"Range", range}});
    EXPECT_EQ(r.status, 200) << range;
    EXPECT_EQ(r.body.size(), 1000u) << range;
  }
  // HEAD ignores Range.
  EXPECT_EQ(client.head("/static/data.bin", {{"Range", "bytes=0-9"}}).status, 200);
}

TEST_F(StaticFilesTest, IfRange) {
  TestClient client{app};
  auto full = client.get("/static/data.bin");
  std::string etag(full.header("etag")), modified(full.header("last-modified"));
  EXPECT_EQ(client.get("/static/data.bin", {{"Range", "bytes=0-9"}, {"If-Range", etag}}).status, 206);
  EXPECT_EQ(client.get("/static/data.bin", {{"Range", "bytes=0-9"}, {"If-Range", modified}}).status, 206);
  EXPECT_EQ(client.get("/static/data.bin", {{"Range", "bytes=0-9"}, {"If-Range", "\"stale\""}}).status, 200);
  EXPECT_EQ(client.get("/static/data.bin", {{"Range", "bytes=0-9"}, {"If-Range", "W/" + etag}}).status, 200);
  EXPECT_EQ(client.get("/static/data.bin", {{"Range", "bytes=0-9"}, {"If-Range", "Sat, 01 Jan 2000 00:00:00 GMT"}})
                .status,
            200);
}

TEST_F(StaticFilesTest, LargeFilesAndRangesStream) {
  App big_app;
  big_app.mount_static("/s", root(), StaticFilesOptions{.max_buffered_size = 64 * 1024});
  TestClient client{big_app};
  std::string data = pattern(2'500'000);
  auto r = client.get("/s/big.bin");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.body.size(), data.size());
  EXPECT_TRUE(r.body == data);

  r = client.get("/s/big.bin", {{"Range", "bytes=100000-1299999"}});
  ASSERT_EQ(r.status, 206);
  EXPECT_EQ(r.header("content-range"), "bytes 100000-1299999/2500000");
  EXPECT_TRUE(r.body == data.substr(100000, 1'200'000));

  r = client.get("/s/data.bin", {{"Range", "bytes=0-99"}});  // small: buffered
  EXPECT_EQ(r.header("content-length"), "100");

  r = client.head("/s/big.bin");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(StaticFilesTest, HtmlModeServesIndexAndRedirectsDirectories) {
  App site;
  site.mount_static("/site", root(), StaticFilesOptions{.cache_control = "public, max-age=60", .html = true});
  TestClient client{site};
  auto r = client.get("/site/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<h1>home</h1>");
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("cache-control"), "public, max-age=60");
  EXPECT_EQ(client.get("/site/docs/").body, "<h1>docs</h1>");
  r = client.get("/site/docs?lang=en");
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(r.header("location"), "/site/docs/?lang=en");
  EXPECT_EQ(client.get("/site/css/").status, 404);  // no index.html there
}

TEST_F(StaticFilesTest, MountedAtTheRootBehindTheApiRoutes) {
  App site;
  site.get("/api/health", [] { return std::string("ok"); });
  site.mount_static("/", root(), StaticFilesOptions{.html = true});
  TestClient client{site};
  EXPECT_EQ(client.get("/").body, "<h1>home</h1>");
  EXPECT_EQ(client.get("/css/site.css").body, "body{color:red}");
  EXPECT_EQ(client.get("/api/health").json(), "ok");  // routes win over the catch-all
  EXPECT_EQ(client.get("/api/other").status, 404);
  EXPECT_EQ(client.get("/docs").status, 200);          // the built-in Swagger UI route still wins
  auto r = client.get("//evil.example/docs");           // never a scheme-relative redirect
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(r.header("location"), "/evil.example/docs/");
}

TEST_F(StaticFilesTest, CompressionKeepsValidatorsAndRangesWorking) {
  App zapp;
  zapp.use(std::make_shared<Compression>(CompressionOptions{.min_size = 10}));
  zapp.mount_static("/static", root());
  TestClient client{zapp};
  auto r = client.get("/static/app.js", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_LT(r.body.size(), app_js().size() / 2);
  std::string weak(r.header("etag"));
  EXPECT_TRUE(weak.starts_with("W/\"")) << weak;
  // The weak tag still revalidates.
  EXPECT_EQ(client.get("/static/app.js", {{"Accept-Encoding", "gzip"}, {"If-None-Match", weak}}).status, 304);
  // A partial response is never compressed (its offsets are into the identity bytes).
  r = client.get("/static/app.js", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=0-5"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_TRUE(r.header("content-encoding").empty());
  EXPECT_EQ(r.body, "export");
  // Tiny files would grow: sent as they are.
  EXPECT_TRUE(client.get("/static/css/site.css", {{"Accept-Encoding", "gzip"}}).header("content-encoding").empty());
}

TEST(StaticFilesUnit, ContentTypesAndBadRoots) {
  EXPECT_EQ(StaticFiles::content_type_for("app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type_for("dir.d/logo.svg"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::content_type_for("model.onnx"), "application/octet-stream");
  EXPECT_EQ(StaticFiles::content_type_for("Makefile"), "application/octet-stream");
  EXPECT_EQ(StaticFiles::content_type_for("x.woff2"), "font/woff2");
  EXPECT_EQ(StaticFiles::content_type_for("trailing."), "application/octet-stream");
  EXPECT_THROW(StaticFiles("/definitely/not/here"), std::system_error);
  App app;
  EXPECT_THROW(app.mount_static("static", "/tmp"), std::invalid_argument);
  EXPECT_THROW(app.mount_static("/s/{x}", "/tmp"), std::invalid_argument);
}

}  // namespace
}  // namespace serval
