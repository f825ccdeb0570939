// The multipart/form-data parser: well-formed bodies as browsers, curl and requests send them,
// the tolerated variants (LF line ends, preamble, padding, filename*), and the rejected ones.
#include "serval/app/multipart.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

namespace serval {
namespace {

using namespace std::string_literals;

MultipartResult parse(std::string_view body, std::string_view boundary = "XyZ", const MultipartLimits& limits = {}) {
  return parse_multipart(body, boundary, limits);
}

TEST(MultipartBoundary, UnquotedQuotedAndCase) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"),
            "----WebKitFormBoundary7MA4YWxkTrZu0gW");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;BOUNDARY=abc"), "abc");
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=\"a b:c?\""), "a b:c?");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"q\\\"x\""), "q\"x");
  EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=gc0p4Jq0M2Yt08jU534c0p"), "gc0p4Jq0M2Yt08jU534c0p");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc ; x=y"), "abc");
}

TEST(MultipartBoundary, Rejected) {
  EXPECT_FALSE(multipart_boundary("application/json"));
  EXPECT_FALSE(multipart_boundary(""));
  EXPECT_FALSE(multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=\"\""));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=\"abc"));           // unterminated
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));  // RFC 2046: <= 70
  EXPECT_TRUE(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'a')));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=\"a\tb\""));        // control character
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary"));                 // no value
  EXPECT_FALSE(multipart_boundary("text/plain; boundary=abc"));
}

TEST(Multipart, FieldAndFileLikeABrowser) {
  const std::string png = "\x89PNG\r\n\x1a\n\0\0\r\n--XyZ-not-a-delimiter\r\n"s;
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"model\"\r\n"
      "\r\n"
      "blip-base\r\n"
      "--XyZ\r\n"
      "content-disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
      "Content-Type: image/png\r\n"
      "X-Extra:  kept \r\n"
      "\r\n" +
      png +
      "\r\n"
      "--XyZ--\r\n";
  const MultipartResult r = parse(body);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].name, "model");
  EXPECT_FALSE(r.parts[0].is_file());
  EXPECT_EQ(r.parts[0].content_type, "text/plain");
  EXPECT_EQ(r.parts[0].data, "blip-base");
  EXPECT_EQ(r.parts[1].name, "image");
  ASSERT_TRUE(r.parts[1].filename);
  EXPECT_EQ(*r.parts[1].filename, "cat.png");
  EXPECT_EQ(r.parts[1].content_type, "image/png");
  EXPECT_EQ(r.parts[1].data, png);  // binary, NULs and CRLFs inside, a "--XyZ-..." line that is data
  ASSERT_EQ(r.parts[1].headers.size(), 3u);
  EXPECT_EQ(r.parts[1].headers[2].first, "x-extra");
  EXPECT_EQ(r.parts[1].headers[2].second, "kept");
  // Zero-copy: the data is a view into the body.
  EXPECT_GE(r.parts[1].data.data(), body.data());
  EXPECT_LE(r.parts[1].data.data() + r.parts[1].data.size(), body.data() + body.size());
  EXPECT_EQ(r.find("image"), &r.parts[1]);
  EXPECT_EQ(r.find("nope"), nullptr);
}

TEST(Multipart, MultipleFilesUnderOneNameAndDefaults) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nAAA\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b.bin\"\r\n\r\n\r\n"  // empty file
      "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\nC\r\n"
      "--XyZ--";
  const MultipartResult r = parse(body);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.parts.size(), 3u);
  EXPECT_EQ(*r.parts[0].filename, "a.txt");
  EXPECT_EQ(r.parts[0].data, "AAA");
  EXPECT_EQ(r.parts[0].content_type, "application/octet-stream");  // a file without Content-Type
  EXPECT_EQ(*r.parts[1].filename, "b.bin");
  EXPECT_EQ(r.parts[1].data, "");
  EXPECT_EQ(*r.parts[2].filename, "");
  EXPECT_EQ(r.parts[2].data, "C");
}

TEST(Multipart, BareLfPreambleEpiloguePadding) {
  const std::string body =
      "This is the preamble. --XyZ inside it is not a delimiter\n"
      "--XyZ \t\n"
      "Content-Disposition: form-data; name=a\n"
      "\n"
      "line1\nline2\r\n"
      "--XyZ\n"
      "Content-Disposition: form-data;name=\"b\"\n"
      "\n"
      "\n"
      "--XyZ--   \nepilogue\r\n--XyZ\r\nignored";
  const MultipartResult r = parse(body);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].name, "a");
  EXPECT_EQ(r.parts[0].data, "line1\nline2");
  EXPECT_EQ(r.parts[1].name, "b");
  EXPECT_EQ(r.parts[1].data, "");
}

