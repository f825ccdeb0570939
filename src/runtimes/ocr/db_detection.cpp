#include "runtimes/ocr/db_detection.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace serval::runtimes::ocr {

namespace {

constexpr float kMinSide = 3;  // PaddleOCR's DBPostProcess.min_size

// PaddleOCR's get_mini_boxes: the four corners of the rectangle in TL, TR, BR, BL order.
std::array<cv::Point2f, 4> ordered_corners(const cv::RotatedRect& r) {
  std::array<cv::Point2f, 4> p;
  r.points(p.data());
  std::stable_sort(p.begin(), p.end(), [](const cv::Point2f& a, const cv::Point2f& b) { return a.x < b.x; });
  cv::Point2f tl = p[0], bl = p[1];
  if (p[1].y <= p[0].y) std::swap(tl, bl);
  cv::Point2f tr = p[2], br = p[3];
  if (p[3].y <= p[2].y) std::swap(tr, br);
  return {tl, tr, br, bl};
}

// PaddleOCR's box_score_fast: mean probability inside the quadrilateral.
float box_score(const cv::Mat& prob, const std::array<cv::Point2f, 4>& box) {
  float fx0 = box[0].x, fx1 = box[0].x, fy0 = box[0].y, fy1 = box[0].y;
  for (const auto& p : box) {
    fx0 = std::min(fx0, p.x); fx1 = std::max(fx1, p.x);
    fy0 = std::min(fy0, p.y); fy1 = std::max(fy1, p.y);
  }
  int xmin = std::clamp(static_cast<int>(std::floor(fx0)), 0, prob.cols - 1);
  int xmax = std::clamp(static_cast<int>(std::ceil(fx1)), 0, prob.cols - 1);
  int ymin = std::clamp(static_cast<int>(std::floor(fy0)), 0, prob.rows - 1);
  int ymax = std::clamp(static_cast<int>(std::ceil(fy1)), 0, prob.rows - 1);
  cv::Mat mask = cv::Mat::zeros(ymax - ymin + 1, xmax - xmin + 1, CV_8UC1);
  std::array<cv::Point, 4> poly;
  for (int i = 0; i < 4; ++i)
    poly[i] = cv::Point(static_cast<int>(box[i].x - static_cast<float>(xmin)),
                        static_cast<int>(box[i].y - static_cast<float>(ymin)));
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{{poly.begin(), poly.end()}}, cv::Scalar(1));
  return static_cast<float>(cv::mean(prob(cv::Rect(xmin, ymin, xmax - xmin + 1, ymax - ymin + 1)), mask)[0]);
}

// PaddleOCR's order_points_clockwise: TL has the smallest x+y, BR the largest; of the other two, TR
// has the smaller y-x.
std::array<cv::Point2f, 4> clockwise(const std::array<cv::Point2f, 4>& p) {
  int tl = 0, br = 0;
  for (int i = 1; i < 4; ++i) {
    if (p[i].x + p[i].y < p[tl].x + p[tl].y) tl = i;
    if (p[i].x + p[i].y > p[br].x + p[br].y) br = i;
  }
  if (tl == br) return p;
  int rest[2], n = 0;
  for (int i = 0; i < 4; ++i)
    if (i != tl && i != br) rest[n++] = i;
  int tr = rest[0], bl = rest[1];
  if (p[bl].y - p[bl].x < p[tr].y - p[tr].x) std::swap(tr, bl);
  return {p[tl], p[tr], p[br], p[bl]};
}

}  // namespace

