// OrtModel: one single-input, single-output float network of the OCR pipeline (det, cls or rec)
// opened through the shared ONNX Runtime environment, run on an NCHW float batch.
//
//   OrtModel rec(dir / "rec.onnx", "rec", spec.parameters);        // throws std::runtime_error
//   Ort::Value y = rec.run(planes, {n, 3, 48, width});             // y: n x steps x classes
//   auto shape = y.GetTensorTypeAndShapeInfo().GetShape();
//   const float* p = y.GetTensorData<float>();
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include <boost/json/object.hpp>

namespace serval::runtimes::ocr {

class OrtModel {
 public:
  // `role` names the model in error messages ("det"). Checks the model has one float input of rank 4
  // and at least one float output.
  OrtModel(const std::filesystem::path& file, std::string role, const boost::json::object& parameters);

  // Runs on `input` (shape[0] * ... * shape[3] floats) and returns the first output.
  Ort::Value run(std::span<const float> input, const std::array<std::int64_t, 4>& shape);

  const std::vector<std::int64_t>& input_shape() const noexcept { return input_shape_; }
  const std::vector<std::int64_t>& output_shape() const noexcept { return output_shape_; }
  // {"file": "det.onnx", "bytes": 4745517, "inputs": [{"name","dtype","shape"}], "outputs": [...]}
  boost::json::object describe() const;

 private:
  std::string role_;
  std::filesystem::path file_;
  Ort::Session session_;
  std::string input_name_, output_name_;
  std::vector<std::int64_t> input_shape_, output_shape_;
  Ort::MemoryInfo memory_;
};

}  // namespace serval::runtimes::ocr
