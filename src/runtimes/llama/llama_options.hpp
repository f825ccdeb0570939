// LlamaOptions: the llama runtime's settings, read from model.yaml `parameters`.
//
//   parameters: {file: model.gguf, n_ctx: 2048, n_parallel: 8, n_batch: 512, threads: 2,
//                max_waiting: 256, embeddings: true}
//
// file        the GGUF in the version folder (default model.gguf, or the only *.gguf there)
// n_ctx       tokens one sequence may hold, prompt + completion (default 2048, capped to the model's)
// n_parallel  sequences decoding at once, each in its own KV-cache sequence (default 8)
// n_batch     tokens per decode step: one per decoding sequence plus prompt chunks (default 512)
// threads     CPU threads for llama.cpp (default 2). More than one synchronises through OpenMP
//             barriers at every graph node: on a machine whose cores are busy with other work, run
//             the process with OMP_WAIT_POLICY=passive (read when libgomp loads), or use 1.
// max_waiting sequences queued for a free slot before submit() answers Overload (default 256)
// embeddings  also serve embeddings (a second, smaller context) (default true)
//
//   LlamaOptions o = read_llama_options(spec.parameters, version_dir);  // throws std::runtime_error
#pragma once

#include <filesystem>

#include <boost/json/object.hpp>

namespace serval::runtimes::llama {

struct LlamaOptions {
  std::filesystem::path file;
  int n_ctx = 2048;
  int n_parallel = 8;
  int n_batch = 512;
  int threads = 2;
  int max_waiting = 256;
  bool embeddings = true;
};

// Reads and checks the parameters; resolves `file` inside `version_dir`. Throws
// std::runtime_error naming the parameter when one is wrong or the file is missing.
LlamaOptions read_llama_options(const boost::json::object& parameters,
                                const std::filesystem::path& version_dir);

}  // namespace serval::runtimes::llama
