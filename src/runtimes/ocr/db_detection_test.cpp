#include "runtimes/ocr/db_detection.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace serval::runtimes::ocr {
namespace {

TEST(DbDetection, ResizesToMultiplesOf32WithinTheLimit) {
  cv::Mat big(500, 1000, CV_8UC3, cv::Scalar(255, 255, 255));
  auto in = prepare_det_input(big, 960);
  EXPECT_EQ(in.size, cv::Size(960, 480));
  ASSERT_EQ(in.chw.size(), 3u * 960 * 480);
  // White: (1 - mean) / std per plane.
  EXPECT_NEAR(in.chw[0], (1 - 0.485f) / 0.229f, 1e-4);
  EXPECT_NEAR(in.chw[960 * 480], (1 - 0.456f) / 0.224f, 1e-4);
  EXPECT_NEAR(in.chw[2 * 960 * 480], (1 - 0.406f) / 0.225f, 1e-4);

  cv::Mat small(50, 100, CV_8UC3, cv::Scalar(0, 0, 0));
  EXPECT_EQ(prepare_det_input(small, 960).size, cv::Size(96, 64));  // never enlarged beyond rounding
  cv::Mat tiny(5, 5, CV_8UC3);
  EXPECT_EQ(prepare_det_input(tiny, 960).size, cv::Size(32, 32));
}

TEST(DbDetection, OneTextRegionBecomesOneGrownBox) {
  cv::Mat prob = cv::Mat::zeros(64, 256, CV_32FC1);
  prob(cv::Rect(40, 20, 160, 20)).setTo(0.9f);
  auto boxes = db_boxes(prob, DbParams{}, {512, 128});  // image twice the map's size
  ASSERT_EQ(boxes.size(), 1u);
  const auto& q = boxes[0];
  EXPECT_NEAR(q.score, 0.9f, 0.05f);
  // The 159 x 19 px rectangle (pixel centres) grows by 159*19*1.5/(2*178) = 12.7 px per side, then x2.
  EXPECT_NEAR(q.pts[0].x, 55, 3);
  EXPECT_NEAR(q.pts[0].y, 15, 3);
  EXPECT_NEAR(q.pts[2].x, 424, 3);
  EXPECT_NEAR(q.pts[2].y, 104, 3);
  EXPECT_NEAR(q.pts[1].x, q.pts[2].x, 1);  // TR above BR
  EXPECT_NEAR(q.pts[3].x, q.pts[0].x, 1);  // BL below TL
}

TEST(DbDetection, WeakAndTinyRegionsAreDropped) {
  cv::Mat prob = cv::Mat::zeros(64, 256, CV_32FC1);
  prob(cv::Rect(10, 10, 100, 20)).setTo(0.5f);  // above det_db_thresh, below box_thresh
  prob(cv::Rect(200, 40, 2, 2)).setTo(0.99f);   // too small
  EXPECT_TRUE(db_boxes(prob, DbParams{}, {256, 64}).empty());
}

TEST(DbDetection, SortsTopToBottomThenLeftToRight) {
  auto quad = [](float x, float y) {
    return Quad{{cv::Point2f(x, y), cv::Point2f(x + 50, y), cv::Point2f(x + 50, y + 20), cv::Point2f(x, y + 20)}, 1};
  };
  std::vector<Quad> boxes{quad(10, 100), quad(300, 10), quad(50, 15)};
  sort_boxes(boxes);
  // (50,15) and (300,10) are on one line (y within 10 px): left first.
  EXPECT_EQ(boxes[0].pts[0], cv::Point2f(50, 15));
  EXPECT_EQ(boxes[1].pts[0], cv::Point2f(300, 10));
  EXPECT_EQ(boxes[2].pts[0], cv::Point2f(10, 100));
}

}  // namespace
}  // namespace serval::runtimes::ocr
