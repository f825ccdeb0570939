#include "serval/app/middleware/compression.hpp"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <stdexcept>

#include "serval/app/app.hpp"
#include "serval/app/stream.hpp"
#include "serval/app/test_client.hpp"
#include "serval/net/event_loop.hpp"

namespace serval {
namespace {

using namespace std::chrono_literals;

// Incremental decoders: feed() returns what the bytes so far decode to (they must be flushed).
class Gunzip {
 public:
  Gunzip() {
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
  }
  ~Gunzip() { inflateEnd(&zs_); }
  std::string feed(std::string_view in) {
    std::string out;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    char buf[16384];
    do {
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = sizeof buf;
      int rc = inflate(&zs_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) throw std::runtime_error("inflate failed");
      out.append(buf, sizeof buf - zs_.avail_out);
      if (rc == Z_STREAM_END) ended_ = true;
    } while (zs_.avail_out == 0);
    return out;
  }
  bool ended() const { return ended_; }

 private:
  z_stream zs_{};
  bool ended_ = false;
};

class Unbrotli {
 public:
  Unbrotli() : state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~Unbrotli() { BrotliDecoderDestroyInstance(state_); }
  std::string feed(std::string_view in) {
    std::string out;
    std::size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    while (true) {
      std::size_t avail_out = 0;
      auto rc = BrotliDecoderDecompressStream(state_, &avail_in, &next_in, &avail_out, nullptr, nullptr);
      if (rc == BROTLI_DECODER_RESULT_ERROR) throw std::runtime_error("brotli decode failed");
      std::size_t n = 0;
      const std::uint8_t* bytes = BrotliDecoderTakeOutput(state_, &n);
      out.append(reinterpret_cast<const char*>(bytes), n);
      if (rc == BROTLI_DECODER_RESULT_SUCCESS) ended_ = true;
      if (rc != BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) break;
    }
    return out;
  }
  bool ended() const { return ended_; }

 private:
  BrotliDecoderState* state_;
  bool ended_ = false;
};

std::string gunzip(std::string_view in) {
  Gunzip g;
  std::string out = g.feed(in);
  if (!g.ended()) throw std::runtime_error("gzip stream not finished");
  return out;
}
std::string unbrotli(std::string_view in) {
  Unbrotli b;
  std::string out = b.feed(in);
  if (!b.ended()) throw std::runtime_error("brotli stream not finished");
  return out;
}

std::string big_json() {
  std::string s = "[";
  for (int i = 0; i < 200; ++i) {
    if (i) s += ',';
    s += R"({"id":)" + std::to_string(i) + R"(,"label":"POSITIVE","score":0.98})";
  }
  return s + "]";
}

// Splits a chunked HTTP/1.1 response into its head and body chunks.
std::vector<std::string> chunks_of(std::string_view raw) {
  std::vector<std::string> chunks;
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) throw std::runtime_error("no head");
  raw.remove_prefix(head_end + 4);
  while (true) {
    auto eol = raw.find("\r\n");
    if (eol == std::string_view::npos) throw std::runtime_error("truncated chunk size");
    std::size_t size = std::stoul(std::string(raw.substr(0, eol)), nullptr, 16);
    raw.remove_prefix(eol + 2);
    if (size == 0) break;
    chunks.emplace_back(raw.substr(0, size));
    raw.remove_prefix(size + 2);
  }
  return chunks;
}

class CompressionTest : public ::testing::Test {
 protected:
  CompressionTest() {
    app.use(std::make_shared<Compression>(CompressionOptions{.min_size = 500, .gzip_level = 6, .brotli_quality = 4}));
    app.get("/big", [this] { return http::Response::json(200, body); });
    app.get("/small", [] { return http::Response::json(200, R"({"ok":true})"); });
    app.get("/png", [this] { return http::Response::text(200, body, "image/png"); });
    app.get("/encoded", [this] { return http::Response::json(200, body).with_header("Content-Encoding", "zstd"); });
    app.get("/no-transform", [this] { return http::Response::json(200, body).with_header("Cache-Control", "no-transform"); });
    app.get("/tagged", [this] { return http::Response::json(200, body).with_header("ETag", "\"v1\""); });
    app.get("/empty", [] {
      http::Response r;
      r.status = 204;
      return r;
    });
    app.get("/ndjson", [] {
      return Stream(
          []() -> AsyncGenerator<std::string> {
            for (int i = 0; i < 4; ++i) {
              co_await sleep_for(1ms);
              std::string line = R"({"token":")" + std::to_string(i) + "\"}\n";
              co_yield std::move(line);
            }
          }(),
          "application/x-ndjson");
    });
    app.get("/events", [] {
      return EventStream([]() -> AsyncGenerator<Event> {
        for (int i = 0; i < 3; ++i) {
          Event e{.data = std::string(300, 'x')};
          co_yield std::move(e);
        }
      }());
    });
  }
  App app;
  std::string body = big_json();
};

TEST_F(CompressionTest, GzipWhenOnlyGzipIsAccepted) {
  TestClient client{app};
  auto r = client.get("/big", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.header("vary"), "Accept-Encoding");
  EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
  EXPECT_LT(r.body.size(), body.size() / 4);
  EXPECT_EQ(gunzip(r.body), body);
}