TEST(Multipart, DataEndingInCrOrLookingLikeADelimiter) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"
      "a\r\r\n--XyZX\r\n--XyZ-\r\n--XyZ \tz\r\n"  // none of these is a delimiter line
      "\r\n--XyZ--";
  const MultipartResult r = parse(body);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].data, "a\r\r\n--XyZX\r\n--XyZ-\r\n--XyZ \tz\r\n");  // its own CRLF is data
}

TEST(Multipart, EmptyMultipartIsValid) {
  const MultipartResult r = parse("--XyZ--\r\n");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.parts.empty());
}

TEST(Multipart, FilenameStarAndEscapes) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"euro.txt\"; "
      "filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\n1\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename*=iso-8859-1'en'%A3.txt\r\n\r\n2\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"c\"; filename=\"plain.txt\"; filename*=KOI8-R''%C1\r\n\r\n3\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"d\\\"q\"; filename=\"C:\\dir\\say \\\"hi\\\".txt\"\r\n\r\n4\r\n"
      "--XyZ\r\nContent-Disposition: form-data; filename*=utf-8''%C3%A9.txt; name=\"e\"; filename=\"late.txt\"\r\n\r\n5\r\n"
      "--XyZ--\r\n";
  const MultipartResult r = parse(body);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.parts.size(), 5u);
  EXPECT_EQ(*r.parts[0].filename, "\xE2\x82\xAC rates.txt");  // filename* wins
  EXPECT_EQ(*r.parts[1].filename, "\xC2\xA3.txt");             // ISO-8859-1 converted to UTF-8
  EXPECT_EQ(*r.parts[2].filename, "plain.txt");                // unknown charset: filename*= ignored
  EXPECT_EQ(r.parts[3].name, "d\"q");
  EXPECT_EQ(*r.parts[3].filename, "C:\\dir\\say \"hi\".txt");  // other backslashes kept
  EXPECT_EQ(*r.parts[4].filename, "\xC3\xA9.txt");             // before or after filename=, it wins

  const std::string bad =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename*=UTF-8''%E2%8\r\n\r\n1\r\n--XyZ--";
  const MultipartResult rb = parse(bad);
  EXPECT_FALSE(rb.ok());
  EXPECT_NE(rb.error.find("filename*"), std::string::npos) << rb.error;
}

TEST(Multipart, MissingClosingBoundaryIsAnError) {
  for (const std::string& body : {
           "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue"s,
           "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--XyZ"s,
           "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--XyZ\r\n"s,
           "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--XyZ-\r\n"s,
       }) {
    const MultipartResult r = parse(body);
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_FALSE(r.limit_exceeded);
    EXPECT_TRUE(r.parts.empty());
    EXPECT_TRUE(r.error.find("closing boundary") != std::string::npos ||
                r.error.find("not terminated") != std::string::npos)
        << r.error;
  }
}

TEST(Multipart, MalformedBodies) {
  const auto error_of = [](std::string_view body) { return parse(body).error; };
  EXPECT_NE(error_of("").find("does not contain the multipart boundary"), std::string::npos);
  EXPECT_NE(error_of("{\"json\": true}").find("does not contain"), std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\n\r\nx\r\n--XyZ--").find("no Content-Disposition"), std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--").find("not form-data"),
            std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--XyZ--").find("no name"),
            std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n--XyZ--").find("folded"),
            std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--").find("malformed"),
            std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\nNoColonHere\r\n\r\nx\r\n--XyZ--").find("malformed part header"), std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n\r\nx\r\n--XyZ--").find("control"),
            std::string::npos);
  EXPECT_NE(error_of("--XyZ\r\nContent-Disposition: form-data; name=\"a\"").find("not terminated"), std::string::npos);
  EXPECT_FALSE(parse("--\r\n--", "").ok());         // empty boundary
  EXPECT_FALSE(parse("--a\nb", "a\nb").ok());       // a boundary with a line end
}

