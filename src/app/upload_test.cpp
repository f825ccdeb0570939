// File<>, Form<> and RawBody<> handler parameters through the whole stack (TestClient): extraction,
// FastAPI-shaped 422s, 400/413/415 answers, big uploads, and the OpenAPI requestBody they produce.
#include "serval/app/upload.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "serval/app/app.hpp"
#include "serval/app/test_client.hpp"

namespace serval {
namespace {

namespace json = boost::json;
using namespace std::string_literals;

constexpr std::string_view kBoundary = "----serval7MA4YWxkTrZu0gW";

struct PartSpec {
  std::string name;
  std::string data;
  std::optional<std::string> filename;
  std::string content_type;
};

std::string multipart(const std::vector<PartSpec>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += "--";
    body += kBoundary;
    body += "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (p.filename) body += "; filename=\"" + *p.filename + "\"";
    body += "\r\n";
    if (!p.content_type.empty()) body += "Content-Type: " + p.content_type + "\r\n";
    body += "\r\n" + p.data + "\r\n";
  }
  body += "--";
  body += kBoundary;
  body += "--\r\n";
  return body;
}

TestClient::Headers form_headers() {
  return {{"Content-Type", "multipart/form-data; boundary=" + std::string(kBoundary)}};
}

json::value parse(const std::string& s) { return json::parse(s); }

class UploadTest : public ::testing::Test {
 protected:
  UploadTest() {
    app.post("/upload", [](File<"image"> img, Form<std::string, "model"> m) {
      std::uint64_t sum = 0;  // the bytes arrived intact
      for (char c : img->data) sum += static_cast<unsigned char>(c);
      return json::value{{"filename", img->filename}, {"content_type", img->content_type},
                         {"size", img->size()},       {"model", *m},
                         {"sum", sum}};
    });
    app.post("/options",
             [](Form<int, "top_k", rules().ge(1).le(5)> k, Form<std::optional<double>, "temperature"> t,
                Form<bool, "stream", rules().optional()> stream, OptionalFile<"mask"> mask,
                Files<"extra", rules().optional().doc("More images")> extra) {
               return json::value{{"top_k", *k},
                                  {"temperature", t->has_value() ? json::value(**t) : json::value(nullptr)},
                                  {"stream", *stream},
                                  {"mask", mask->has_value() ? json::value((*mask)->filename) : json::value(nullptr)},
                                  {"extra", extra->size()}};
             });
    app.post("/many", [](Files<"img"> imgs) {
      json::array names;
      for (const UploadFile& f : *imgs) names.emplace_back(f.filename + ":" + std::to_string(f.size()));
      return json::value(std::move(names));
    });
    app.post("/async", [](File<"f"> f) -> Task<std::size_t> { co_return f->size(); });
    app.post("/limited", [](File<"f"> f) { return f->size(); },
             {.middleware = {form_limits({.max_parts = 2, .max_part_bytes = 10})}});
    app.post("/transcribe", [](RawBody<"audio/*", "application/octet-stream"> audio) {
      return json::value{{"bytes", audio.size()}, {"content_type", audio.content_type}, {"riff", audio.data.substr(0, 4)}};
    });
    app.put("/blob", [](RawBody<> raw) { return raw.size(); });
  }
  App app;
};

TEST_F(UploadTest, FileAndFormField) {
  TestClient client{app};
  const std::string png = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"s;
  auto r = client.post("/upload",
                       multipart({{"model", "blip"}, {"image", png, "cat.png", "image/png"}}), form_headers());
  ASSERT_EQ(r.status, 200) << r.body;
  std::uint64_t sum = 0;
  for (char c : png) sum += static_cast<unsigned char>(c);
  EXPECT_EQ(r.json(), parse(R"({"filename":"cat.png","content_type":"image/png","size":)" +
                            std::to_string(png.size()) + R"(,"model":"blip","sum":)" + std::to_string(sum) + "}"));
}

TEST_F(UploadTest, MissingPartIs422LikeFastApi) {
  TestClient client{app};
  auto r = client.post("/upload", multipart({{"model", "blip"}}), form_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json(), parse(R"({"detail":[{"type":"missing","loc":["body","image"],"msg":"Field required","input":null}]})"));

  // A browser's empty file input (filename="" and no bytes) and an empty text field count as absent.
  r = client.post("/upload", multipart({{"model", ""}, {"image", "", ""s, "application/octet-stream"}}), form_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json(), parse(R"({"detail":[
      {"type":"missing","loc":["body","image"],"msg":"Field required","input":null},
      {"type":"missing","loc":["body","model"],"msg":"Field required","input":null}]})"));
}

TEST_F(UploadTest, WrongContentTypeMeansEveryFieldIsMissing) {
  TestClient client{app};
  auto r = client.post("/upload", R"({"image":"x","model":"y"})");  // JSON
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json().at("detail").as_array().size(), 2u);
  EXPECT_EQ(r.json().at("detail").at(0).at("loc"), parse(R"(["body","image"])"));
  r = client.post("/upload", "", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 422);
}

