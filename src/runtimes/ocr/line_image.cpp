#include "runtimes/ocr/line_image.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/imgproc.hpp>

namespace serval::runtimes::ocr {

cv::Mat crop_line(const cv::Mat& image, const Quad& box) {
  const auto& p = box.pts;
  int w = static_cast<int>(std::max(cv::norm(p[0] - p[1]), cv::norm(p[2] - p[3])));
  int h = static_cast<int>(std::max(cv::norm(p[0] - p[3]), cv::norm(p[1] - p[2])));
  w = std::max(w, 1);
  h = std::max(h, 1);
  const cv::Point2f dst[4] = {{0, 0}, {static_cast<float>(w), 0}, {static_cast<float>(w), static_cast<float>(h)},
                              {0, static_cast<float>(h)}};
  cv::Mat m = cv::getPerspectiveTransform(p.data(), dst);
  cv::Mat out;
  cv::warpPerspective(image, out, m, cv::Size(w, h), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  if (static_cast<double>(out.rows) / out.cols >= 1.5) cv::rotate(out, out, cv::ROTATE_90_COUNTERCLOCKWISE);
  return out;
}

int line_width_at_height(const cv::Mat& line, int height) {
  return std::max(1, static_cast<int>(std::ceil(static_cast<double>(height) * line.cols / line.rows)));
}

void normalize_line_into(const cv::Mat& line, int height, int width, float* dst) {
  const int rw = std::min(width, line_width_at_height(line, height));
  cv::Mat resized;
  cv::resize(line, resized, cv::Size(rw, height));
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  std::memset(dst, 0, 3 * plane * sizeof(float));
  for (int y = 0; y < height; ++y) {
    const auto* row = resized.ptr<cv::Vec3b>(y);
    float* out = dst + static_cast<std::size_t>(y) * width;
    for (int x = 0; x < rw; ++x)
      for (int c = 0; c < 3; ++c) out[c * plane + x] = row[x][c] * (2.0f / 255.0f) - 1.0f;
  }
}

}  // namespace serval::runtimes::ocr
