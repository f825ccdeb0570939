// The generic ONNX tensor runtime (`runtime: onnx`, `task: tensor`): named tensors in, named
// tensors out, for any ONNX model whose inputs and outputs are tensors.
//
// Loading reads the input/output names, element types and shapes from the session (symbolic or
// unknown dimensions become -1). `inputs:`/`outputs:` in model.yaml are optional; when given they
// must agree with the model (same names, dtypes and ranks; a fixed dimension of the model may not
// be changed, a dynamic one may be fixed by the spec). `outputs:` may list a subset of the model's
// outputs: only those are served.
//
// execute() checks every request (see tensor_check.hpp) and fails the bad ones alone. When every
// input's first dimension is dynamic, the valid requests whose other dimensions agree are
// concatenated along dimension 0, run as ONE session call and split back by each request's row
// count (a group that fails, or whose outputs do not have one row per input row, is re-run one
// request at a time). A NaN or Inf in a floating-point output fails that request with
// ErrorClass::Inference.
//
// model.yaml parameters: file (default "model.onnx", relative to the version folder),
// batch_concat (default true; false runs requests one by one even with a dynamic first
// dimension, for models whose rows are not independent), and the session options of ort_env.hpp
// (intra_op_threads, inter_op_threads, graph_optimization).
//
//   # models/cls/model.yaml
//   runtime: onnx
//   task: tensor
//   parameters: {file: cls.onnx}
//   batching: {max_batch_size: 16, max_queue_delay_ms: 2}
//
//   auto rt = serval::runtimes::onnx::make_onnx_runtime({spec, "models/cls/1", 1});
#pragma once

#include <memory>

#include "serval/serving/runtime.hpp"

namespace serval::runtimes::onnx {

// Throws std::runtime_error when the file is missing or unreadable, a parameter is invalid, the
// model has a non-tensor input or one of an unsupported element type, or model.yaml's
// inputs/outputs disagree with the model.
std::unique_ptr<serving::Runtime> make_onnx_runtime(const serving::LoadContext& ctx);

}  // namespace serval::runtimes::onnx
