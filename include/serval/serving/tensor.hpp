// Tensor: a named, typed, shaped block of values — what tensor models (ONNX, KServe v2) take and give.
//
// Numbers live row-major in `data` (dtype_size(dtype) bytes each); BYTES tensors keep their
// elements in `strings`. Shapes are int64 like ONNX's; -1 in a spec means "any size".
//
//   auto t = serval::serving::Tensor::from<float>("input", {1, 3}, {0.1f, 0.2f, 0.3f});
//   std::span<const float> v = t.view<float>();
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace serval::serving {

enum class DType : std::uint8_t {
  Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64, Bytes
};

// KServe v2 / Triton names: "BOOL", "INT8", ..., "FP16", "FP32", "FP64", "BYTES".
std::string_view dtype_name(DType t) noexcept;
// Accepts the KServe names and the common lower-case spellings ("float32", "int64", "bool", "string").
std::optional<DType> dtype_from_name(std::string_view name) noexcept;
// Bytes per element; 0 for BYTES.
std::size_t dtype_size(DType t) noexcept;

// Element count of a shape (1 for a scalar shape {}); -1 if any dimension is negative.
std::int64_t shape_numel(std::span<const std::int64_t> shape) noexcept;
std::string shape_string(std::span<const std::int64_t> shape);  // "[2, 3]"

struct Tensor {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;       // numbers, row-major
  std::vector<std::string> strings;  // BYTES elements

  std::int64_t numel() const noexcept { return shape_numel(shape); }

  template <class T>
  std::span<const T> view() const noexcept {
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }
  template <class T>
  std::span<T> view() noexcept {
    return {reinterpret_cast<T*>(data.data()), data.size() / sizeof(T)};
  }

  template <class T>
  static Tensor from(std::string name, std::vector<std::int64_t> shape, std::span<const T> values,
                     DType dtype);
  static Tensor from_floats(std::string name, std::vector<std::int64_t> shape, std::span<const float> v) {
    return from<float>(std::move(name), std::move(shape), v, DType::Float32);
  }
};

template <class T>
Tensor Tensor::from(std::string name, std::vector<std::int64_t> shape, std::span<const T> values, DType dtype) {
  Tensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data.resize(values.size_bytes());
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), values.size_bytes());
  return t;
}

}  // namespace serval::serving
