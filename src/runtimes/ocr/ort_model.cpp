#include "runtimes/ocr/ort_model.hpp"

#include <stdexcept>

#include <boost/json/array.hpp>

#include "runtimes/onnx/ort_env.hpp"

namespace serval::runtimes::ocr {

namespace {

Ort::Session open_session(const std::filesystem::path& file, const std::string& role,
                          const boost::json::object& parameters) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw std::runtime_error("ocr: the " + role + " model file is missing: " + file.string());
  try {
    auto opts = onnx::session_options(parameters);
    return Ort::Session(onnx::env(), file.c_str(), opts);
  } catch (const Ort::Exception& e) {
    throw std::runtime_error("ocr: cannot load the " + role + " model " + file.string() + ": " + e.what());
  }
}

boost::json::array shape_json(const std::vector<std::int64_t>& shape) {
  boost::json::array a;
  for (auto d : shape) a.push_back(d);
  return a;
}

}  // namespace

OrtModel::OrtModel(const std::filesystem::path& file, std::string role, const boost::json::object& parameters)
    : role_(std::move(role)),
      file_(file),
      session_(open_session(file, role_, parameters)),
      memory_(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)) {
  Ort::AllocatorWithDefaultOptions alloc;
  if (session_.GetInputCount() != 1 || session_.GetOutputCount() < 1)
    throw std::runtime_error("ocr: the " + role_ + " model must have one input and an output, " + file.string() +
                             " has " + std::to_string(session_.GetInputCount()) + " inputs");
  // The shape infos point into their TypeInfo: keep those alive while reading them.
  Ort::TypeInfo in_type = session_.GetInputTypeInfo(0), out_type = session_.GetOutputTypeInfo(0);
  auto in_info = in_type.GetTensorTypeAndShapeInfo();
  auto out_info = out_type.GetTensorTypeAndShapeInfo();
  if (in_info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ||
      out_info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
    throw std::runtime_error("ocr: the " + role_ + " model must take and give float tensors: " + file.string());
  input_shape_ = in_info.GetShape();
  output_shape_ = out_info.GetShape();
  if (input_shape_.size() != 4)
    throw std::runtime_error("ocr: the " + role_ + " model input must be NCHW (rank 4): " + file.string());
  input_name_ = session_.GetInputNameAllocated(0, alloc).get();
  output_name_ = session_.GetOutputNameAllocated(0, alloc).get();
}

Ort::Value OrtModel::run(std::span<const float> input, const std::array<std::int64_t, 4>& shape) {
  auto x = Ort::Value::CreateTensor<float>(memory_, const_cast<float*>(input.data()), input.size(), shape.data(),
                                           shape.size());
  const char* in_names[] = {input_name_.c_str()};
  const char* out_names[] = {output_name_.c_str()};
  auto outputs = session_.Run(Ort::RunOptions{nullptr}, in_names, &x, 1, out_names, 1);
  return std::move(outputs.front());
}

boost::json::object OrtModel::describe() const {
  std::error_code ec;
  auto bytes = std::filesystem::file_size(file_, ec);
  return {
      {"file", file_.filename().string()},
      {"bytes", ec ? 0 : static_cast<std::int64_t>(bytes)},
      {"inputs", boost::json::array{boost::json::object{
                     {"name", input_name_}, {"dtype", "FP32"}, {"shape", shape_json(input_shape_)}}}},
      {"outputs", boost::json::array{boost::json::object{
                      {"name", output_name_}, {"dtype", "FP32"}, {"shape", shape_json(output_shape_)}}}},
  };
}

}  // namespace serval::runtimes::ocr
