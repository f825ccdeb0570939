// The ocr runtime end to end on the real PP-OCRv4 models (models/ocr/1): rendered text in, lines out.
#include "runtimes/ocr/ocr_runtime.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "runtimes/ocr/ocr_test_images.hpp"

namespace serval::runtimes::ocr {
namespace {

using serving::ErrorClass;
using serving::InferRequest;
using serving::InferResult;
using testing::encode;
using testing::render_centered;
using testing::render_with_margin;

const char* const kDir = SERVAL_SOURCE_DIR "/models/ocr/1";

serving::ModelSpec ocr_spec(boost::json::object parameters = {}) {
  serving::ModelSpec spec;
  spec.name = "ocr";
  spec.runtime = "ocr";
  spec.task = "ocr";
  spec.parameters = std::move(parameters);
  return spec;
}

class OcrRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static serving::ModelSpec spec = ocr_spec();
    runtime_ = make_ocr_runtime(serving::LoadContext{spec, kDir, 1}).release();
  }
  static void TearDownTestSuite() {
    delete runtime_;
    runtime_ = nullptr;
  }

  static std::vector<InferResult> run(std::vector<InferRequest>& requests) {
    std::vector<InferRequest*> ptrs;
    for (auto& r : requests) ptrs.push_back(&r);
    std::vector<InferResult> out(requests.size());
    runtime_->execute(ptrs, out);
    return out;
  }
  static InferResult run_one(std::string bytes, boost::json::object params = {}) {
    std::vector<InferRequest> reqs(1);
    reqs[0].bytes = std::move(bytes);
    reqs[0].params = std::move(params);
    return std::move(run(reqs)[0]);
  }
  static std::vector<std::string> texts(const InferResult& r) {
    std::vector<std::string> t;
    for (const auto& l : r.value().json.at("lines").as_array()) t.emplace_back(l.at("text").as_string());
    return t;
  }

  static serving::Runtime* runtime_;
};
serving::Runtime* OcrRuntimeTest::runtime_ = nullptr;

// Box corners as integers.
std::vector<cv::Point> box_points(const boost::json::value& line) {
  std::vector<cv::Point> pts;
  for (const auto& p : line.at("box").as_array())
    pts.emplace_back(static_cast<int>(p.as_array()[0].as_int64()), static_cast<int>(p.as_array()[1].as_int64()));
  return pts;
}

TEST_F(OcrRuntimeTest, ReadsOneRenderedLineExactly) {
  auto r = render_centered("Serval reads 42 lines", {800, 200});
  auto res = run_one(encode(r.image, ".png"));
  ASSERT_TRUE(res) << res.error().message;
  const auto& doc = res.value().json.as_object();
  EXPECT_EQ(doc.at("width").as_int64(), 800);
  EXPECT_EQ(doc.at("height").as_int64(), 200);
  const auto& lines = doc.at("lines").as_array();
  ASSERT_EQ(lines.size(), 1u) << boost::json::serialize(doc);
  EXPECT_EQ(lines[0].at("text").as_string(), "Serval reads 42 lines");
  EXPECT_GT(lines[0].at("confidence").as_double(), 0.9);
  EXPECT_LE(lines[0].at("confidence").as_double(), 1.0);

  // The box hugs the ink: every corner within 15 px of the text rectangle, and it spans the text.
  auto pts = box_points(lines[0]);
  ASSERT_EQ(pts.size(), 4u);
  cv::Rect outer(r.text.x - 15, r.text.y - 15, r.text.width + 30, r.text.height + 30);
  for (const auto& p : pts) EXPECT_TRUE(outer.contains(p)) << p << " outside " << outer;
  cv::Rect box = cv::boundingRect(pts);
  EXPECT_GE(box.width, r.text.width - 10);
  EXPECT_GE(box.height, r.text.height * 3 / 4);
  // TL, TR, BR, BL.
  EXPECT_LT(pts[0].x, pts[1].x);
  EXPECT_LT(pts[1].y, pts[2].y);
  EXPECT_GT(pts[2].x, pts[3].x);
}

