// The process-wide ONNX Runtime environment and session options built from a model's parameters.
// Every ONNX-based runtime (tensor models, the OCR pipeline, VAD) opens its sessions through here.
//
//   Ort::Session s(serval::runtimes::onnx::env(), path.c_str(), session_options(spec.parameters));
#pragma once

#include <onnxruntime_cxx_api.h>

#include <boost/json/object.hpp>

namespace serval::runtimes::onnx {

// Created on first use; lives until exit. Logs warnings and errors only.
Ort::Env& env();

// Session options from model.yaml `parameters`: intra_op_threads (default 1), inter_op_threads
// (default 1), graph_optimization ("all" | "extended" | "basic" | "disable", default "all").
// Sessions of one model instance run on that instance's executor thread, so one intra-op thread
// per instance is the default: more instances, not more threads per call, scale a model.
Ort::SessionOptions session_options(const boost::json::object& parameters);

}  // namespace serval::runtimes::onnx
