#include "runtimes/ocr/ocr_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "runtimes/ocr/line_image.hpp"

namespace serval::runtimes::ocr {

namespace {

constexpr int kClsHeight = 48, kClsWidth = 192;  // ch_ppocr_mobile_v2.0_cls: 3 x 48 x 192

std::runtime_error bad_output(const char* role, const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return std::runtime_error(std::string("ocr: unexpected ") + role + " output shape " + s + "]");
}

}  // namespace

OcrPipeline::OcrPipeline(const std::filesystem::path& dir, const boost::json::object& parameters)
    : options_(parse_ocr_options(parameters)),
      det_(dir / options_.det_file, "det", parameters),
      cls_(dir / options_.cls_file, "cls", parameters),
      rec_(dir / options_.rec_file, "rec", parameters),
      charset_(CtcCharset::load(dir / options_.keys_file)) {
  const auto& rin = rec_.input_shape();
  if (rin[2] > 0) rec_height_ = static_cast<int>(rin[2]);
  const auto& rout = rec_.output_shape();
  if (rout.size() != 3) throw bad_output("rec", rout);
  if (rout[2] > 0 && rout[2] != charset_.classes())
    throw std::runtime_error("ocr: the recogniser " + options_.rec_file + " gives " + std::to_string(rout[2]) +
                             " classes but " + options_.keys_file + " has " + std::to_string(charset_.keys()) +
                             " keys (+ blank + space = " + std::to_string(charset_.classes()) + ")");
  if (det_.output_shape().size() != 4) throw bad_output("det", det_.output_shape());
  if (cls_.output_shape().size() != 2) throw bad_output("cls", cls_.output_shape());
}

std::vector<std::vector<Quad>> OcrPipeline::detect(std::span<const cv::Mat> images) {
  std::vector<std::vector<Quad>> boxes(images.size());
  std::vector<DetInput> inputs(images.size());
  // Images whose resized sizes are equal go through the network together.
  std::map<std::pair<int, int>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < images.size(); ++i) {
    inputs[i] = prepare_det_input(images[i], options_.det_limit_side_len);
    groups[{inputs[i].size.height, inputs[i].size.width}].push_back(i);
  }
  const DbParams db{options_.det_db_thresh, options_.det_db_box_thresh, options_.det_db_unclip_ratio,
                    options_.det_max_candidates};
  std::vector<float> blob;
  for (const auto& [hw, members] : groups) {
    const auto [h, w] = hw;
    const std::size_t per_image = static_cast<std::size_t>(3) * h * w;
    for (std::size_t begin = 0; begin < members.size(); begin += static_cast<std::size_t>(options_.det_batch_size)) {
      const std::size_t n = std::min(members.size() - begin, static_cast<std::size_t>(options_.det_batch_size));
      std::span<const float> input;
      if (n == 1) {
        input = inputs[members[begin]].chw;
      } else {
        blob.resize(n * per_image);
        for (std::size_t k = 0; k < n; ++k)
          std::copy(inputs[members[begin + k]].chw.begin(), inputs[members[begin + k]].chw.end(),
                    blob.begin() + static_cast<std::ptrdiff_t>(k * per_image));
        input = blob;
      }
      Ort::Value y = det_.run(input, {static_cast<std::int64_t>(n), 3, h, w});
      auto shape = y.GetTensorTypeAndShapeInfo().GetShape();
      if (shape.size() != 4 || shape[0] != static_cast<std::int64_t>(n) || shape[1] != 1) throw bad_output("det", shape);
      const int oh = static_cast<int>(shape[2]), ow = static_cast<int>(shape[3]);
      const float* p = y.GetTensorData<float>();
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t idx = members[begin + k];
        cv::Mat prob(oh, ow, CV_32FC1, const_cast<float*>(p + k * static_cast<std::size_t>(oh) * ow));
        boxes[idx] = db_boxes(prob, db, images[idx].size());
        inputs[idx] = DetInput{};  // free as we go
      }
    }
  }
  return boxes;
}

std::vector<cv::Mat> OcrPipeline::crop_lines(const cv::Mat& image, std::span<const Quad> boxes) {
  std::vector<cv::Mat> lines;
  lines.reserve(boxes.size());
  for (const auto& b : boxes) lines.push_back(crop_line(image, b));
  return lines;
}