TEST_F(UploadTest, TextWhereAFileIsExpected) {
  TestClient client{app};
  auto r = client.post("/upload", multipart({{"model", "m"}, {"image", "just text"}}), form_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json(), parse(R"({"detail":[{"type":"value_error","loc":["body","image"],
      "msg":"Value error, Expected UploadFile, received: <class 'str'>","input":"just text","ctx":{"error":{}}}]})"));
}

TEST_F(UploadTest, BadMultipartIs400) {
  TestClient client{app};
  std::string truncated = multipart({{"model", "m"}, {"image", "abc", "a.png", ""}});
  truncated.resize(truncated.size() - 10);  // cut into the closing delimiter
  auto r = client.post("/upload", truncated, form_headers());
  EXPECT_EQ(r.status, 400);
  const std::string detail(r.json().at("detail").as_string());
  EXPECT_TRUE(detail.starts_with("Invalid multipart/form-data body: ")) << detail;
  EXPECT_NE(detail.find("missing closing boundary"), std::string::npos) << detail;

  r = client.post("/upload", "garbage", {{"Content-Type", "multipart/form-data"}});  // no boundary
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("boundary"), std::string::npos) << r.body;

  // A part name that is not UTF-8 is echoed as '?', so the detail stays valid JSON.
  r = client.post("/upload", "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"\xff\xfe\"\r\n\r\nx",
                  form_headers());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(std::string(r.json().at("detail").as_string()),
            "Invalid multipart/form-data body: part 1 (\"??\"): missing closing boundary (the body ends inside the part)");

  r = client.post("/upload", "garbage", form_headers());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("does not contain the multipart boundary"), std::string::npos) << r.body;
}

TEST_F(UploadTest, FormRulesAndOptionalParts) {
  TestClient client{app};
  auto r = client.post("/options", multipart({{"top_k", "3"}, {"temperature", "0.5"}, {"mask", "m", "mask.png", ""},
                                              {"extra", "1", "a", ""}, {"extra", "22", "b", ""}, {"stream", "true"}}),
                       form_headers());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), parse(R"({"top_k":3,"temperature":0.5,"stream":true,"mask":"mask.png","extra":2})"));

  r = client.post("/options", multipart({{"top_k", "1"}}), form_headers());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), parse(R"({"top_k":1,"temperature":null,"stream":false,"mask":null,"extra":0})"));

  r = client.post("/options", multipart({{"top_k", "9"}, {"temperature", "warm"}}), form_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json(), parse(R"({"detail":[
      {"type":"less_than_equal","loc":["body","top_k"],"msg":"Input should be less than or equal to 5","input":"9","ctx":{"le":5}},
      {"type":"float_parsing","loc":["body","temperature"],"msg":"Input should be a valid number, unable to parse string as a number","input":"warm"}]})"));
}

TEST_F(UploadTest, UrlEncodedFormFields) {
  TestClient client{app};
  auto r = client.post("/options", "top_k=2&temperature=1e-1&stream=on&unused=%E2%82%AC",
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), parse(R"({"top_k":2,"temperature":0.1,"stream":true,"mask":null,"extra":0})"));
  r = client.post("/options", "top_k=%zz", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 400);
  r = client.post("/upload", "model=x", {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
  EXPECT_EQ(r.status, 422);  // no file in a urlencoded body
  EXPECT_EQ(r.json().at("detail").as_array().size(), 1u);
}

TEST_F(UploadTest, SeveralFilesUnderOneName) {
  TestClient client{app};
  auto r = client.post("/many", multipart({{"img", "aa", "a.png", "image/png"}, {"img", "bbb", "b.png", "image/png"}}),
                       form_headers());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), parse(R"(["a.png:2","b.png:3"])"));
  r = client.post("/many", multipart({{"img", "aa", "a.png", ""}, {"img", "text"}}), form_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json().at("detail").at(0).at("loc"), parse(R"(["body","img",1])"));
}

TEST_F(UploadTest, AsyncHandlerGetsTheFile) {
  TestClient client{app};
  auto r = client.post("/async", multipart({{"f", std::string(1000, 'z'), "z.bin", ""}}), form_headers());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "1000");
}

TEST_F(UploadTest, PerRouteLimitsAnswer413) {
  TestClient client{app};
  auto r = client.post("/limited", multipart({{"f", "0123456789", "x", ""}}), form_headers());
  EXPECT_EQ(r.status, 200) << r.body;
  r = client.post("/limited", multipart({{"f", "0123456789A", "x", ""}}), form_headers());
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("larger than the limit of 10 bytes"), std::string::npos) << r.body;
  r = client.post("/limited", multipart({{"a", "1"}, {"b", "2"}, {"f", "3", "x", ""}}), form_headers());
  EXPECT_EQ(r.status, 413);
  // Other routes keep the defaults.
  r = client.post("/async", multipart({{"f", "0123456789A", "x", ""}}), form_headers());
  EXPECT_EQ(r.status, 200);
}

