// DB text detection, the geometry around the network (PaddleOCR's DetResizeForTest + NormalizeImage
// before, DBPostProcess + filter/sort after). The network itself (det.onnx) maps a 3xHxW image to a
// 1xHxW text probability map; these functions turn an image into its input and the map into boxes.
//
//   DetInput in = prepare_det_input(bgr, 960);          // in.chw: 3 x in.size.height x in.size.width
//   ... run det.onnx on in.chw -> float prob[in.size.height * in.size.width] ...
//   cv::Mat map(in.size, CV_32F, prob);
//   std::vector<Quad> boxes = db_boxes(map, DbParams{}, bgr.size());   // reading order, image coords
#pragma once

#include <array>
#include <vector>

#include <opencv2/core.hpp>

namespace serval::runtimes::ocr {

// A text box: top-left, top-right, bottom-right, bottom-left, in image pixels.
struct Quad {
  std::array<cv::Point2f, 4> pts;
  float score = 0;  // mean text probability inside the box
};

struct DetInput {
  std::vector<float> chw;  // normalised planes, 3 x size.height x size.width
  cv::Size size;           // resized size, both sides multiples of 32
};

// Resizes so the longer side is at most limit_side_len (never enlarges) and both sides are multiples
// of 32 (rounded, at least 32), then normalises as PaddleOCR does: (x/255 - mean) / std per channel
// with mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) applied to the B, G, R planes in order.
DetInput prepare_det_input(const cv::Mat& bgr, int limit_side_len);

struct DbParams {
  float thresh = 0.3f;        // probability -> mask
  float box_thresh = 0.6f;    // mean probability inside a candidate box
  float unclip_ratio = 1.5f;  // each side moves out by area * ratio / perimeter
  int max_candidates = 1000;
};

// Boxes from a probability map (CV_32F, the resized size), scaled to `image` size, boxes narrower or
// shorter than 4 pixels dropped, sorted top-to-bottom then left-to-right.
std::vector<Quad> db_boxes(const cv::Mat& prob, const DbParams& params, cv::Size image);

// PaddleOCR's reading order: by top-left y then x, and boxes whose top-left y differ by < 10 px are
// ordered left to right.
void sort_boxes(std::vector<Quad>& boxes);

}  // namespace serval::runtimes::ocr
