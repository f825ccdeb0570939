#include "serval/serving/tensor.hpp"

#include <array>
#include <cctype>

namespace serval::serving {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;   // KServe v2
  std::string_view alias;  // numpy-style
  std::size_t size;
};
constexpr std::array<DTypeInfo, 13> kTypes{{
    {DType::Bool, "BOOL", "bool", 1},
    {DType::Int8, "INT8", "int8", 1},
    {DType::Int16, "INT16", "int16", 2},
    {DType::Int32, "INT32", "int32", 4},
    {DType::Int64, "INT64", "int64", 8},
    {DType::UInt8, "UINT8", "uint8", 1},
    {DType::UInt16, "UINT16", "uint16", 2},
    {DType::UInt32, "UINT32", "uint32", 4},
    {DType::UInt64, "UINT64", "uint64", 8},
    {DType::Float16, "FP16", "float16", 2},
    {DType::Float32, "FP32", "float32", 4},
    {DType::Float64, "FP64", "float64", 8},
    {DType::Bytes, "BYTES", "string", 0},
}};
}  // namespace

std::string_view dtype_name(DType t) noexcept { return kTypes[static_cast<std::size_t>(t)].name; }

std::size_t dtype_size(DType t) noexcept { return kTypes[static_cast<std::size_t>(t)].size; }

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (const auto& info : kTypes) {
    if (name == info.name || name == info.alias) return info.type;
  }
  if (name == "float" || name == "TYPE_FP32") return DType::Float32;
  if (name == "double") return DType::Float64;
  if (name == "bytes") return DType::Bytes;
  return std::nullopt;
}

std::int64_t shape_numel(std::span<const std::int64_t> shape) noexcept {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > INT64_MAX / d) return -1;
    n *= d;
  }
  return n;
}

std::string shape_string(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  s += "]";
  return s;
}

}  // namespace serval::serving
