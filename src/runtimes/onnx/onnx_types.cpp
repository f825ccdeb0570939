#include "runtimes/onnx/onnx_types.hpp"

namespace serval::runtimes::onnx {

using serving::DType;

std::optional<DType> to_dtype(ONNXTensorElementDataType t) noexcept {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DType::Bool;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return DType::Int8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return DType::Int16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DType::Int32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DType::Int64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return DType::UInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return DType::UInt16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32: return DType::UInt32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64: return DType::UInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return DType::Float16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DType::Float32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return DType::Float64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return DType::Bytes;
    default: return std::nullopt;
  }
}

ONNXTensorElementDataType to_onnx(DType t) noexcept {
  switch (t) {
    case DType::Bool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    case DType::Int8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case DType::Int16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
    case DType::Int32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::Int64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DType::UInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DType::UInt16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16;
    case DType::UInt32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32;
    case DType::UInt64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64;
    case DType::Float16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::Float32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::Float64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case DType::Bytes: return ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

std::string onnx_type_name(ONNXTensorElementDataType t) {
  if (auto d = to_dtype(t)) return std::string(serving::dtype_name(*d));
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "BFLOAT16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64: return "COMPLEX64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128: return "COMPLEX128";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED: return "UNDEFINED";
    default: return "ONNX element type " + std::to_string(static_cast<int>(t));
  }
}

std::string TensorSig::describe() const {
  return std::string(serving::dtype_name(dtype)) + " " + serving::shape_string(shape);
}

}  // namespace serval::runtimes::onnx