TEST_F(OcrRuntimeTest, TwoLinesComeTopToBottom) {
  cv::Mat page = testing::blank_page({640, 240});
  testing::draw_line(page, "Top line 1", {60, 50});
  testing::draw_line(page, "Bottom line 2", {60, 140});
  auto res = run_one(encode(page, ".png"));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(texts(res), (std::vector<std::string>{"Top line 1", "Bottom line 2"}));
  const auto& lines = res.value().json.at("lines").as_array();
  EXPECT_LT(box_points(lines[0])[3].y, box_points(lines[1])[0].y);  // first box ends above the second
}

TEST_F(OcrRuntimeTest, BatchRoutesEachImagesLinesBack) {
  std::vector<InferRequest> reqs(4);
  reqs[0].bytes = encode(render_with_margin("First image", 30).image, ".png");
  cv::Mat two = testing::blank_page({560, 220});
  testing::draw_line(two, "Line one", {40, 40});
  testing::draw_line(two, "Line two", {40, 130});
  reqs[1].bytes = encode(two, ".png");
  reqs[2].bytes = encode(render_centered("Third one 7", {500, 120}).image, ".jpg");
  auto line = render_with_margin("Model server", 4);  // a line image, read without detection
  reqs[3].bytes = encode(line.image, ".png");
  reqs[3].params["mode"] = "recognize";
  auto out = run(reqs);
  for (const auto& r : out) ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(texts(out[0]), std::vector<std::string>{"First image"});
  EXPECT_EQ(texts(out[1]), (std::vector<std::string>{"Line one", "Line two"}));
  EXPECT_EQ(texts(out[2]), std::vector<std::string>{"Third one 7"});
  EXPECT_EQ(out[2].value().json.at("width").as_int64(), 500);
  EXPECT_EQ(texts(out[3]), std::vector<std::string>{"Model server"});
}

TEST_F(OcrRuntimeTest, RequestDropScoreLeavesOutLines) {
  std::string png = encode(render_with_margin("Queue depth 16", 20).image, ".png");
  auto kept = run_one(png, {{"drop_score", 0.5}});
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(texts(kept), std::vector<std::string>{"Queue depth 16"});
  auto dropped = run_one(png, {{"drop_score", 1}});  // no line is that sure
  ASSERT_TRUE(dropped) << dropped.error().message;
  EXPECT_TRUE(texts(dropped).empty());
  auto bad = run_one(png, {{"drop_score", "high"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().cls, ErrorClass::Client);
}

TEST_F(OcrRuntimeTest, EqualSizedImagesAreDetectedTogether) {
  std::vector<InferRequest> reqs(2);
  reqs[0].bytes = encode(render_centered("Hello OCR world", {640, 160}).image, ".png");
  reqs[1].bytes = encode(render_centered("The quick brown fox", {640, 160}).image, ".png");
  auto out = run(reqs);
  ASSERT_TRUE(out[0] && out[1]);
  EXPECT_EQ(texts(out[0]), std::vector<std::string>{"Hello OCR world"});
  EXPECT_EQ(texts(out[1]), std::vector<std::string>{"The quick brown fox"});
}

TEST_F(OcrRuntimeTest, GarbageFailsOnlyItsOwnRequest) {
  std::vector<InferRequest> reqs(4);
  reqs[0].bytes = encode(render_with_margin("Serval reads 42 lines", 30).image, ".png");
  reqs[1].bytes = "this is not an image at all";
  reqs[2].bytes = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(200, '\x42');  // PNG signature, junk after
  reqs[3].bytes = encode(render_with_margin("Batch item 3 of 3", 30).image, ".png");
  auto out = run(reqs);
  ASSERT_TRUE(out[0]) << out[0].error().message;
  ASSERT_FALSE(out[1]);
  EXPECT_EQ(out[1].error().cls, ErrorClass::Client);
  EXPECT_EQ(out[1].error().message, "expected a PNG or JPEG image");
  ASSERT_FALSE(out[2]);
  EXPECT_EQ(out[2].error().cls, ErrorClass::Client);
  EXPECT_NE(out[2].error().message.find("could not be decoded"), std::string::npos) << out[2].error().message;
  ASSERT_TRUE(out[3]) << out[3].error().message;
  EXPECT_EQ(texts(out[0]), std::vector<std::string>{"Serval reads 42 lines"});
  EXPECT_EQ(texts(out[3]), std::vector<std::string>{"Batch item 3 of 3"});
}

TEST_F(OcrRuntimeTest, TruncatedPngIsAClientError) {
  std::string png = encode(render_with_margin("Serval", 20).image, ".png");
  auto res = run_one(png.substr(0, png.size() / 2));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().cls, ErrorClass::Client);
}

TEST_F(OcrRuntimeTest, ValidateChecksBytesBeforeQueueing) {
  InferRequest empty;
  auto e = runtime_->validate(empty);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cls, ErrorClass::Client);

  InferRequest text;
  text.bytes = "GIF89a....";
  e = runtime_->validate(text);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "expected a PNG or JPEG image");

  InferRequest good;
  good.bytes = encode(render_with_margin("ok", 10).image, ".jpg");
  EXPECT_FALSE(runtime_->validate(good));
  good.params["mode"] = "translate";
  e = runtime_->validate(good);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("params.mode"), std::string::npos);
}