int OcrPipeline::orient(std::span<cv::Mat> lines) {
  int turned = 0;
  const std::size_t per_line = static_cast<std::size_t>(3) * kClsHeight * kClsWidth;
  const std::size_t batch = static_cast<std::size_t>(options_.cls_batch_size);
  std::vector<float> blob;
  for (std::size_t begin = 0; begin < lines.size(); begin += batch) {
    const std::size_t n = std::min(lines.size() - begin, batch);
    blob.assign(n * per_line, 0.0f);
    for (std::size_t k = 0; k < n; ++k)
      if (!lines[begin + k].empty())
        normalize_line_into(lines[begin + k], kClsHeight, kClsWidth, blob.data() + k * per_line);
    Ort::Value y = cls_.run(blob, {static_cast<std::int64_t>(n), 3, kClsHeight, kClsWidth});
    auto shape = y.GetTensorTypeAndShapeInfo().GetShape();
    if (shape.size() != 2 || shape[0] != static_cast<std::int64_t>(n) || shape[1] != 2) throw bad_output("cls", shape);
    const float* p = y.GetTensorData<float>();
    for (std::size_t k = 0; k < n; ++k) {
      const float p0 = p[2 * k], p180 = p[2 * k + 1];
      if (p180 > p0 && p180 > options_.cls_thresh && !lines[begin + k].empty()) {
        cv::Mat upright;  // a new buffer: the caller's Mat may share its pixels with others
        cv::rotate(lines[begin + k], upright, cv::ROTATE_180);
        lines[begin + k] = upright;
        ++turned;
      }
    }
  }
  return turned;
}

std::vector<DecodedText> OcrPipeline::recognize(std::span<const cv::Mat> lines, int batch_size) {
  std::vector<DecodedText> out(lines.size());
  const std::size_t batch = static_cast<std::size_t>(batch_size > 0 ? batch_size : options_.rec_batch_size);
  // PaddleOCR sorts by aspect ratio so each batch pads little.
  std::vector<std::size_t> order;
  order.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (!lines[i].empty()) order.push_back(i);
  auto ratio = [&](std::size_t i) { return static_cast<double>(lines[i].cols) / lines[i].rows; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ratio(a) < ratio(b); });

  const int h = rec_height_;
  std::vector<float> blob;
  for (std::size_t begin = 0; begin < order.size(); begin += batch) {
    const std::size_t n = std::min(order.size() - begin, batch);
    double max_ratio = static_cast<double>(options_.rec_image_width) / h;
    for (std::size_t k = 0; k < n; ++k) max_ratio = std::max(max_ratio, ratio(order[begin + k]));
    const int w = std::min(options_.rec_max_width, static_cast<int>(h * max_ratio));
    const std::size_t per_line = static_cast<std::size_t>(3) * h * w;
    blob.resize(n * per_line);
    for (std::size_t k = 0; k < n; ++k) normalize_line_into(lines[order[begin + k]], h, w, blob.data() + k * per_line);
    Ort::Value y = rec_.run(blob, {static_cast<std::int64_t>(n), 3, h, w});
    auto shape = y.GetTensorTypeAndShapeInfo().GetShape();
    if (shape.size() != 3 || shape[0] != static_cast<std::int64_t>(n)) throw bad_output("rec", shape);
    const int steps = static_cast<int>(shape[1]), classes = static_cast<int>(shape[2]);
    const float* p = y.GetTensorData<float>();
    for (std::size_t k = 0; k < n; ++k)
      out[order[begin + k]] = ctc_greedy_decode(p + k * static_cast<std::size_t>(steps) * classes, steps, classes, charset_);
  }
  return out;
}

std::vector<std::vector<TextLine>> OcrPipeline::read(std::span<const cv::Mat> images) {
  auto boxes = detect(images);
  std::vector<cv::Mat> lines;
  std::vector<std::pair<std::size_t, std::size_t>> owner;  // (image, box)
  for (std::size_t i = 0; i < images.size(); ++i) {
    auto crops = crop_lines(images[i], boxes[i]);
    for (std::size_t b = 0; b < crops.size(); ++b) {
      lines.push_back(std::move(crops[b]));
      owner.emplace_back(i, b);
    }
  }
  if (options_.use_angle_cls) orient(lines);
  auto texts = recognize(lines);
  std::vector<std::vector<TextLine>> pages(images.size());
  for (std::size_t j = 0; j < texts.size(); ++j) {
    if (texts[j].confidence < options_.drop_score) continue;
    auto [i, b] = owner[j];
    pages[i].push_back(TextLine{std::move(texts[j].text), texts[j].confidence, boxes[i][b]});
  }
  return pages;
}

boost::json::object OcrPipeline::describe() const {
  const auto& o = options_;
  return {
      {"det", det_.describe()},
      {"cls", cls_.describe()},
      {"rec", rec_.describe()},
      {"keys", charset_.keys()},
      {"classes", charset_.classes()},
      {"settings",
       {{"max_pixels", o.max_pixels},
        {"det_limit_side_len", o.det_limit_side_len},
        {"det_db_thresh", o.det_db_thresh},
        {"det_db_box_thresh", o.det_db_box_thresh},
        {"det_db_unclip_ratio", o.det_db_unclip_ratio},
        {"det_batch_size", o.det_batch_size},
        {"use_angle_cls", o.use_angle_cls},
        {"cls_thresh", o.cls_thresh},
        {"cls_batch_size", o.cls_batch_size},
        {"rec_batch_size", o.rec_batch_size},
        {"rec_image_width", o.rec_image_width},
        {"rec_max_width", o.rec_max_width},
        {"drop_score", o.drop_score}}},
  };
}

}  // namespace serval::runtimes::ocr
