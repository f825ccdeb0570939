// OcrPipeline: PaddleOCR's PP-OCR system on ONNX Runtime — DB text detection (det.onnx), the 0/180
// degree direction classifier (cls.onnx) and CTC line recognition (rec.onnx, keys.txt) — with every
// step usable on its own. Images are 8-bit BGR cv::Mats (see image_decode.hpp).
//
// Steps batch across images: detect() runs images whose resized sizes are equal together, and
// orient()/recognize() take the lines of many images at once (recognize() sorts them by aspect
// ratio and pads each batch to its widest line). Not thread-safe: one pipeline per thread.
//
//   OcrPipeline ocr("models/ocr/1", spec.parameters);              // throws std::runtime_error
//   auto pages = ocr.read(images);                                  // lines per image, reading order
//   for (const TextLine& l : pages[0]) std::cout << l.text << " " << l.confidence << "\n";
//
//   // Recognition alone on line images that are already cut out (the "recognition served vs raw"
//   // benchmark calls this in a loop), here in batches of 16:
//   std::vector<DecodedText> texts = ocr.recognize(lines, 16);
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <opencv2/core.hpp>

#include "runtimes/ocr/ctc_decoder.hpp"
#include "runtimes/ocr/db_detection.hpp"
#include "runtimes/ocr/ocr_options.hpp"
#include "runtimes/ocr/ort_model.hpp"

namespace serval::runtimes::ocr {

struct TextLine {
  std::string text;
  float confidence = 0;
  Quad box;  // in the image's pixels, TL TR BR BL
};

class OcrPipeline {
 public:
  // Opens det/cls/rec and reads keys from `version_dir` (file names and settings from `parameters`,
  // see ocr_options.hpp). Throws std::runtime_error when a file is missing or does not fit.
  OcrPipeline(const std::filesystem::path& version_dir, const boost::json::object& parameters);

  const OcrOptions& options() const noexcept { return options_; }
  const CtcCharset& charset() const noexcept { return charset_; }

  // Text boxes of each image, in reading order. Throws Ort::Exception / cv::Exception on failure.
  std::vector<std::vector<Quad>> detect(std::span<const cv::Mat> images);

  // The boxes cut out of `image` as straight strips (crop_line()).
  static std::vector<cv::Mat> crop_lines(const cv::Mat& image, std::span<const Quad> boxes);

  // Runs the direction classifier and turns by 180 degrees, in place, the lines it reads upside
  // down with a score above cls_thresh. Returns how many were turned.
  int orient(std::span<cv::Mat> lines);

  // Recognises each line image (a strip holding one line of text), in batches of `batch_size`
  // (0 = parameters.rec_batch_size). Results are in the order of `lines`. An empty Mat gives "".
  std::vector<DecodedText> recognize(std::span<const cv::Mat> lines, int batch_size = 0);

  // The whole pipeline: detect, crop, orient (if use_angle_cls), recognise all images' lines
  // together, drop lines below drop_score.
  std::vector<std::vector<TextLine>> read(std::span<const cv::Mat> images);

  // The three models' files and input/output shapes, the number of keys, the settings.
  boost::json::object describe() const;

 private:
  OcrOptions options_;
  OrtModel det_, cls_, rec_;
  CtcCharset charset_;
  int rec_height_ = 48;
};

}  // namespace serval::runtimes::ocr
