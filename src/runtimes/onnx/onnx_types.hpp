// ONNX element types <-> serving::DType, and the signature of one model input or output.
//
// Every ONNX tensor element type that has a serving::DType maps one to one (STRING is BYTES);
// the others (BFLOAT16, complex, 4-bit and 8-bit floats) have none, and a model that needs them
// on an input cannot be served.
//
//   auto t = to_dtype(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);   // DType::Float32
//   TensorSig sig{"x", DType::Float32, {-1, 3, 48, -1}};
//   sig.describe();   // "FP32 [-1, 3, 48, -1]"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "serval/serving/tensor.hpp"

namespace serval::runtimes::onnx {

std::optional<serving::DType> to_dtype(ONNXTensorElementDataType t) noexcept;
ONNXTensorElementDataType to_onnx(serving::DType t) noexcept;
// "FLOAT", "BFLOAT16", ... for error messages about types that have no DType.
std::string onnx_type_name(ONNXTensorElementDataType t);

// The name, element type and shape of a model input or output; -1 = any size.
struct TensorSig {
  std::string name;
  serving::DType dtype = serving::DType::Float32;
  std::vector<std::int64_t> shape;

  std::string describe() const;  // "FP32 [-1, 4]"
};

}  // namespace serval::runtimes::onnx