TEST_F(OcrRuntimeTest, RecognizeModeReadsACroppedLine) {
  auto r = render_with_margin("Serval reads 42 lines", 40);
  cv::Rect crop(r.text.x - 6, r.text.y - 6, r.text.width + 12, r.text.height + 12);
  auto res = run_one(encode(r.image(crop), ".png"), {{"mode", "recognize"}});
  ASSERT_TRUE(res) << res.error().message;
  const auto& lines = res.value().json.at("lines").as_array();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("text").as_string(), "Serval reads 42 lines");
  EXPECT_GT(lines[0].at("confidence").as_double(), 0.9);
  auto pts = box_points(lines[0]);
  EXPECT_EQ(pts[0], cv::Point(0, 0));
  EXPECT_EQ(pts[2], cv::Point(crop.width - 1, crop.height - 1));
}

TEST_F(OcrRuntimeTest, UpsideDownLineIsTurnedByTheClassifier) {
  auto r = render_centered("Serval reads 42 lines", {800, 200});
  cv::Mat flipped;
  cv::rotate(r.image, flipped, cv::ROTATE_180);
  auto res = run_one(encode(flipped, ".png"));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(texts(res), std::vector<std::string>{"Serval reads 42 lines"});
}

TEST_F(OcrRuntimeTest, GrayAndTransparentPngsAreRead) {
  auto r = render_with_margin("Hello OCR world", 30);
  cv::Mat gray;
  cv::cvtColor(r.image, gray, cv::COLOR_BGR2GRAY);
  // Black ink on a fully transparent background: colour channels all black, only alpha has the text.
  cv::Mat bgra(r.image.size(), CV_8UC4, cv::Scalar(0, 0, 0, 0));
  for (int y = 0; y < gray.rows; ++y)
    for (int x = 0; x < gray.cols; ++x) bgra.at<cv::Vec4b>(y, x)[3] = static_cast<unsigned char>(255 - gray.at<unsigned char>(y, x));
  std::vector<InferRequest> reqs(2);
  reqs[0].bytes = encode(gray, ".png");
  reqs[1].bytes = encode(bgra, ".png");
  auto out = run(reqs);
  ASSERT_TRUE(out[0]) << out[0].error().message;
  ASSERT_TRUE(out[1]) << out[1].error().message;
  EXPECT_EQ(texts(out[0]), std::vector<std::string>{"Hello OCR world"});
  EXPECT_EQ(texts(out[1]), std::vector<std::string>{"Hello OCR world"});
}

TEST_F(OcrRuntimeTest, BlankImageHasNoLines) {
  auto res = run_one(encode(testing::blank_page({300, 100}), ".png"));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_TRUE(res.value().json.at("lines").as_array().empty());
}

TEST_F(OcrRuntimeTest, DescribeShowsTheModels) {
  auto d = runtime_->describe();
  EXPECT_EQ(d.at("keys").as_int64(), 6623);
  EXPECT_EQ(d.at("classes").as_int64(), 6625);
  const auto& rec_out = d.at("rec").at("outputs").as_array()[0].at("shape").as_array();
  ASSERT_EQ(rec_out.size(), 3u);
  EXPECT_EQ(rec_out[2].as_int64(), 6625);
  EXPECT_EQ(d.at("det").at("inputs").as_array()[0].at("shape").as_array().size(), 4u);
  EXPECT_EQ(d.at("cls").at("outputs").as_array()[0].at("shape").as_array()[1].as_int64(), 2);
  EXPECT_EQ(d.at("det").at("file").as_string(), "det.onnx");
}