// The server's body limit (ParserLimits::max_body, --max-body-bytes) decides first: 16 MiB by default.
TEST_F(UploadTest, TwentyMegabyteUpload) {
  std::string big(20'000'000, '\0');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  const std::string body = multipart({{"model", "m"}, {"image", big, "big.bin", "application/octet-stream"}});
  {
    TestClient client{app};  // default limit
    EXPECT_EQ(client.post("/upload", body, form_headers()).status, 413);
  }
  http::ConnectionOptions options;
  options.parser.max_body = 32 << 20;
  TestClient client{app, options};
  auto r = client.post("/upload", body, form_headers());
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  EXPECT_EQ(r.json().at("size").as_int64(), 20'000'000);
}

TEST_F(UploadTest, RawBody) {
  TestClient client{app};
  const std::string wav = "RIFF\x24\0\0\0WAVEfmt "s;
  auto r = client.post("/transcribe", wav, {{"Content-Type", "audio/wav"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), parse(R"({"bytes":16,"content_type":"audio/wav","riff":"RIFF"})"));
  EXPECT_EQ(client.post("/transcribe", wav, {{"Content-Type", "Audio/X-Wav; rate=16000"}}).status, 200);  // audio/*
  EXPECT_EQ(client.post("/transcribe", wav, {{"Content-Type", "application/octet-stream"}}).status, 200);

  EXPECT_EQ(client.post("/transcribe", wav, {{"Content-Type", "audio"}}).status, 415);
  EXPECT_EQ(client.post("/transcribe", wav, {}).status, 415);  // TestClient's default is application/json
  // No Content-Type at all is accepted.
  const auto raw = TestClient::parse_response(
      client.raw("POST /transcribe HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\nRIFF"));
  EXPECT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(json::parse(raw.body), parse(R"({"bytes":4,"content_type":"","riff":"RIFF"})"));
  r = client.post("/transcribe", wav, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.json(), parse(R"({"detail":"Unsupported Media Type \"text/plain\": expected audio/*, application/octet-stream"})"));
  r = client.post("/transcribe", "", {{"Content-Type", "audio/wav"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json(), parse(R"({"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]})"));

  EXPECT_EQ(client.put("/blob", "12345", {{"Content-Type", "anything/at-all"}}).body, "5");
}

TEST_F(UploadTest, OpenApiDocumentsAFormBodyLikeFastApi) {
  const json::value doc = json::parse(app.openapi_json());
  const json::value& op = doc.at("paths").at("/upload").at("post");
  EXPECT_EQ(op.at("requestBody"), parse(R"({"required":true,"content":{"multipart/form-data":{"schema":{
      "title":"Body_upload_post","type":"object",
      "properties":{"image":{"type":"string","format":"binary","title":"Image"},
                    "model":{"type":"string","title":"Model"}},
      "required":["image","model"]}}}})"));
  EXPECT_FALSE(op.as_object().contains("parameters"));
  EXPECT_TRUE(op.at("responses").as_object().contains("422"));

  const json::value& props =
      doc.at("paths").at("/options").at("post").at("requestBody").at("content").at("multipart/form-data").at("schema");
  EXPECT_EQ(props.at("required"), parse(R"(["top_k"])"));
  EXPECT_EQ(props.at("properties").at("top_k"), parse(R"({"type":"integer","minimum":1,"maximum":5,"title":"Top K"})"));
  EXPECT_EQ(props.at("properties").at("mask"),
            parse(R"({"anyOf":[{"type":"string","format":"binary"},{"type":"null"}],"title":"Mask"})"));
  EXPECT_EQ(props.at("properties").at("extra"),
            parse(R"({"type":"array","items":{"type":"string","format":"binary"},"title":"Extra","description":"More images"})"));

  const json::value& raw = doc.at("paths").at("/transcribe").at("post");
  EXPECT_EQ(raw.at("requestBody"), parse(R"({"required":true,"content":{
      "audio/*":{"schema":{"type":"string","format":"binary"}},
      "application/octet-stream":{"schema":{"type":"string","format":"binary"}}}})"));
  EXPECT_TRUE(raw.at("responses").as_object().contains("415"));
  EXPECT_EQ(doc.at("paths").at("/blob").at("put").at("requestBody").at("content").as_object().size(), 1u);
}

TEST(UploadOpenApi, FormFieldsOnlyAreUrlEncoded) {
  App app;
  app.post("/login", [](Form<std::string, "username">, Form<std::string, "password">) { return true; });
  const json::value doc = json::parse(app.openapi_json());
  const json::value& body = doc.at("paths").at("/login").at("post").at("requestBody");
  EXPECT_TRUE(body.at("content").as_object().contains("application/x-www-form-urlencoded"));
  TestClient client{app};
  EXPECT_EQ(client.post("/login", "username=a&password=b", {{"Content-Type", "application/x-www-form-urlencoded"}}).body,
            "true");
  // Multipart works for form fields too.
  EXPECT_EQ(client.post("/login", multipart({{"username", "a"}, {"password", "b"}}), form_headers()).body, "true");
}

}  // namespace
}  // namespace serval
