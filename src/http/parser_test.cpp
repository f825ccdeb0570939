#include "serval/http/parser.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace serval::http {
namespace {

std::span<char> as_span(std::string& s) { return {s.data(), s.size()}; }

// An owned copy of everything a parsed request exposes, so results of different deliveries can be
// compared after their buffers are gone.
struct Snapshot {
  ParseStatus status = ParseStatus::kNeedMore;
  int error_status = 0;
  std::string method_name, target, path, query, body;
  Method method = Method::kOther;
  int version_minor = -1;
  bool keep_alive = false;
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t consumed = 0;
  int head_complete_count = 0;

  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const RequestParser& p, ParseStatus status) {
  Snapshot s;
  s.status = status;
  s.error_status = p.error_status();
  if (status == ParseStatus::kComplete) {
    const Request& r = p.request();
    s.method_name = r.method_name;
    s.target = r.target;
    s.path = r.path;
    s.query = r.query;
    s.body = r.body;
    s.method = r.method;
    s.version_minor = r.version_minor;
    s.keep_alive = r.keep_alive;
    for (const Header& h : r.headers) s.headers.emplace_back(h.name, h.value);
    s.consumed = p.consumed();
  }
  return s;
}

// Delivers `input` in pieces of `piece` bytes. Before every call the buffer is copied to a fresh
// allocation and the old one freed, so a parser that kept a pointer reads freed memory (ASan).
Snapshot feed(const std::string& input, std::size_t piece, ParserLimits limits = {}) {
  RequestParser p(limits);
  auto buf = std::make_unique<std::string>();
  std::size_t sent = 0;
  int head_complete = 0;
  for (;;) {
    const std::size_t n = std::min(piece, input.size() - sent);
    auto grown = std::make_unique<std::string>(*buf);
    grown->append(input, sent, n);
    buf = std::move(grown);
    sent += n;
    ParseStatus st = p.parse(as_span(*buf));
    if (st == ParseStatus::kHeadComplete) {
      ++head_complete;
      st = p.parse(as_span(*buf));  // the documented follow-up call with no new bytes
      EXPECT_NE(st, ParseStatus::kHeadComplete);
    }
    if (st == ParseStatus::kComplete || st == ParseStatus::kError || sent == input.size()) {
      Snapshot s = snapshot(p, st);
      s.head_complete_count = head_complete;
      return s;
    }
  }
}

Snapshot parse_whole(const std::string& input, ParserLimits limits = {}) { return feed(input, input.size(), limits); }

struct Parsed {
  std::string buf;
  RequestParser parser;
  ParseStatus status;
  explicit Parsed(std::string in, ParserLimits limits = {})
      : buf(std::move(in)), parser(limits), status(parser.parse(as_span(buf))) {}
  const Request& req() const { return parser.request(); }
};

// ---------------------------------------------------------------------------------------------
// Request helpers

TEST(Method, FromStringAndBack) {
  EXPECT_EQ(method_from_string("GET"), Method::kGet);
  EXPECT_EQ(method_from_string("HEAD"), Method::kHead);
  EXPECT_EQ(method_from_string("POST"), Method::kPost);
  EXPECT_EQ(method_from_string("PUT"), Method::kPut);
  EXPECT_EQ(method_from_string("DELETE"), Method::kDelete);
  EXPECT_EQ(method_from_string("PATCH"), Method::kPatch);
  EXPECT_EQ(method_from_string("OPTIONS"), Method::kOptions);
  EXPECT_EQ(method_from_string("TRACE"), Method::kTrace);
  EXPECT_EQ(method_from_string("CONNECT"), Method::kConnect);
  EXPECT_EQ(method_from_string("get"), Method::kOther);  // methods are case-sensitive
  EXPECT_EQ(method_from_string("PROPFIND"), Method::kOther);
  EXPECT_EQ(method_from_string(""), Method::kOther);
  EXPECT_EQ(to_string(Method::kPatch), "PATCH");
  EXPECT_EQ(to_string(Method::kOptions), "OPTIONS");
  EXPECT_EQ(to_string(Method::kOther), "OTHER");
}

TEST(Iequals, AsciiCaseInsensitive) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5b vs 0x7b differ only in bit 0x20 but are not letters
  EXPECT_FALSE(iequals("@", "`"));
}

