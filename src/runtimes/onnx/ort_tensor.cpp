#include "runtimes/onnx/ort_tensor.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace serval::runtimes::onnx {

using serving::DType;
using serving::Tensor;

namespace {
const Ort::MemoryInfo& cpu_memory() {
  static const Ort::MemoryInfo info = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  return info;
}

std::byte g_empty[8];  // a valid pointer for zero-element tensors
}  // namespace

Ort::Value make_input(const TensorSig& sig, std::span<const Tensor* const> parts, std::vector<std::byte>& storage) {
  std::vector<std::int64_t> shape = parts.front()->shape;
  if (!shape.empty()) {
    shape[0] = 0;
    for (const auto* t : parts) shape[0] += t->shape[0];
  }
  if (sig.dtype == DType::Bytes) {
    Ort::AllocatorWithDefaultOptions allocator;
    Ort::Value v = Ort::Value::CreateTensor(allocator, shape.data(), shape.size(), ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);
    std::size_t index = 0;
    for (const auto* t : parts) {
      for (const auto& s : t->strings) {
        char* buf = v.GetResizedStringTensorElementBuffer(index++, s.size());
        if (!s.empty()) std::memcpy(buf, s.data(), s.size());
      }
    }
    return v;
  }
  std::byte* data = nullptr;
  std::size_t bytes = 0;
  if (parts.size() == 1) {
    // ONNX Runtime reads inputs only; the const_cast does not lead to a write.
    data = const_cast<std::byte*>(parts.front()->data.data());
    bytes = parts.front()->data.size();
  } else {
    for (const auto* t : parts) bytes += t->data.size();
    storage.resize(bytes);
    std::size_t at = 0;
    for (const auto* t : parts) {
      if (!t->data.empty()) std::memcpy(storage.data() + at, t->data.data(), t->data.size());
      at += t->data.size();
    }
    data = storage.data();
  }
  if (bytes == 0 || data == nullptr) data = g_empty;
  return Ort::Value::CreateTensor(cpu_memory(), data, bytes, shape.data(), shape.size(), to_onnx(sig.dtype));
}

Tensor take_rows(std::string name, const Ort::Value& value, std::int64_t row_begin, std::int64_t rows) {
  auto info = value.GetTensorTypeAndShapeInfo();
  auto type = to_dtype(info.GetElementType());
  if (!type) throw std::runtime_error("output '" + name + "' has element type " + onnx_type_name(info.GetElementType()));
  Tensor t;
  t.name = std::move(name);
  t.dtype = *type;
  t.shape = info.GetShape();
  const std::size_t total = info.GetElementCount();
  std::size_t first = 0, count = total;
  if (rows >= 0) {
    if (t.shape.empty() || t.shape[0] < row_begin + rows)
      throw std::runtime_error("output '" + t.name + "' has fewer rows than the batch");
    const std::size_t per_row = t.shape[0] == 0 ? 0 : total / static_cast<std::size_t>(t.shape[0]);
    first = static_cast<std::size_t>(row_begin) * per_row;
    count = static_cast<std::size_t>(rows) * per_row;
    t.shape[0] = rows;
  }
  if (t.dtype == DType::Bytes) {
    t.strings.reserve(count);
    for (std::size_t i = first; i < first + count; ++i) t.strings.push_back(value.GetStringTensorElement(i));
    return t;
  }
  const std::size_t size = serving::dtype_size(t.dtype);
  t.data.resize(count * size);
  if (count) {
    const auto* src = static_cast<const std::byte*>(value.GetTensorRawData());
    std::memcpy(t.data.data(), src + first * size, count * size);
  }
  return t;
}

std::optional<std::string_view> non_finite(const Tensor& t) noexcept {
  auto scan = [](auto values) -> std::optional<std::string_view> {
    bool inf = false;
    for (auto v : values) {
      if (std::isnan(v)) return "NaN";
      if (std::isinf(v)) inf = true;
    }
    if (inf) return "Inf";
    return std::nullopt;
  };
  switch (t.dtype) {
    case DType::Float32: return scan(t.view<float>());
    case DType::Float64: return scan(t.view<double>());
    case DType::Float16: {
      bool inf = false;
      for (std::uint16_t h : t.view<std::uint16_t>()) {
        if ((h & 0x7C00u) != 0x7C00u) continue;  // exponent not all ones: finite
        if (h & 0x03FFu) return "NaN";
        inf = true;
      }
      if (inf) return "Inf";
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

}  // namespace serval::runtimes::onnx
