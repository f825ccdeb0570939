// OcrOptions: the OCR pipeline's settings, read from model.yaml `parameters` (PaddleOCR's names and
// defaults). Every field is optional; a wrong type or an out-of-range value is a load error.
//
//   # models/ocr/model.yaml
//   parameters: {det_limit_side_len: 960, det_db_box_thresh: 0.6, use_angle_cls: true, drop_score: 0.5}
//
//   auto opts = serval::runtimes::ocr::parse_ocr_options(spec.parameters);   // throws std::runtime_error
#pragma once

#include <string>

#include <boost/json/object.hpp>

namespace serval::runtimes::ocr {

struct OcrOptions {
  // Files in the version folder.
  std::string det_file = "det.onnx";     // parameters.det
  std::string cls_file = "cls.onnx";     // parameters.cls
  std::string rec_file = "rec.onnx";     // parameters.rec
  std::string keys_file = "keys.txt";    // parameters.keys
  // Input images: more pixels than this (read from the PNG/JPEG header) is a client error.
  double max_pixels = 40e6;
  // Detection (DB): longer side resized down to at most this, both sides multiples of 32.
  int det_limit_side_len = 960;
  float det_db_thresh = 0.3f;            // probability map -> text mask
  float det_db_box_thresh = 0.6f;        // mean probability inside a box to keep it
  float det_db_unclip_ratio = 1.5f;      // how far a box is grown (area * ratio / perimeter per side)
  int det_max_candidates = 1000;         // contours looked at per image
  int det_batch_size = 4;                // images of equal resized size detected together
  // Direction classifier (0 / 180 degrees).
  bool use_angle_cls = true;
  float cls_thresh = 0.9f;
  int cls_batch_size = 6;
  // Recognition (CTC): line images resized to height 48, padded to at least rec_image_width.
  int rec_batch_size = 8;
  int rec_image_width = 320;
  int rec_max_width = 3200;
  // Lines whose confidence is below this are left out of the result.
  float drop_score = 0.5f;
};

// Throws std::runtime_error naming the parameter ("parameters.drop_score must be a number in [0, 1]").
OcrOptions parse_ocr_options(const boost::json::object& parameters);

}  // namespace serval::runtimes::ocr