TEST(PercentDecode, DecodesAndRejectsMalformed) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%20b%41%4a%4A", out));
  EXPECT_EQ(out, "a bAJJ");
  EXPECT_TRUE(percent_decode("a+b", out));
  EXPECT_EQ(out, "a+b");
  EXPECT_TRUE(percent_decode("a+b", out, true));
  EXPECT_EQ(out, "a b");
  EXPECT_TRUE(percent_decode("%2B", out, true));
  EXPECT_EQ(out, "+");
  EXPECT_TRUE(percent_decode("", out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_FALSE(percent_decode("ab%4", out));
  EXPECT_FALSE(percent_decode("%zz", out));
  EXPECT_FALSE(percent_decode("%4g", out));
  EXPECT_FALSE(percent_decode("%g4", out));
}

TEST(QueryParam, FindsDecodedValues) {
  const std::string_view q = "a=1&b=hello+world&c=%41%42&flag&e=&na%6De=x;semi=2&a=second";
  std::string v;
  ASSERT_TRUE(query_param(q, "a", v));
  EXPECT_EQ(v, "1");  // first match wins
  ASSERT_TRUE(query_param(q, "b", v));
  EXPECT_EQ(v, "hello world");
  ASSERT_TRUE(query_param(q, "c", v));
  EXPECT_EQ(v, "AB");
  ASSERT_TRUE(query_param(q, "flag", v));
  EXPECT_EQ(v, "");
  ASSERT_TRUE(query_param(q, "e", v));
  EXPECT_EQ(v, "");
  ASSERT_TRUE(query_param(q, "name", v));  // name compared after decoding
  EXPECT_EQ(v, "x");
  ASSERT_TRUE(query_param(q, "semi", v));
  EXPECT_EQ(v, "2");
  EXPECT_FALSE(query_param(q, "missing", v));
  EXPECT_FALSE(query_param("", "a", v));
  EXPECT_FALSE(query_param("x=%zz", "x", v));  // malformed value
  ASSERT_TRUE(query_param("&&k+1=v+1&", "k 1", v));
  EXPECT_EQ(v, "v 1");
}

// ---------------------------------------------------------------------------------------------
// Head parsing

TEST(Parser, SimpleGet) {
  Parsed p("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.req().method, Method::kGet);
  EXPECT_EQ(p.req().method_name, "GET");
  EXPECT_EQ(p.req().target, "/index.html");
  EXPECT_EQ(p.req().path, "/index.html");
  EXPECT_EQ(p.req().query, "");
  EXPECT_EQ(p.req().version_minor, 1);
  ASSERT_EQ(p.req().headers.size(), 2u);
  EXPECT_EQ(p.req().headers[0].name, "Host");
  EXPECT_EQ(p.req().headers[0].value, "example.com");
  EXPECT_EQ(p.req().headers[1].name, "User-Agent");
  EXPECT_EQ(p.req().body, "");
  EXPECT_TRUE(p.req().keep_alive);
  EXPECT_FALSE(p.parser.has_body());
  EXPECT_FALSE(p.parser.chunked());
  EXPECT_EQ(p.parser.consumed(), p.buf.size());
}

TEST(Parser, EmptyAndPartialBuffersNeedMore) {
  RequestParser p;
  std::string buf;
  EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kNeedMore);
  for (const char* more : {"\r", "\n", "GET / HTTP/1.1\r", "\n", "Host: h\r\n", "\r"}) {
    buf += more;
    EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kNeedMore) << buf;
  }
  buf += "\n";
  ASSERT_EQ(p.parse(as_span(buf)), ParseStatus::kComplete);
  EXPECT_EQ(p.request().header("Host"), "h");
  EXPECT_EQ(p.consumed(), buf.size());
  // Asking again without reset() repeats the answer.
  EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kComplete);
  EXPECT_EQ(p.request().target, "/");
}

