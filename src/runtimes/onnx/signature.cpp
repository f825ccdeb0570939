#include "runtimes/onnx/signature.hpp"

#include <algorithm>
#include <stdexcept>

namespace serval::runtimes::onnx {

namespace {
// The tensor signature of one input or output, or the reason it has none.
struct Read {
  TensorSig sig;
  std::string problem;
};

Read read_one(std::string name, const Ort::TypeInfo& info) {
  Read r;
  r.sig.name = std::move(name);
  if (info.GetONNXType() != ONNX_TYPE_TENSOR) {
    r.problem = "not a tensor (ONNX value type " + std::to_string(static_cast<int>(info.GetONNXType())) + ")";
    return r;
  }
  auto t = info.GetTensorTypeAndShapeInfo();
  auto dtype = to_dtype(t.GetElementType());
  if (!dtype) {
    r.problem = "element type " + onnx_type_name(t.GetElementType()) + " is not supported";
    return r;
  }
  r.sig.dtype = *dtype;
  r.sig.shape = t.GetShape();
  for (auto& d : r.sig.shape) {
    if (d <= 0) d = -1;  // symbolic, unknown, or a 0 the exporter left
  }
  return r;
}

// Checks one model.yaml entry against the model's tensor and narrows the model's shape.
void reconcile(TensorSig& model, const serving::TensorSpec& spec, std::string_view kind, std::string_view file) {
  const std::string where = "model.yaml " + std::string(kind) + " '" + spec.name + "'";
  const std::string has = std::string(file) + " has " + model.describe();
  if (spec.dtype != model.dtype || spec.shape.size() != model.shape.size())
    throw std::runtime_error(where + " is " + std::string(serving::dtype_name(spec.dtype)) + " " +
                             serving::shape_string(spec.shape) + " but " + has);
  for (std::size_t i = 0; i < spec.shape.size(); ++i) {
    const auto want = spec.shape[i] < 0 ? -1 : spec.shape[i];
    if (model.shape[i] >= 0 && want != model.shape[i])
      throw std::runtime_error(where + " has shape " + serving::shape_string(spec.shape) + " but " + has);
    if (model.shape[i] < 0) model.shape[i] = want;
  }
}

std::string names(const std::vector<TensorSig>& sigs) {
  std::string s;
  for (const auto& t : sigs) s += (s.empty() ? "'" : ", '") + t.name + "'";
  return s.empty() ? "nothing" : s;
}
}  // namespace

Signature read_signature(const Ort::Session& session) {
  Signature sig;
  Ort::AllocatorWithDefaultOptions allocator;
  for (std::size_t i = 0; i < session.GetInputCount(); ++i) {
    Read r = read_one(session.GetInputNameAllocated(i, allocator).get(), session.GetInputTypeInfo(i));
    if (!r.problem.empty())
      throw std::runtime_error("input '" + r.sig.name + "' cannot be served: " + r.problem);
    sig.inputs.push_back(std::move(r.sig));
  }
  for (std::size_t i = 0; i < session.GetOutputCount(); ++i) {
    Read r = read_one(session.GetOutputNameAllocated(i, allocator).get(), session.GetOutputTypeInfo(i));
    if (!r.problem.empty()) sig.ignored.push_back(r.sig.name + " (" + r.problem + ")");
    else sig.outputs.push_back(std::move(r.sig));
  }
  if (sig.outputs.empty()) throw std::runtime_error("the model has no output that is a servable tensor");
  return sig;
}

void apply_spec(Signature& sig, std::span<const serving::TensorSpec> inputs,
                std::span<const serving::TensorSpec> outputs, std::string_view file) {
  auto find = [](std::vector<TensorSig>& v, const std::string& name) {
    return std::find_if(v.begin(), v.end(), [&](const TensorSig& t) { return t.name == name; });
  };
  if (!inputs.empty()) {
    for (const auto& spec : inputs) {
      auto it = find(sig.inputs, spec.name);
      if (it == sig.inputs.end())
        throw std::runtime_error("model.yaml input '" + spec.name + "' is not an input of " + std::string(file) +
                                 " (it takes " + names(sig.inputs) + ")");
      if (std::count_if(inputs.begin(), inputs.end(), [&](const auto& s) { return s.name == spec.name; }) > 1)
        throw std::runtime_error("model.yaml lists input '" + spec.name + "' twice");
      reconcile(*it, spec, "input", file);
    }
    for (const auto& t : sig.inputs) {
      bool listed = std::any_of(inputs.begin(), inputs.end(), [&](const auto& s) { return s.name == t.name; });
      if (!listed)
        throw std::runtime_error("model.yaml inputs leave out '" + t.name + "', which " + std::string(file) +
                                 " needs (" + t.describe() + ")");
    }
  }
  if (!outputs.empty()) {
    std::vector<TensorSig> kept;
    for (const auto& spec : outputs) {
      auto it = find(sig.outputs, spec.name);
      if (it == sig.outputs.end())
        throw std::runtime_error("model.yaml output '" + spec.name + "' is not an output of " + std::string(file) +
                                 " (it gives " + names(sig.outputs) + ")");
      if (std::any_of(kept.begin(), kept.end(), [&](const TensorSig& t) { return t.name == spec.name; }))
        throw std::runtime_error("model.yaml lists output '" + spec.name + "' twice");
      reconcile(*it, spec, "output", file);
      kept.push_back(*it);
    }
    sig.outputs = std::move(kept);
  }
}

}  // namespace serval::runtimes::onnx
