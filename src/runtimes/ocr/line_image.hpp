// Line images: a detected box cut out of the page as a straight, upright strip, and a strip turned
// into the normalised planes the classifier and the recogniser read (PaddleOCR's
// get_rotate_crop_image and resize_norm_img).
//
//   cv::Mat line = crop_line(page, quad);                 // perspective-warped, tall boxes turned 90°
//   std::vector<float> planes(3 * 48 * 320);
//   normalize_line_into(line, 48, 320, planes.data());   // (x/255 - 0.5) / 0.5, zero-padded on the right
#pragma once

#include <opencv2/core.hpp>

#include "runtimes/ocr/db_detection.hpp"

namespace serval::runtimes::ocr {

// The box warped to a width x height rectangle (width = longer of top/bottom edges, height = longer
// of left/right edges, replicated borders, cubic interpolation), turned 90° counter-clockwise when
// height >= 1.5 * width (vertical text). Never empty: at least 1x1.
cv::Mat crop_line(const cv::Mat& image, const Quad& box);

// Width the line gets at height `height` keeping its aspect ratio: ceil(height * w / h).
int line_width_at_height(const cv::Mat& line, int height);

// Writes 3 x height x width floats at `dst`: the line resized to `height` keeping its aspect ratio
// (squeezed to `width` if wider), scaled to [-1, 1], and zeros to the right.
void normalize_line_into(const cv::Mat& line, int height, int width, float* dst);

}  // namespace serval::runtimes::ocr
