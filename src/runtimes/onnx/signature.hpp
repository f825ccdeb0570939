// A model's signature: the tensor inputs and outputs an ONNX session declares, reconciled with
// the `inputs:`/`outputs:` a model.yaml may give.
//
// read_signature() throws for an input the server cannot feed (a sequence or map, or an element
// type without a serving::DType); outputs of that kind are left out and listed in `ignored`.
// apply_spec() checks model.yaml against the model and narrows the signature to it: a dynamic
// dimension the spec fixes becomes fixed, and an `outputs:` list keeps only those outputs.
//
//   Signature sig = read_signature(session);
//   apply_spec(sig, spec.inputs, spec.outputs, "cls.onnx");   // throws std::runtime_error
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "runtimes/onnx/onnx_types.hpp"
#include "serval/serving/model_spec.hpp"

namespace serval::runtimes::onnx {

struct Signature {
  std::vector<TensorSig> inputs;
  std::vector<TensorSig> outputs;
  std::vector<std::string> ignored;  // outputs that are not servable tensors: "name (reason)"
};

Signature read_signature(const Ort::Session& session);

void apply_spec(Signature& sig, std::span<const serving::TensorSpec> inputs,
                std::span<const serving::TensorSpec> outputs, std::string_view file);

}  // namespace serval::runtimes::onnx