TEST_F(CompressionTest, BrotliWinsATieAndQValuesDecide) {
  TestClient client{app};
  auto r = client.get("/big", {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(r.header("content-encoding"), "br");
  EXPECT_EQ(unbrotli(r.body), body);

  r = client.get("/big", {{"Accept-Encoding", "br;q=0.5, gzip;q=0.9"}});
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(gunzip(r.body), body);

  r = client.get("/big", {{"Accept-Encoding", "*"}});
  EXPECT_EQ(r.header("content-encoding"), "br");
  EXPECT_EQ(unbrotli(r.body), body);
}

TEST_F(CompressionTest, IdentityWhenNothingUsableIsAccepted) {
  TestClient client{app};
  for (const char* ae : {"", "deflate", "br;q=0, gzip;q=0", "identity", "*;q=0, identity"}) {
    TestClient::Headers h;
    if (*ae) h.emplace_back("Accept-Encoding", ae);
    auto r = client.get("/big", h);
    EXPECT_TRUE(r.header("content-encoding").empty()) << ae;
    EXPECT_EQ(r.body, body) << ae;
    EXPECT_EQ(r.header("vary"), "Accept-Encoding") << ae;  // another client would get a coding
  }
}

TEST_F(CompressionTest, SmallBodiesStayPlainUnlessIdentityIsRefused) {
  TestClient client{app};
  auto r = client.get("/small", {{"Accept-Encoding", "gzip, br"}});
  EXPECT_TRUE(r.header("content-encoding").empty());
  EXPECT_TRUE(r.header("vary").empty());
  EXPECT_EQ(r.body, R"({"ok":true})");

  r = client.get("/small", {{"Accept-Encoding", "gzip, identity;q=0"}});
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(gunzip(r.body), R"({"ok":true})");
  r = client.get("/small", {{"Accept-Encoding", "br, *;q=0"}});
  EXPECT_EQ(r.header("content-encoding"), "br");
  EXPECT_EQ(unbrotli(r.body), R"({"ok":true})");
}

TEST_F(CompressionTest, LeavesAloneWhatMustNotBeCompressed) {
  TestClient client{app};
  TestClient::Headers ae = {{"Accept-Encoding", "gzip, br"}};
  auto r = client.get("/png", ae);
  EXPECT_TRUE(r.header("content-encoding").empty());
  EXPECT_EQ(r.body, body);
  r = client.get("/encoded", ae);
  EXPECT_EQ(r.header("content-encoding"), "zstd");
  EXPECT_EQ(r.body, body);
  r = client.get("/no-transform", ae);
  EXPECT_TRUE(r.header("content-encoding").empty());
  r = client.get("/empty", ae);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.header("content-encoding").empty());
  // Server-Sent Events stay uncompressed.
  r = client.get("/events", ae);
  EXPECT_TRUE(r.header("content-encoding").empty());
  EXPECT_NE(r.body.find("data: xxx"), std::string::npos);
}

TEST_F(CompressionTest, StrongETagBecomesWeak) {
  TestClient client{app};
  auto r = client.get("/tagged", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.header("etag"), "W/\"v1\"");
  r = client.get("/tagged");
  EXPECT_EQ(r.header("etag"), "\"v1\"");
}

TEST_F(CompressionTest, HeadAnnouncesTheCompressedLength) {
  TestClient client{app};
  auto get = client.get("/big", {{"Accept-Encoding", "br"}});
  auto head = client.head("/big", {{"Accept-Encoding", "br"}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-encoding"), "br");
  EXPECT_EQ(head.header("content-length"), get.header("content-length"));
  EXPECT_TRUE(head.body.empty());
}

TEST_F(CompressionTest, StreamsAreCompressedChunkByChunk) {
  TestClient client{app};
  std::string expected;
  std::vector<std::string> lines;
  for (int i = 0; i < 4; ++i) lines.push_back(R"({"token":")" + std::to_string(i) + "\"}\n");
  for (auto& l : lines) expected += l;

  for (const char* coding : {"gzip", "br"}) {
    auto r = client.get("/ndjson", {{"Accept-Encoding", coding}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-encoding"), coding);
    EXPECT_EQ(r.header("vary"), "Accept-Encoding");
    EXPECT_EQ(std::string_view(coding) == "gzip" ? gunzip(r.body) : unbrotli(r.body), expected);

    // On the wire, every chunk decodes on its own to exactly the line produced: nothing is held back.
    std::string raw = client.raw(std::string("GET /ndjson HTTP/1.1\r\nHost: x\r\nAccept-Encoding: ") + coding +
                                 "\r\nConnection: close\r\n\r\n");
    auto chunks = chunks_of(raw);
    ASSERT_GE(chunks.size(), lines.size());
    Gunzip gz;
    Unbrotli br;
    auto decode = [&](std::string_view c) { return std::string_view(coding) == "gzip" ? gz.feed(c) : br.feed(c); };
    for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(decode(chunks[i]), lines[i]) << coding << " chunk " << i;
    std::string rest;
    for (std::size_t i = lines.size(); i < chunks.size(); ++i) rest += decode(chunks[i]);
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(std::string_view(coding) == "gzip" ? gz.ended() : br.ended());
  }
  // For streams gzip wins whenever accepted: flushed per chunk it is as small, and far lighter.
  auto both = client.get("/ndjson", {{"Accept-Encoding", "br, gzip"}});
  EXPECT_EQ(both.header("content-encoding"), "gzip");
  EXPECT_EQ(gunzip(both.body), expected);
  auto head = client.head("/ndjson", {{"Accept-Encoding", "br, gzip;q=0.1"}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-encoding"), "gzip");
  EXPECT_TRUE(head.body.empty());
  auto plain = client.get("/ndjson");
  EXPECT_TRUE(plain.header("content-encoding").empty());
  EXPECT_EQ(plain.body, expected);
}

TEST(CompressionOptionsTest, StreamsCanBeLeftAlone) {
  App app;
  app.use(std::make_shared<Compression>(CompressionOptions{.streams = false}));
  app.get("/ndjson", [] {
    return Stream(
        []() -> AsyncGenerator<std::string> {
          std::string line(2000, 'a');
          co_yield std::move(line);
        }(),
        "application/x-ndjson");
  });
  TestClient client{app};
  auto r = client.get("/ndjson", {{"Accept-Encoding", "gzip"}});
  EXPECT_TRUE(r.header("content-encoding").empty());
  EXPECT_EQ(r.body, std::string(2000, 'a'));
}

TEST(CompressionUnit, Negotiation) {
  Compression c;
  bool refused = false;
  EXPECT_EQ(c.negotiate("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(c.negotiate("x-gzip"), ContentCoding::kGzip);
  EXPECT_EQ(c.negotiate("GZIP;Q=0.5"), ContentCoding::kGzip);
  EXPECT_EQ(c.negotiate("br"), ContentCoding::kBrotli);
  EXPECT_EQ(c.negotiate("gzip, br"), ContentCoding::kBrotli);
  EXPECT_EQ(c.negotiate("gzip;q=1.0, br;q=0.999"), ContentCoding::kGzip);
  EXPECT_EQ(c.negotiate("gzip;q=0.001"), ContentCoding::kGzip);
  EXPECT_EQ(c.negotiate("gzip;q=0"), ContentCoding::kIdentity);
  EXPECT_EQ(c.negotiate("gzip;q=0.000"), ContentCoding::kIdentity);
  EXPECT_EQ(c.negotiate("*;q=0.3, br;q=0"), ContentCoding::kGzip);
  EXPECT_EQ(c.negotiate("deflate, compress"), ContentCoding::kIdentity);
  EXPECT_EQ(c.negotiate(" gzip ; q=0.8 ,  br ; q=0.9 "), ContentCoding::kBrotli);
  // Malformed q-values drop their entry.
  EXPECT_EQ(c.negotiate("br;q=2, gzip"), ContentCoding::kGzip);
  EXPECT_EQ(c.negotiate("br;q=abc"), ContentCoding::kIdentity);
  EXPECT_EQ(c.negotiate("br;q=0.5000"), ContentCoding::kIdentity);
  EXPECT_EQ(c.negotiate(",,gzip,,"), ContentCoding::kGzip);

  c.negotiate("gzip", &refused);
  EXPECT_FALSE(refused);
  c.negotiate("gzip, identity;q=0", &refused);
  EXPECT_TRUE(refused);
  c.negotiate("gzip, *;q=0", &refused);
  EXPECT_TRUE(refused);
  c.negotiate("gzip, *;q=0, identity;q=0.1", &refused);
  EXPECT_FALSE(refused);

  Compression gzip_only{{.brotli = false}};
  EXPECT_EQ(gzip_only.negotiate("br, gzip;q=0.1"), ContentCoding::kGzip);
  EXPECT_EQ(gzip_only.negotiate("br"), ContentCoding::kIdentity);
}

TEST(CompressionUnit, CompressibleTypes) {
  for (const char* t : {"application/json", "text/html; charset=utf-8", "text/plain", "TEXT/CSS",
                        "application/javascript", "application/problem+json", "application/atom+xml",
                        "image/svg+xml", "application/x-ndjson", "application/xml", "application/wasm"})
    EXPECT_TRUE(Compression::compressible(t)) << t;
  for (const char* t : {"text/event-stream", "image/png", "application/octet-stream", "application/zip",
                        "video/mp4", "", "application/", "application/jsonx"})
    EXPECT_FALSE(Compression::compressible(t)) << t;
}

TEST(CompressionUnit, OneShotEncodersRoundTrip) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "token " + std::to_string(i % 97) + " ";
  for (int level : {1, 6, 9, 6}) EXPECT_EQ(gunzip(gzip_compress(text, level)), text);  // the thread's state is reused
  for (int quality : {0, 4, 11}) EXPECT_EQ(unbrotli(brotli_compress(text, quality)), text);
  EXPECT_EQ(gunzip(gzip_compress("", 6)), "");
  EXPECT_EQ(unbrotli(brotli_compress("", 4)), "");
}

}  // namespace
}  // namespace serval
