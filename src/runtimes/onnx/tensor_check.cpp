#include "runtimes/onnx/tensor_check.hpp"

#include <algorithm>

namespace serval::runtimes::onnx {

using serving::DType;
using serving::ErrorClass;
using serving::InferError;

namespace {
InferError client(std::string message) { return InferError{ErrorClass::Client, std::move(message)}; }

std::string got(const serving::Tensor& t) {
  return std::string(serving::dtype_name(t.dtype)) + " " + serving::shape_string(t.shape);
}
}  // namespace

std::string quoted_names(std::span<const TensorSig> sigs, std::size_t limit) {
  std::string s;
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    if (i == limit) return s + ", ...";
    if (i) s += ", ";
    s += "'" + sigs[i].name + "'";
  }
  return s;
}

std::optional<InferError> check_tensor(const TensorSig& sig, const serving::Tensor& t) {
  const std::string what = "input '" + sig.name + "': ";
  bool fits = t.dtype == sig.dtype && t.shape.size() == sig.shape.size();
  for (std::size_t i = 0; fits && i < sig.shape.size(); ++i) {
    if (sig.shape[i] >= 0 && t.shape[i] != sig.shape[i]) fits = false;
  }
  if (!fits) return client(what + "expected " + sig.describe() + ", got " + got(t));
  if (std::any_of(t.shape.begin(), t.shape.end(), [](std::int64_t d) { return d < 0; }))
    return client(what + "got " + got(t) + ": dimensions must be >= 0");
  const std::int64_t numel = t.numel();
  if (numel < 0) return client(what + "shape " + serving::shape_string(t.shape) + " is too large");
  const auto n = static_cast<std::uint64_t>(numel);
  if (t.dtype == DType::Bytes) {
    if (t.strings.size() != n)
      return client(what + got(t) + " needs " + std::to_string(n) + " strings, got " +
                    std::to_string(t.strings.size()));
    return std::nullopt;
  }
  const std::uint64_t size = serving::dtype_size(t.dtype);
  if (n > UINT64_MAX / size || t.data.size() != n * size)
    return client(what + got(t) + " needs " + std::to_string(n) + " x " + std::to_string(size) +
                  " bytes of data, got " + std::to_string(t.data.size()));
  return std::nullopt;
}

std::optional<InferError> check_request(std::span<const TensorSig> inputs, std::span<const TensorSig> outputs,
                                        const serving::InferRequest& req) {
  for (std::size_t i = 0; i < req.inputs.size(); ++i) {
    const auto& t = req.inputs[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (req.inputs[j].name == t.name) return client("input '" + t.name + "' is given twice");
    }
    auto sig = std::find_if(inputs.begin(), inputs.end(), [&](const TensorSig& s) { return s.name == t.name; });
    if (sig == inputs.end())
      return client("unknown input '" + t.name + "': the model takes " + quoted_names(inputs));
    if (auto err = check_tensor(*sig, t)) return err;
  }
  for (const auto& sig : inputs) {
    bool present = std::any_of(req.inputs.begin(), req.inputs.end(),
                               [&](const serving::Tensor& t) { return t.name == sig.name; });
    if (!present) return client("missing input '" + sig.name + "' (" + sig.describe() + ")");
  }
  for (std::size_t i = 0; i < req.outputs.size(); ++i) {
    const auto& name = req.outputs[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (req.outputs[j] == name) return client("output '" + name + "' is requested twice");
    }
    bool known = std::any_of(outputs.begin(), outputs.end(), [&](const TensorSig& s) { return s.name == name; });
    if (!known) return client("unknown output '" + name + "': the model gives " + quoted_names(outputs));
  }
  return std::nullopt;
}

}  // namespace serval::runtimes::onnx
