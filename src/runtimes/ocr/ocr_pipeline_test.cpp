// OcrPipeline on the real models: recognition alone (the benchmark's entry point) and the whole
// pipeline. The DISABLED_ tests print timings (wall and this thread's CPU time: ONNX Runtime runs
// on the calling thread with intra_op_threads 1, so CPU time is the cost without other load).
#include "runtimes/ocr/ocr_pipeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "runtimes/ocr/ocr_test_images.hpp"

namespace serval::runtimes::ocr {
namespace {

const char* const kDir = SERVAL_SOURCE_DIR "/models/ocr/1";

class OcrPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pipeline_ = new OcrPipeline(kDir, {}); }
  static void TearDownTestSuite() {
    delete pipeline_;
    pipeline_ = nullptr;
  }
  static OcrPipeline* pipeline_;
};
OcrPipeline* OcrPipelineTest::pipeline_ = nullptr;

// A line image as a benchmark would have it: the text with a few pixels of white around it.
cv::Mat line_image(const std::string& text) {
  auto r = testing::render_with_margin(text, 20);
  return r.image(cv::Rect(r.text.x - 5, r.text.y - 5, r.text.width + 10, r.text.height + 10)).clone();
}

const std::vector<std::string>& sample_texts() {
  static const std::vector<std::string> t{
      "Serval reads 42 lines", "The quick brown fox", "Batch item 3 of 3", "Second line 2024",
      "Hello OCR world",       "First image",         "Second image here", "Third one 7",
      "Line one",              "Line two",            "Top line 1",        "Bottom line 2",
      "Model server",          "Tokens per second",   "Queue depth 16",    "Latency 12 ms"};
  return t;
}

struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = thread_cpu_seconds();
  static double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  double wall_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(); }
  double cpu_s() const { return thread_cpu_seconds() - cpu; }
};

TEST_F(OcrPipelineTest, RecognizeReadsLineImagesAtEveryBatchSize) {
  std::vector<cv::Mat> lines;
  for (std::size_t i = 0; i < 8; ++i) lines.push_back(line_image(sample_texts()[i]));
  for (int batch : {1, 3, 8}) {
    auto texts = pipeline_->recognize(lines, batch);
    ASSERT_EQ(texts.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(texts[i].text, sample_texts()[i]) << "batch " << batch;
      EXPECT_GT(texts[i].confidence, 0.8f) << sample_texts()[i];
    }
  }
}

TEST_F(OcrPipelineTest, RecognizeKeepsInputOrderAndHandlesEmpty) {
  // Very different aspect ratios, so the sort by ratio reorders them internally.
  std::vector<cv::Mat> lines{line_image("Tokens per second"), cv::Mat(), line_image("7"),
                             line_image("Serval reads 42 lines")};
  auto texts = pipeline_->recognize(lines);
  ASSERT_EQ(texts.size(), 4u);
  EXPECT_EQ(texts[0].text, "Tokens per second");
  EXPECT_EQ(texts[1].text, "");
  EXPECT_EQ(texts[1].confidence, 0.0f);
  EXPECT_EQ(texts[2].text, "7");
  EXPECT_EQ(texts[3].text, "Serval reads 42 lines");
  EXPECT_TRUE(pipeline_->recognize({}).empty());
}

TEST_F(OcrPipelineTest, OrientTurnsOnlyUpsideDownLines) {
  std::vector<cv::Mat> lines{line_image("Serval reads 42 lines"), line_image("Hello OCR world")};
  cv::rotate(lines[1], lines[1], cv::ROTATE_180);
  EXPECT_EQ(pipeline_->orient(lines), 1);
  auto texts = pipeline_->recognize(lines);
  EXPECT_EQ(texts[0].text, "Serval reads 42 lines");
  EXPECT_EQ(texts[1].text, "Hello OCR world");
}

// Timings for the report; slow-ish, so not part of the default run:
//   serval_tests --gtest_filter='OcrPipelineTest.DISABLED_*' --gtest_also_run_disabled_tests
TEST_F(OcrPipelineTest, DISABLED_RecognitionThroughputByBatchSize) {
  std::vector<cv::Mat> lines;
  for (int rep = 0; rep < 2; ++rep)
    for (const auto& t : sample_texts()) lines.push_back(line_image(t));
  pipeline_->recognize(lines, 16);  // warm-up: the arena grows to the largest shapes
  for (int batch : {1, 8, 16}) {
    Clock c;
    auto texts = pipeline_->recognize(lines, batch);
    double wall = c.wall_s(), cpu = c.cpu_s();
    for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(texts[i].text, sample_texts()[i % sample_texts().size()]);
    std::printf("[ timing ] recognize batch %2d: %zu lines in %.0f ms wall (%.1f lines/s), %.0f ms cpu (%.1f lines/s)\n",
                batch, lines.size(), wall * 1e3, static_cast<double>(lines.size()) / wall, cpu * 1e3,
                static_cast<double>(lines.size()) / cpu);
  }
}

TEST_F(OcrPipelineTest, DISABLED_DetectAndRecognizeAn800x200Image) {
  std::vector<cv::Mat> page{testing::render_centered("Serval reads 42 lines", {800, 200}).image};
  pipeline_->read(page);  // warm-up
  constexpr int kRuns = 10;
  Clock c;
  std::vector<std::vector<TextLine>> result;
  for (int i = 0; i < kRuns; ++i) result = pipeline_->read(page);
  double wall = c.wall_s(), cpu = c.cpu_s();
  ASSERT_EQ(result[0].size(), 1u);
  EXPECT_EQ(result[0][0].text, "Serval reads 42 lines");

  Clock d;
  for (int i = 0; i < kRuns; ++i) pipeline_->detect(page);
  double det_wall = d.wall_s(), det_cpu = d.cpu_s();
  std::printf("[ timing ] 800x200 detect+cls+recognize: %.1f ms/image wall, %.1f ms/image cpu "
              "(detection alone %.1f ms wall, %.1f ms cpu)\n",
              wall * 1e3 / kRuns, cpu * 1e3 / kRuns, det_wall * 1e3 / kRuns, det_cpu * 1e3 / kRuns);
}

}  // namespace
}  // namespace serval::runtimes::ocr