DetInput prepare_det_input(const cv::Mat& bgr, int limit_side_len) {
  const int h = bgr.rows, w = bgr.cols;
  double ratio = 1.0;
  if (std::max(h, w) > limit_side_len) ratio = static_cast<double>(limit_side_len) / std::max(h, w);
  int rh = static_cast<int>(h * ratio), rw = static_cast<int>(w * ratio);
  rh = std::max(static_cast<int>(std::lround(rh / 32.0)) * 32, 32);
  rw = std::max(static_cast<int>(std::lround(rw / 32.0)) * 32, 32);

  cv::Mat resized;
  if (rh == h && rw == w) resized = bgr;
  else cv::resize(bgr, resized, cv::Size(rw, rh));

  DetInput in;
  in.size = cv::Size(rw, rh);
  in.chw.resize(static_cast<std::size_t>(3) * rh * rw);
  static constexpr float mean[3] = {0.485f, 0.456f, 0.406f};
  static constexpr float stdev[3] = {0.229f, 0.224f, 0.225f};
  float scale[3], shift[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / (255.0f * stdev[c]);
    shift[c] = -mean[c] / stdev[c];
  }
  const std::size_t plane = static_cast<std::size_t>(rh) * rw;
  for (int y = 0; y < rh; ++y) {
    const auto* row = resized.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rw; ++x) {
      std::size_t at = static_cast<std::size_t>(y) * rw + x;
      for (int c = 0; c < 3; ++c) in.chw[c * plane + at] = row[x][c] * scale[c] + shift[c];
    }
  }
  return in;
}

std::vector<Quad> db_boxes(const cv::Mat& prob, const DbParams& params, cv::Size image) {
  CV_Assert(prob.type() == CV_32FC1);
  cv::Mat mask;
  cv::compare(prob, params.thresh, mask, cv::CMP_GT);  // 255 where text
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);

  const float sx = static_cast<float>(image.width) / static_cast<float>(prob.cols);
  const float sy = static_cast<float>(image.height) / static_cast<float>(prob.rows);
  std::vector<Quad> boxes;
  const std::size_t n = std::min(contours.size(), static_cast<std::size_t>(params.max_candidates));
  for (std::size_t i = 0; i < n; ++i) {
    cv::RotatedRect rect = cv::minAreaRect(contours[i]);
    if (std::min(rect.size.width, rect.size.height) < kMinSide) continue;
    float score = box_score(prob, ordered_corners(rect));
    if (score < params.box_thresh) continue;

    // Unclip: PaddleOCR offsets the polygon outwards by area * ratio / perimeter (pyclipper, round
    // joins) and takes the min-area rectangle of the result — for a rectangle, that is the same
    // rectangle grown by that distance on every side.
    float w = rect.size.width, h = rect.size.height;
    float d = w * h * params.unclip_ratio / (2.0f * (w + h));
    cv::RotatedRect grown(rect.center, cv::Size2f(w + 2 * d, h + 2 * d), rect.angle);
    if (std::min(grown.size.width, grown.size.height) < kMinSide + 2) continue;

    Quad q;
    q.score = score;
    auto corners = ordered_corners(grown);
    for (auto& p : corners) {
      p.x = std::clamp(std::round(p.x * sx), 0.0f, static_cast<float>(image.width));
      p.y = std::clamp(std::round(p.y * sy), 0.0f, static_cast<float>(image.height));
    }
    // PaddleOCR's filter_tag_det_res: clockwise order, clip inside the image, drop tiny boxes.
    q.pts = clockwise(corners);
    for (auto& p : q.pts) {
      p.x = std::clamp(p.x, 0.0f, static_cast<float>(image.width - 1));
      p.y = std::clamp(p.y, 0.0f, static_cast<float>(image.height - 1));
    }
    int bw = static_cast<int>(cv::norm(q.pts[0] - q.pts[1]));
    int bh = static_cast<int>(cv::norm(q.pts[0] - q.pts[3]));
    if (bw <= 3 || bh <= 3) continue;
    boxes.push_back(q);
  }
  sort_boxes(boxes);
  return boxes;
}

void sort_boxes(std::vector<Quad>& boxes) {
  std::stable_sort(boxes.begin(), boxes.end(), [](const Quad& a, const Quad& b) {
    if (a.pts[0].y != b.pts[0].y) return a.pts[0].y < b.pts[0].y;
    return a.pts[0].x < b.pts[0].x;
  });
  for (std::size_t i = 0; i + 1 < boxes.size(); ++i) {
    for (std::size_t j = i + 1; j-- > 0;) {
      if (std::abs(boxes[j + 1].pts[0].y - boxes[j].pts[0].y) < 10 && boxes[j + 1].pts[0].x < boxes[j].pts[0].x)
        std::swap(boxes[j], boxes[j + 1]);
      else
        break;
    }
  }
}

}  // namespace serval::runtimes::ocr
