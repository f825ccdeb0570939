// ModelSpec: what models/<name>/model.yaml says about a model.
//
//   # models/langid/model.yaml
//   runtime: fasttext            # onnx | fasttext | ocr | vad | llama
//   task: classify               # classify | embed | ocr | vad | generate | tensor
//   description: Language identification, 176 languages (fastText lid.176).
//   versions: latest             # latest | all | [1, 2]
//   instances: 1                 # executor threads (one runtime instance each)
//   batching: {max_batch_size: 64, max_queue_delay_ms: 2, preferred_batch_sizes: [16, 32, 64], max_queue: 1024}
//   limits: {timeout_ms: 5000, max_input_bytes: 65536}
//   inputs: [{name: input, dtype: FP32, shape: [-1, 3]}]     # tensor models
//   outputs: [{name: output, dtype: FP32, shape: [-1, 2]}]
//   labels: [ham, spam]          # or labels_file: labels.txt (relative to the version folder)
//   parameters: {intra_op_threads: 1}                         # runtime-specific
//   card: {source: ..., license: ..., notes: ...}             # free-form model card fields
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "serval/serving/tensor.hpp"

namespace serval::serving {

struct TensorSpec {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<std::int64_t> shape;  // -1 = any size
};

struct BatchingSpec {
  int max_batch_size = 1;
  std::chrono::microseconds max_queue_delay{0};
  std::vector<int> preferred_batch_sizes;  // ascending; a batch of one of these sizes goes at once
  int max_queue = 256;                     // queued requests beyond this are refused with 429
};

struct ModelSpec {
  std::string name;
  std::string runtime;
  std::string task;
  std::string description;
  std::string version_policy = "latest";   // latest | all | specific
  std::vector<int> versions;               // for "specific"
  int instances = 1;
  BatchingSpec batching;
  std::chrono::milliseconds default_timeout{30000};  // a request's deadline unless it names one
  std::int64_t max_input_bytes = 8 << 20;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<std::string> labels;
  std::string labels_file;
  boost::json::object parameters;          // runtime-specific settings
  boost::json::object card;                // free-form model card fields
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the text of a model.yaml. `default_name` is the folder name. Throws ConfigError with the
// line and the field when something is wrong ("model.yaml:4: batching.max_batch_size must be >= 1").
ModelSpec parse_model_spec(std::string_view yaml_text, std::string_view default_name);

}  // namespace serval::serving
