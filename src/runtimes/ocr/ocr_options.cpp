#include "runtimes/ocr/ocr_options.hpp"

#include <stdexcept>

namespace serval::runtimes::ocr {

namespace {

const boost::json::value* find(const boost::json::object& p, const char* key) {
  auto it = p.find(key);
  return it == p.end() ? nullptr : &it->value();
}

std::string range_text(double lo, double hi) {
  auto fmt = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  return "[" + fmt(lo) + ", " + fmt(hi) + "]";
}

double number(const boost::json::object& p, const char* key, double fallback, double lo, double hi) {
  const auto* v = find(p, key);
  if (!v) return fallback;
  double x = 0;
  if (v->is_int64()) x = static_cast<double>(v->as_int64());
  else if (v->is_uint64()) x = static_cast<double>(v->as_uint64());
  else if (v->is_double()) x = v->as_double();
  else throw std::runtime_error(std::string("parameters.") + key + " must be a number in " + range_text(lo, hi));
  if (!(x >= lo && x <= hi))
    throw std::runtime_error(std::string("parameters.") + key + " must be a number in " + range_text(lo, hi));
  return x;
}

int integer(const boost::json::object& p, const char* key, int fallback, int lo, int hi) {
  const auto* v = find(p, key);
  if (!v) return fallback;
  if (!v->is_int64() || v->as_int64() < lo || v->as_int64() > hi)
    throw std::runtime_error(std::string("parameters.") + key + " must be an integer in " + range_text(lo, hi));
  return static_cast<int>(v->as_int64());
}

bool boolean(const boost::json::object& p, const char* key, bool fallback) {
  const auto* v = find(p, key);
  if (!v) return fallback;
  if (!v->is_bool()) throw std::runtime_error(std::string("parameters.") + key + " must be true or false");
  return v->as_bool();
}

std::string file_name(const boost::json::object& p, const char* key, std::string fallback) {
  const auto* v = find(p, key);
  if (!v) return fallback;
  if (!v->is_string() || v->as_string().empty())
    throw std::runtime_error(std::string("parameters.") + key + " must be a file name in the version folder");
  return std::string(v->as_string());
}

}  // namespace

OcrOptions parse_ocr_options(const boost::json::object& p) {
  OcrOptions o;
  o.det_file = file_name(p, "det", o.det_file);
  o.cls_file = file_name(p, "cls", o.cls_file);
  o.rec_file = file_name(p, "rec", o.rec_file);
  o.keys_file = file_name(p, "keys", o.keys_file);
  o.max_pixels = number(p, "max_pixels", o.max_pixels, 1, 1e10);
  o.det_limit_side_len = integer(p, "det_limit_side_len", o.det_limit_side_len, 32, 8192);
  o.det_db_thresh = static_cast<float>(number(p, "det_db_thresh", o.det_db_thresh, 0, 1));
  o.det_db_box_thresh = static_cast<float>(number(p, "det_db_box_thresh", o.det_db_box_thresh, 0, 1));
  o.det_db_unclip_ratio = static_cast<float>(number(p, "det_db_unclip_ratio", o.det_db_unclip_ratio, 0, 10));
  o.det_max_candidates = integer(p, "det_max_candidates", o.det_max_candidates, 1, 100000);
  o.det_batch_size = integer(p, "det_batch_size", o.det_batch_size, 1, 64);
  o.use_angle_cls = boolean(p, "use_angle_cls", o.use_angle_cls);
  o.cls_thresh = static_cast<float>(number(p, "cls_thresh", o.cls_thresh, 0, 1));
  o.cls_batch_size = integer(p, "cls_batch_size", o.cls_batch_size, 1, 1024);
  o.rec_batch_size = integer(p, "rec_batch_size", o.rec_batch_size, 1, 1024);
  o.rec_image_width = integer(p, "rec_image_width", o.rec_image_width, 8, 16384);
  o.rec_max_width = integer(p, "rec_max_width", o.rec_max_width, 8, 16384);
  if (o.rec_max_width < o.rec_image_width)
    throw std::runtime_error("parameters.rec_max_width must be >= parameters.rec_image_width");
  o.drop_score = static_cast<float>(number(p, "drop_score", o.drop_score, 0, 1));
  return o;
}

}  // namespace serval::runtimes::ocr
