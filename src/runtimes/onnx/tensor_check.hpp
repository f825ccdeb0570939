// Per-request checks of a tensor request against a model's input and output signatures.
//
// Cheap and pure (no session involved), so Runtime::validate() can run them on the event loop and
// execute() again on the executor: every model input present once, no unknown input, dtype and
// rank equal, fixed dimensions equal, data size == numel * dtype_size (BYTES: one string per
// element); every requested output known and named once.
//
//   if (auto err = check_request(inputs, outputs, req)) return *err;   // ErrorClass::Client
//   // err->message: "input 'x': expected FP32 [-1, 4], got INT64 [2, 3]"
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtimes/onnx/onnx_types.hpp"
#include "serval/serving/runtime.hpp"

namespace serval::runtimes::onnx {

// One given tensor against the signature of the input of the same name.
std::optional<serving::InferError> check_tensor(const TensorSig& sig, const serving::Tensor& t);

// All of a request's inputs and requested outputs.
std::optional<serving::InferError> check_request(std::span<const TensorSig> inputs,
                                                 std::span<const TensorSig> outputs,
                                                 const serving::InferRequest& req);

// "'a', 'b', 'c'" (at most `limit` names, then ", ...").
std::string quoted_names(std::span<const TensorSig> sigs, std::size_t limit = 8);

}  // namespace serval::runtimes::onnx