TEST(Parser, ViewsPointIntoTheBuffer) {
  Parsed p("POST /a?b=c HTTP/1.1\r\nX: y\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  const char* lo = p.buf.data();
  const char* hi = lo + p.buf.size();
  for (std::string_view v : {p.req().method_name, p.req().target, p.req().path, p.req().query, p.req().body,
                             p.req().headers[0].name, p.req().headers[0].value}) {
    EXPECT_GE(v.data(), lo);
    EXPECT_LE(v.data() + v.size(), hi);
  }
  EXPECT_EQ(p.req().body.data(), p.buf.data() + p.buf.size() - 2);
}

TEST(Parser, HeadersWithOws) {
  Parsed p("GET / HTTP/1.1\r\nA:   spaced  \t \r\nB:\ttabbed\t\r\nEmpty:\r\nBlank:   \r\nInner: a  b\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.req().header("A"), "spaced");
  EXPECT_EQ(p.req().header("B"), "tabbed");
  EXPECT_EQ(p.req().header("Empty"), "");
  EXPECT_TRUE(p.req().has_header("Empty"));
  EXPECT_EQ(p.req().header("Blank"), "");
  EXPECT_EQ(p.req().header("Inner"), "a  b");
}

TEST(Parser, CaseInsensitiveHeaderLookup) {
  Parsed p("GET / HTTP/1.1\r\nContent-TYPE: text/plain\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.req().header("content-type"), "text/plain");
  EXPECT_EQ(p.req().header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(p.req().header("X-DUP"), "1");  // the first one
  EXPECT_TRUE(p.req().has_header("x-dup"));
  EXPECT_FALSE(p.req().has_header("content-length"));
  EXPECT_EQ(p.req().header("nope"), "");
}

TEST(Parser, QuerySplit) {
  {
    Parsed p("GET /search/items?q=a%20b&page=2 HTTP/1.1\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::kComplete);
    EXPECT_EQ(p.req().target, "/search/items?q=a%20b&page=2");
    EXPECT_EQ(p.req().path, "/search/items");
    EXPECT_EQ(p.req().query, "q=a%20b&page=2");
    std::string v;
    ASSERT_TRUE(query_param(p.req().query, "q", v));
    EXPECT_EQ(v, "a b");
    ASSERT_TRUE(query_param(p.req().query, "page", v));
    EXPECT_EQ(v, "2");
  }
  {
    Parsed p("GET /x? HTTP/1.1\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::kComplete);
    EXPECT_EQ(p.req().path, "/x");
    EXPECT_EQ(p.req().query, "");
  }
  {
    Parsed p("GET /x?a?b=/c HTTP/1.1\r\n\r\n");  // only the first '?' splits
    ASSERT_EQ(p.status, ParseStatus::kComplete);
    EXPECT_EQ(p.req().path, "/x");
    EXPECT_EQ(p.req().query, "a?b=/c");
  }
}

TEST(Parser, AbsoluteFormTarget) {
  {
    Parsed p("GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::kComplete);
    EXPECT_EQ(p.req().target, "http://example.com:8080/a/b?x=1");
    EXPECT_EQ(p.req().path, "/a/b");
    EXPECT_EQ(p.req().query, "x=1");
  }
  {
    Parsed p("GET HTTPS://example.com HTTP/1.1\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::kComplete);
    EXPECT_EQ(p.req().path, "/");
    EXPECT_EQ(p.req().query, "");
  }
  {
    Parsed p("GET http://example.com?k=v HTTP/1.1\r\n\r\n");
    ASSERT_EQ(p.status, ParseStatus::kComplete);
    EXPECT_EQ(p.req().path, "/");
    EXPECT_EQ(p.req().query, "k=v");
  }
  EXPECT_EQ(Parsed("GET http:///a HTTP/1.1\r\n\r\n").parser.error_status(), 400);          // no host
  EXPECT_EQ(Parsed("GET http://u@evil/a HTTP/1.1\r\n\r\n").parser.error_status(), 400);    // userinfo
  EXPECT_EQ(Parsed("GET ftp://host/a HTTP/1.1\r\n\r\n").parser.error_status(), 400);
  EXPECT_EQ(Parsed("CONNECT host:443 HTTP/1.1\r\n\r\n").parser.error_status(), 400);        // authority-form
}

TEST(Parser, AsteriskFormOnlyForOptions) {
  Parsed ok("OPTIONS * HTTP/1.1\r\n\r\n");
  ASSERT_EQ(ok.status, ParseStatus::kComplete);
  EXPECT_EQ(ok.req().method, Method::kOptions);
  EXPECT_EQ(ok.req().target, "*");
  EXPECT_EQ(ok.req().path, "*");
  Parsed bad("GET * HTTP/1.1\r\n\r\n");
  EXPECT_EQ(bad.status, ParseStatus::kError);
  EXPECT_EQ(bad.parser.error_status(), 400);
}

TEST(Parser, UnknownMethodTokenIsAccepted) {
  Parsed p("PROPFIND /dav HTTP/1.1\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.req().method, Method::kOther);
  EXPECT_EQ(p.req().method_name, "PROPFIND");
}

TEST(Parser, LeadingEmptyLinesAreSkipped) {
  Snapshot whole = parse_whole("\r\n\r\nGET /a HTTP/1.1\r\n\r\n");
  ASSERT_EQ(whole.status, ParseStatus::kComplete);
  EXPECT_EQ(whole.target, "/a");
  EXPECT_EQ(whole.consumed, 23u);
  EXPECT_EQ(feed("\r\n\r\nGET /a HTTP/1.1\r\n\r\n", 1), whole);
}

TEST(Parser, Http10KeepAliveRules) {
  Parsed a("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(a.status, ParseStatus::kComplete);
  EXPECT_EQ(a.req().version_minor, 0);
  EXPECT_FALSE(a.req().keep_alive);

  Parsed b("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_EQ(b.status, ParseStatus::kComplete);
  EXPECT_TRUE(b.req().keep_alive);

  Parsed c("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
  ASSERT_EQ(c.status, ParseStatus::kComplete);
  EXPECT_FALSE(c.req().keep_alive);

  Parsed d("GET / HTTP/1.1\r\nConnection: Upgrade ,  CLOSE\r\n\r\n");
  ASSERT_EQ(d.status, ParseStatus::kComplete);
  EXPECT_FALSE(d.req().keep_alive);

  Parsed e("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(e.status, ParseStatus::kComplete);
  EXPECT_TRUE(e.req().keep_alive);

  Parsed f("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n");  // a different token
  ASSERT_EQ(f.status, ParseStatus::kComplete);
  EXPECT_TRUE(f.req().keep_alive);
}

// ---------------------------------------------------------------------------------------------
// Bodies and incremental delivery

const std::string kContentLengthRequest =
    "POST /upload?id=7 HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\n"
    "abcdefghijklmnopqrstuvwxyz";

const std::string kChunkedRequest =
    "POST /stream HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n"
    "1;name=value\r\n \r\n"
    "A ; ext\r\n0123456789\r\n"
    "0\r\nTrailer-A: 1\r\nTrailer-B: two\r\n\r\n";

TEST(Parser, ContentLengthBody) {
  Snapshot s = parse_whole(kContentLengthRequest);
  ASSERT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.body, "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(s.consumed, kContentLengthRequest.size());
  EXPECT_EQ(s.head_complete_count, 0);  // whole request present: straight to kComplete
  EXPECT_EQ(s.path, "/upload");
  EXPECT_EQ(s.query, "id=7");
}

TEST(Parser, ByteAtATimeContentLengthMatchesWhole) {
  const Snapshot whole = parse_whole(kContentLengthRequest);
  Snapshot bytes = feed(kContentLengthRequest, 1);
  EXPECT_EQ(bytes.head_complete_count, 1);
  bytes.head_complete_count = 0;
  EXPECT_EQ(bytes, whole);
  for (std::size_t piece = 2; piece < kContentLengthRequest.size(); piece += 7) {
    Snapshot s = feed(kContentLengthRequest, piece);
    s.head_complete_count = 0;
    EXPECT_EQ(s, whole) << "piece " << piece;
  }
}

TEST(Parser, ChunkedBodyWithExtensionsAndTrailers) {
  Snapshot s = parse_whole(kChunkedRequest);
  ASSERT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.body, "hello 0123456789");
  EXPECT_EQ(s.consumed, kChunkedRequest.size());
  EXPECT_EQ(s.head_complete_count, 0);
  // Trailers are not merged into the headers.
  ASSERT_EQ(s.headers.size(), 2u);
  EXPECT_EQ(s.headers[1].first, "Transfer-Encoding");
}

TEST(Parser, ChunkedBodyIsContiguousAfterHead) {
  Parsed p(kChunkedRequest);
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_TRUE(p.parser.chunked());
  EXPECT_TRUE(p.parser.has_body());
  const std::size_t head = kChunkedRequest.find("\r\n\r\n") + 4;
  EXPECT_EQ(p.req().body.data(), p.buf.data() + head);
  EXPECT_EQ(p.req().body, "hello 0123456789");
}

TEST(Parser, ByteAtATimeChunkedMatchesWhole) {
  const Snapshot whole = parse_whole(kChunkedRequest);
  for (std::size_t piece = 1; piece <= kChunkedRequest.size(); ++piece) {
    Snapshot s = feed(kChunkedRequest, piece);
    EXPECT_EQ(s.head_complete_count, piece < kChunkedRequest.size() ? 1 : 0) << "piece " << piece;
    s.head_complete_count = 0;
    EXPECT_EQ(s, whole) << "piece " << piece;
  }
}

TEST(Parser, BufferMovesBetweenCalls) {
  // Grow by copying into a new std::string each time; keep the old one alive but scribble over
  // it, so a parser holding stale pointers would see garbage rather than the right bytes.
  RequestParser p;
  std::string a = kChunkedRequest.substr(0, 70);
  ASSERT_EQ(p.parse(as_span(a)), ParseStatus::kHeadComplete);
  std::string b = a + kChunkedRequest.substr(70, 30);
  a.assign(a.size(), 'X');
  ASSERT_EQ(p.parse(as_span(b)), ParseStatus::kNeedMore);
  std::string c = b + kChunkedRequest.substr(100);
  b.assign(b.size(), 'Y');
  ASSERT_EQ(p.parse(as_span(c)), ParseStatus::kComplete);
  EXPECT_EQ(p.request().method_name, "POST");
  EXPECT_EQ(p.request().target, "/stream");
  EXPECT_EQ(p.request().header("host"), "h");
  EXPECT_EQ(p.request().body, "hello 0123456789");
  EXPECT_EQ(p.request().method_name.data(), c.data());
}

TEST(Parser, HeadCompleteAndExpectContinue) {
  RequestParser p;
  std::string buf = "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n";
  ASSERT_EQ(p.parse(as_span(buf)), ParseStatus::kHeadComplete);
  EXPECT_TRUE(p.expects_continue());
  EXPECT_TRUE(p.has_body());
  EXPECT_EQ(p.content_length(), 5u);
  EXPECT_EQ(p.request().method, Method::kPut);
  EXPECT_EQ(p.request().header("expect"), "100-Continue");
  EXPECT_EQ(p.request().body, "");
  // Calling again without new bytes does not report the head twice.
  EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kNeedMore);
  buf += "ab";
  EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kNeedMore);
  buf += "cde";
  ASSERT_EQ(p.parse(as_span(buf)), ParseStatus::kComplete);
  EXPECT_EQ(p.request().body, "abcde");
  EXPECT_EQ(p.consumed(), buf.size());
}

TEST(Parser, ExpectContinueNeedsABodyAndHttp11) {
  Parsed no_body("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(no_body.status, ParseStatus::kComplete);
  EXPECT_FALSE(no_body.parser.expects_continue());
  Parsed http10("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  ASSERT_EQ(http10.status, ParseStatus::kHeadComplete);
  EXPECT_FALSE(http10.parser.expects_continue());
  Parsed chunked("POST / HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(chunked.status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(chunked.parser.expects_continue());
}

TEST(Parser, ZeroContentLengthHasNoBody) {
  Parsed p("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_FALSE(p.parser.has_body());
  EXPECT_EQ(p.req().body, "");
}

TEST(Parser, PipelinedRequests) {
  std::string buf =
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
      "\r\nDELETE /4?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n"
      "GET /5";  // incomplete
  RequestParser p;
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(p.parse(as_span(buf)), ParseStatus::kComplete) << i;
    seen.push_back(std::string(p.request().method_name) + " " + std::string(p.request().target) + " [" +
                   std::string(p.request().body) + "]");
    buf.erase(0, p.consumed());
    p.reset();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"GET /1 []", "POST /2 [hello]", "POST /3 [abcde]", "DELETE /4?x=1 []"}));
  EXPECT_TRUE(p.request().keep_alive);  // reset() restores the default after "Connection: close"
  EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kNeedMore);
  EXPECT_EQ(buf, "GET /5");
}

TEST(Parser, ResetKeepsWorkingAfterRequestWithManyHeaders) {
  RequestParser p;
  std::string big = "GET /a HTTP/1.1\r\n";
  for (int i = 0; i < 50; ++i) big += "H" + std::to_string(i) + ": v\r\n";
  big += "\r\n";
  ASSERT_EQ(p.parse(as_span(big)), ParseStatus::kComplete);
  EXPECT_EQ(p.request().headers.size(), 50u);
  p.reset();
  std::string small = "GET /b HTTP/1.1\r\nA: 1\r\n\r\n";
  ASSERT_EQ(p.parse(as_span(small)), ParseStatus::kComplete);
  EXPECT_EQ(p.request().headers.size(), 1u);
  EXPECT_EQ(p.request().target, "/b");
}

// ---------------------------------------------------------------------------------------------
// Errors

struct ErrorCase {
  const char* name;
  std::string input;
  int status;
};

ParserLimits small_limits() {
  ParserLimits l;
  l.max_request_line = 64;
  l.max_header_bytes = 256;
  l.max_headers = 4;
  l.max_body = 32;
  return l;
}

class ParserErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParserErrors, WholeAndByteAtATime) {
  const ErrorCase& c = GetParam();
  const Snapshot whole = parse_whole(c.input, small_limits());
  EXPECT_EQ(whole.status, ParseStatus::kError);
  EXPECT_EQ(whole.error_status, c.status);
  const Snapshot bytes = feed(c.input, 1, small_limits());
  EXPECT_EQ(bytes.status, ParseStatus::kError);
  EXPECT_EQ(bytes.error_status, c.status);
}

const std::string kTe = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";

INSTANTIATE_TEST_SUITE_P(
    All, ParserErrors,
    ::testing::Values(
        // request line
        ErrorCase{"EmptyMethod", " / HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"BadMethodChar", "G(T / HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"DoubleSpace", "GET  / HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"NoVersion", "GET /\r\n\r\n", 400},
        ErrorCase{"TrailingSpace", "GET / HTTP/1.1 \r\n\r\n", 400},
        ErrorCase{"RelativeTarget", "GET index.html HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"ControlInTarget", std::string("GET /a\x01 HTTP/1.1\r\n\r\n"), 400},
        ErrorCase{"DelInTarget", std::string("GET /a\x7f HTTP/1.1\r\n\r\n"), 400},
        ErrorCase{"TabInTarget", "GET /a\tb HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"LowercaseVersion", "GET / http/1.1\r\n\r\n", 400},
        ErrorCase{"GarbageVersion", "GET / HTTP/1.x\r\n\r\n", 400},
        ErrorCase{"LongVersion", "GET / HTTP/1.10\r\n\r\n", 400},
        ErrorCase{"Http2", "GET / HTTP/2.0\r\n\r\n", 505},
        ErrorCase{"Http09", "GET / HTTP/0.9\r\n\r\n", 505},
        ErrorCase{"Http12", "GET / HTTP/1.2\r\n\r\n", 505},
        ErrorCase{"BareLf", "GET / HTTP/1.1\nHost: h\n\n", 400},
        ErrorCase{"BareLfInHeaders", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400},
        ErrorCase{"LoneCrInRequestLine", "GET /\r HTTP/1.1\r\n\r\n", 400},
        // headers
        ErrorCase{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        ErrorCase{"NoColon", "GET / HTTP/1.1\r\nHost h\r\n\r\n", 400},
        ErrorCase{"EmptyName", "GET / HTTP/1.1\r\n: v\r\n\r\n", 400},
        ErrorCase{"ObsFold", "GET / HTTP/1.1\r\nA: 1\r\n  folded\r\n\r\n", 400},
        ErrorCase{"NulInValue", std::string("GET / HTTP/1.1\r\nA: x") + '\0' + "y\r\n\r\n", 400},
        ErrorCase{"CtlInValue", "GET / HTTP/1.1\r\nA: x\x1by\r\n\r\n", 400},
        ErrorCase{"LoneCrInValue", "GET / HTTP/1.1\r\nA: x\ry\r\n\r\n", 400},
        // framing
        ErrorCase{"ClAndTe", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        ErrorCase{"TeAndCl", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400},
        ErrorCase{"ConflictingCl", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
        ErrorCase{"ClList", "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
        ErrorCase{"ClNegative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        ErrorCase{"ClPlus", "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx", 400},
        ErrorCase{"ClHex", "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400},
        ErrorCase{"ClEmpty", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400},
        ErrorCase{"ClOverflow", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
        ErrorCase{"TeGzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        ErrorCase{"TeGzipChunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        ErrorCase{"TeChunkedTwice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400},
        ErrorCase{"TeEmpty", "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", 400},
        // chunked body
        ErrorCase{"ChunkSizeEmpty", kTe + "\r\nabc\r\n0\r\n\r\n", 400},
        ErrorCase{"ChunkSizeNotHex", kTe + "xyz\r\nabc\r\n0\r\n\r\n", 400},
        ErrorCase{"ChunkSizeNegative", kTe + "-1\r\nabc\r\n0\r\n\r\n", 400},
        ErrorCase{"ChunkSizeTooManyDigits", kTe + "00000000000000001\r\na\r\n0\r\n\r\n", 400},
        ErrorCase{"ChunkSizeOverflow", kTe + "FFFFFFFFFFFFFFFFF\r\n", 400},
        ErrorCase{"ChunkSizeBareLf", kTe + "3\nabc\r\n0\r\n\r\n", 400},
        ErrorCase{"ChunkMissingCrlf", kTe + "3\r\nabcX\r\n0\r\n\r\n", 400},
        ErrorCase{"ChunkMissingLf", kTe + "3\r\nabc\rX0\r\n\r\n", 400},
        ErrorCase{"ChunkTooLong", kTe + "3\r\nabcd\r\n0\r\n\r\n", 400},
        ErrorCase{"ChunkExtCtl", kTe + "3;a=\x01\r\nabc\r\n0\r\n\r\n", 400},
        ErrorCase{"BadTrailer", kTe + "0\r\nno colon here\r\n\r\n", 400},
        // limits (small_limits: line 64, head 256, 4 headers, body 32)
        ErrorCase{"ClTooBig", "POST / HTTP/1.1\r\nContent-Length: 33\r\n\r\n", 413},
        ErrorCase{"ChunkTooBig", kTe + "21\r\n", 413},
        ErrorCase{"ChunkedGrowsTooBig", kTe + "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n1\r\n", 413},
        ErrorCase{"RequestLineTooLong", "GET /" + std::string(60, 'a') + " HTTP/1.1\r\n\r\n", 414},
        ErrorCase{"RequestLineTooLongNoEnd", "GET /" + std::string(100, 'a'), 414},
        ErrorCase{"HeadTooBig", "GET / HTTP/1.1\r\nA: " + std::string(300, 'v') + "\r\n\r\n", 431},
        ErrorCase{"HeadTooBigNoEnd", "GET / HTTP/1.1\r\nA: " + std::string(300, 'v'), 431},
        ErrorCase{"TooManyHeaders", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431},
        ErrorCase{"EndlessEmptyLines", [] {
                    std::string s;
                    for (int i = 0; i < 200; ++i) s += "\r\n";
                    return s;
                  }(),
                  431},
        ErrorCase{"TrailersTooBig", kTe + "0\r\nT: " + std::string(300, 't') + "\r\n\r\n", 431},
        // A limit is judged on the bytes it covers, whatever follows: same verdict at any split.
        ErrorCase{"LongLineThenBareLf", "GET /" + std::string(100, 'a') + "\n\r\n", 414},
        ErrorCase{"BigHeadThenBareLf", "GET / HTTP/1.1\r\nA: " + std::string(300, 'v') + "\n", 431},
        ErrorCase{"BigTrailerThenBareLf", kTe + "0\r\nT: " + std::string(300, 't') + "\n", 431},
        ErrorCase{"LongChunkExtThenBareLf", kTe + "1;" + std::string(5000, 'e') + "\n", 400}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(ParserLimitsTest, RequestLineAtTheLimitIsAccepted) {
  const std::string target = "/" + std::string(64 - 14, 'a');  // "GET " + target + " HTTP/1.1" == 64
  const std::string req = "GET " + target + " HTTP/1.1\r\n\r\n";
  ASSERT_EQ(req.size(), 64u + 4u);
  const Snapshot s = feed(req, 1, small_limits());
  EXPECT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.target, target);
  const Snapshot over = feed("GET a" + target + " HTTP/1.1\r\n\r\n", 1, small_limits());
  EXPECT_EQ(over.error_status, 414);
}

TEST(ParserLimitsTest, LimitsAreDetectedBeforeTheTerminator) {
  {
    RequestParser p(small_limits());
    std::string buf = "GET /" + std::string(70, 'a');  // no CRLF yet
    EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kError);
    EXPECT_EQ(p.error_status(), 414);
    EXPECT_EQ(p.error_message(), "URI too long");
  }
  {
    RequestParser p(small_limits());
    std::string buf = "GET / HTTP/1.1\r\nA: " + std::string(250, 'v');
    EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kError);
    EXPECT_EQ(p.error_status(), 431);
    EXPECT_EQ(p.error_message(), "Request header fields too large");
  }
  {
    RequestParser p(small_limits());
    std::string buf = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n";  // no terminator
    EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kError);
    EXPECT_EQ(p.error_status(), 431);
  }
  {
    // 413 right after the head, before any body byte arrives.
    RequestParser p(small_limits());
    std::string buf = "POST / HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n";
    EXPECT_EQ(p.parse(as_span(buf)), ParseStatus::kError);
    EXPECT_EQ(p.error_status(), 413);
  }
}

TEST(ParserLimitsTest, ChunkedBodyExactlyAtLimit) {
  const Snapshot s = parse_whole(kTe + "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n", small_limits());
  ASSERT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.body.size(), 32u);
}

TEST(ParserLimitsTest, ChunkFramingOverheadIsBounded) {
  // 1-byte chunks with long extensions: the decoded body is tiny but the raw bytes pile up.
  std::string req = kTe;
  const std::string chunk = "1;" + std::string(200, 'e') + "\r\nx\r\n";
  for (int i = 0; i < 20; ++i) req += chunk;
  const Snapshot s = parse_whole(req, small_limits());
  EXPECT_EQ(s.status, ParseStatus::kError);
  EXPECT_EQ(s.error_status, 413);
}

// The value and target scans test 8 bytes at a time; put the interesting byte at every offset.
TEST(Parser, FieldValueBytesAtEveryWordOffset) {
  for (std::size_t k = 0; k < 20; ++k) {
    std::string value(20, 'v');
    const auto request_with = [&](char c) {
      std::string v = value;
      v[k] = c;
      return "GET / HTTP/1.1\r\nName: " + v + "\r\nOther: o\r\n\r\n";
    };
    for (char ok : {'\t', ' ', '\x80', '\xff', '"', '~'}) {
      Parsed p(request_with(ok));
      ASSERT_EQ(p.status, ParseStatus::kComplete) << k;
      std::string expected = value;
      expected[k] = ok;
      // OWS at either end is not part of the value.
      const std::size_t b = expected.find_first_not_of(" \t");
      const std::size_t e = expected.find_last_not_of(" \t");
      EXPECT_EQ(p.req().header("name"), expected.substr(b, e - b + 1)) << k;
      EXPECT_EQ(p.req().header("other"), "o");
    }
    for (char bad : {'\0', '\x01', '\x1f', '\x7f', '\r', '\n'}) {
      Parsed p(request_with(bad));
      EXPECT_EQ(p.status, ParseStatus::kError) << k << " " << int(bad);
      EXPECT_EQ(p.parser.error_status(), 400) << k << " " << int(bad);
    }
  }
}

TEST(Parser, TargetBytesAtEveryWordOffset) {
  for (std::size_t k = 1; k < 20; ++k) {
    const auto request_with = [&](char c) {
      std::string target(20, 'p');
      target[0] = '/';
      target[k] = c;
      return "GET " + target + " HTTP/1.1\r\n\r\n";
    };
    Parsed utf8(request_with('\xc3'));
    ASSERT_EQ(utf8.status, ParseStatus::kComplete) << k;
    EXPECT_EQ(utf8.req().target.size(), 20u);
    for (char bad : {'\0', '\x01', '\t', '\x7f'}) {
      Parsed p(request_with(bad));
      EXPECT_EQ(p.parser.error_status(), 400) << k << " " << int(bad);
    }
  }
}

TEST(Parser, ErrorIsSticky) {
  RequestParser p;
  std::string bad = "GET / HTTP/2.0\r\n\r\n";
  ASSERT_EQ(p.parse(as_span(bad)), ParseStatus::kError);
  EXPECT_EQ(p.error_status(), 505);
  EXPECT_EQ(p.error_message(), "HTTP version not supported");
  std::string good = "GET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(p.parse(as_span(good)), ParseStatus::kError);
  EXPECT_EQ(p.error_status(), 505);
  p.reset();
  EXPECT_EQ(p.parse(as_span(good)), ParseStatus::kComplete);
  EXPECT_EQ(p.error_status(), 0);
}

TEST(Parser, Http10ChunkedIsAcceptedButCloses) {
  Parsed p("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.req().body, "z");
  EXPECT_FALSE(p.req().keep_alive);
}

}  // namespace
}  // namespace serval::http
