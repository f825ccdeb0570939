#include "runtimes/onnx/ort_env.hpp"

#include <stdexcept>
#include <string>

namespace serval::runtimes::onnx {

namespace {
int int_param(const boost::json::object& p, const char* key, int fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  if (!it->value().is_int64() || it->value().as_int64() < 0 || it->value().as_int64() > 256)
    throw std::runtime_error(std::string("parameters.") + key + " must be an integer between 0 and 256");
  return static_cast<int>(it->value().as_int64());
}
}  // namespace

Ort::Env& env() {
  static Ort::Env instance(ORT_LOGGING_LEVEL_WARNING, "serval");
  return instance;
}

Ort::SessionOptions session_options(const boost::json::object& parameters) {
  Ort::SessionOptions opts;
  opts.SetIntraOpNumThreads(int_param(parameters, "intra_op_threads", 1));
  opts.SetInterOpNumThreads(int_param(parameters, "inter_op_threads", 1));
  GraphOptimizationLevel level = ORT_ENABLE_ALL;
  if (auto it = parameters.find("graph_optimization"); it != parameters.end()) {
    const auto* s = it->value().if_string();
    if (!s) throw std::runtime_error("parameters.graph_optimization must be a string");
    if (*s == "all") level = ORT_ENABLE_ALL;
    else if (*s == "extended") level = ORT_ENABLE_EXTENDED;
    else if (*s == "basic") level = ORT_ENABLE_BASIC;
    else if (*s == "disable") level = ORT_DISABLE_ALL;
    else throw std::runtime_error("parameters.graph_optimization must be all, extended, basic or disable");
  }
  opts.SetGraphOptimizationLevel(level);
  return opts;
}

}  // namespace serval::runtimes::onnx
