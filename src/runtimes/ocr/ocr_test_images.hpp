// Test images for the OCR tests: lines of text rendered with OpenCV's Hershey fonts, black on white.
// FONT_HERSHEY_DUPLEX at scale 1.5, thickness 2 (capitals ~33 px, ascender to descender ~45 px) is the
// rendering the PP-OCRv4 models read exactly; bigger Hershey text has word gaps wide enough that DB
// detection splits the words into separate boxes.
//
//   RenderedLine r = render_centered("Serval reads 42 lines", {800, 200});
//   std::string png = encode(r.image, ".png");
#pragma once

#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace serval::runtimes::ocr::testing {

inline constexpr int kFont = cv::FONT_HERSHEY_DUPLEX;
inline constexpr double kScale = 1.5;
inline constexpr int kThickness = 2;

struct RenderedLine {
  cv::Mat image;
  cv::Rect text;  // where the ink is: from the top of the tallest glyph to the bottom of descenders
};

// Draws `text` with its top-left ink corner at `at` on `image`; returns the ink rectangle.
inline cv::Rect draw_line(cv::Mat& image, const std::string& text, cv::Point at) {
  int baseline = 0;
  cv::Size sz = cv::getTextSize(text, kFont, kScale, kThickness, &baseline);
  cv::putText(image, text, cv::Point(at.x, at.y + sz.height), kFont, kScale, cv::Scalar(0, 0, 0), kThickness,
              cv::LINE_AA);
  return {at.x, at.y, sz.width, sz.height + baseline};
}

inline cv::Mat blank_page(cv::Size size) { return cv::Mat(size, CV_8UC3, cv::Scalar(255, 255, 255)); }

// One line centred on a white page of `size`.
inline RenderedLine render_centered(const std::string& text, cv::Size size) {
  int baseline = 0;
  cv::Size sz = cv::getTextSize(text, kFont, kScale, kThickness, &baseline);
  RenderedLine r{blank_page(size), {}};
  r.text = draw_line(r.image, text, {(size.width - sz.width) / 2, (size.height - sz.height - baseline) / 2});
  return r;
}

// One line with `margin` pixels of white around it.
inline RenderedLine render_with_margin(const std::string& text, int margin) {
  int baseline = 0;
  cv::Size sz = cv::getTextSize(text, kFont, kScale, kThickness, &baseline);
  RenderedLine r{blank_page({sz.width + 2 * margin, sz.height + baseline + 2 * margin}), {}};
  r.text = draw_line(r.image, text, {margin, margin});
  return r;
}

inline std::string encode(const cv::Mat& image, const std::string& ext) {
  std::vector<unsigned char> buf;
  cv::imencode(ext, image, buf);
  return {buf.begin(), buf.end()};
}

}  // namespace serval::runtimes::ocr::testing