TEST(Multipart, Limits) {
  std::string three;
  for (int i = 0; i < 3; ++i) three += "--XyZ\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\n12345\r\n";
  three += "--XyZ--\r\n";
  EXPECT_TRUE(parse(three, "XyZ", {.max_parts = 3}).ok());
  MultipartResult r = parse(three, "XyZ", {.max_parts = 2});
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.limit_exceeded);
  EXPECT_NE(r.error.find("more than 2 parts"), std::string::npos) << r.error;

  r = parse(three, "XyZ", {.max_field_bytes = 4});
  EXPECT_TRUE(r.limit_exceeded) << r.error;
  EXPECT_NE(r.error.find("larger than the limit of 4 bytes"), std::string::npos) << r.error;
  EXPECT_TRUE(parse(three, "XyZ", {.max_field_bytes = 5}).ok());

  const std::string file = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n" +
                           std::string(100, 'x') + "\r\n--XyZ--";
  EXPECT_TRUE(parse(file, "XyZ", {.max_field_bytes = 10}).ok());  // the field limit is for text fields
  r = parse(file, "XyZ", {.max_part_bytes = 99});
  EXPECT_TRUE(r.limit_exceeded);
  EXPECT_TRUE(parse(file, "XyZ", {.max_part_bytes = 100}).ok());

  const std::string head = "Content-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n";  // 58 bytes
  ASSERT_EQ(head.size(), 58u);
  EXPECT_TRUE(parse(file, "XyZ", {.max_header_bytes = 58}).ok());
  r = parse(file, "XyZ", {.max_header_bytes = 57});
  EXPECT_TRUE(r.limit_exceeded);
  EXPECT_NE(r.error.find("part headers are larger"), std::string::npos) << r.error;
  // A header line that never ends is cut at the limit, not scanned to the end of the body.
  r = parse("--XyZ\r\nX: " + std::string(1 << 20, 'h'), "XyZ", {.max_header_bytes = 1024});
  EXPECT_TRUE(r.limit_exceeded);
}

TEST(Multipart, RandomGarbageNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "-XyZ\r\n\"; =:abcform-dataContent-Disposition\\%*'";
  const std::string seed =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"b\"\r\nContent-Type: x/y\r\n\r\nd\r\n--XyZ--\r\n";
  for (int i = 0; i < 3000; ++i) {
    std::string body = seed;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % (body.size() + 1);
      switch (rng() % 3) {
        case 0: body.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 1: if (at < body.size()) body.erase(at, 1); break;
        default: if (at < body.size()) body[at] = static_cast<char>(rng() % 256); break;
      }
    }
    const MultipartResult r = parse(body, "XyZ", {.max_parts = 4, .max_header_bytes = 128});
    EXPECT_EQ(r.ok(), r.error.empty());
    if (!r.ok()) {
      EXPECT_TRUE(r.parts.empty());
    }
    for (const auto& p : r.parts) {
      EXPECT_GE(p.data.data(), body.data());
      EXPECT_LE(p.data.data() + p.data.size(), body.data() + body.size());
    }
  }
}

// Adversarial bodies cost linear time: a boundary-like byte run, and thousands of near-delimiters.
TEST(Multipart, NoQuadraticBlowUp) {
  const std::string boundary(70, 'a');
  const std::string start = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n";
  std::string run = start + std::string(16 << 20, 'a') + "\r\n--" + boundary + "--";
  std::string almost = start;  // the searcher's worst case: 69 of 70 bytes match, over and over
  while (almost.size() < (16u << 20)) almost += "\r\n--" + boundary.substr(0, 69) + "b";
  almost += "\r\n--" + boundary + "--";
  std::string fake = start;  // full matches that are not delimiter lines: each resumes the search
  while (fake.size() < (16u << 20)) fake += "\r\n--" + boundary + "X";
  fake += "\r\n--" + boundary + "--";
  for (const std::string* body : {&run, &almost, &fake}) {
    const auto t0 = std::chrono::steady_clock::now();
    const MultipartResult r = parse_multipart(*body, boundary);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.parts.size(), 1u);
    EXPECT_EQ(r.parts[0].data.size(), body->size() - start.size() - boundary.size() - 6);
    EXPECT_LT(ms, 2000) << "16 MiB took " << ms << " ms";
    std::printf("[ info     ] 16 MiB adversarial body parsed in %lld ms\n", static_cast<long long>(ms));
  }
}

}  // namespace
}  // namespace serval