// Separate runtimes (not the shared one): settings that change behaviour, and load errors.
TEST(OcrRuntimeLoad, TooManyPixelsIsAClientError) {
  auto spec = ocr_spec({{"max_pixels", 10000}});
  auto rt = make_ocr_runtime(serving::LoadContext{spec, kDir, 1});
  InferRequest req;
  req.bytes = encode(testing::blank_page({200, 100}), ".png");  // 20000 pixels
  std::vector<InferRequest*> ptrs{&req};
  std::vector<InferResult> out(1);
  rt->execute(ptrs, out);
  ASSERT_FALSE(out[0]);
  EXPECT_EQ(out[0].error().cls, ErrorClass::Client);
  EXPECT_NE(out[0].error().message.find("too large"), std::string::npos) << out[0].error().message;
}

TEST(OcrRuntimeLoad, OversizedBytesAreRefusedByValidate) {
  auto spec = ocr_spec();
  spec.max_input_bytes = 100;
  auto rt = make_ocr_runtime(serving::LoadContext{spec, kDir, 1});
  InferRequest req;
  req.bytes = encode(render_with_margin("Serval", 20).image, ".png");
  auto e = rt->validate(req);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cls, ErrorClass::Client);
  EXPECT_NE(e->message.find("limit"), std::string::npos) << e->message;
}

TEST(OcrRuntimeLoad, MissingFilesAndBadParametersAreLoadErrors) {
  auto missing = ocr_spec({{"rec", "nope.onnx"}});
  EXPECT_THROW(make_ocr_runtime(serving::LoadContext{missing, kDir, 1}), std::runtime_error);
  auto bad = ocr_spec({{"drop_score", "high"}});
  EXPECT_THROW(make_ocr_runtime(serving::LoadContext{bad, kDir, 1}), std::runtime_error);
  auto wrong_keys = ocr_spec({{"keys", "det.onnx"}});  // not 6623 keys: the class count check fails
  EXPECT_THROW(make_ocr_runtime(serving::LoadContext{wrong_keys, kDir, 1}), std::runtime_error);
}

// The settings models/ocr/model.yaml ships (through the real model.yaml parser) load and read.
TEST(OcrRuntimeLoad, ShippedModelYamlReadsTheSameLines) {
  std::ifstream in(SERVAL_SOURCE_DIR "/models/ocr/model.yaml");
  ASSERT_TRUE(in);
  std::stringstream yaml;
  yaml << in.rdbuf();
  auto spec = serving::parse_model_spec(yaml.str(), "ocr");
  auto rt = make_ocr_runtime(serving::LoadContext{spec, kDir, 1});
  cv::Mat page = testing::blank_page({800, 260});
  testing::draw_line(page, "Serval reads 42 lines", {60, 50});
  testing::draw_line(page, "Bottom line 2", {60, 160});
  std::vector<InferRequest> reqs(2);
  reqs[0].bytes = encode(page, ".png");
  reqs[1].bytes = encode(render_centered("Hello OCR world", {640, 160}).image, ".jpg");
  std::vector<InferRequest*> ptrs{&reqs[0], &reqs[1]};
  std::vector<InferResult> out(2);
  rt->execute(ptrs, out);
  ASSERT_TRUE(out[0] && out[1]);
  std::vector<std::string> got;
  for (const auto& l : out[0].value().json.at("lines").as_array()) got.emplace_back(l.at("text").as_string());
  EXPECT_EQ(got, (std::vector<std::string>{"Serval reads 42 lines", "Bottom line 2"}));
  ASSERT_EQ(out[1].value().json.at("lines").as_array().size(), 1u);
  EXPECT_EQ(out[1].value().json.at("lines").as_array()[0].at("text").as_string(), "Hello OCR world");
}

}  // namespace
}  // namespace serval::runtimes::ocr
