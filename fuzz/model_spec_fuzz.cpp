// Fuzzes the model.yaml parser, which reads files an operator (or a model upload) supplies: any byte
// string must give a ModelSpec or a ConfigError — never a crash, a hang, another exception or a
// sanitizer report. Two views of the input:
//   1. parse_model_spec on the bytes; a spec that parses must satisfy the documented ranges;
//   2. the YAML -> JSON step alone with tight limits (depth 8, 200 values, 4 KiB), so the limit
//      paths are reached by small inputs too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.hpp"
#include "serval/serving/model_spec.hpp"
#include "serving/model_spec_yaml.hpp"

using serval::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    serval::serving::ModelSpec s = serval::serving::parse_model_spec(text, "fuzz");
    check(s.name == "fuzz");
    check(!s.runtime.empty() && !s.task.empty());
    check(s.instances >= 1 && s.instances <= 64);
    check(s.batching.max_batch_size >= 1 && s.batching.max_batch_size <= 4096);
    check(s.batching.max_queue >= 1);
    check(s.batching.max_queue_delay.count() >= 0 && s.batching.max_queue_delay.count() <= 10'000'000);
    int previous = 0;
    for (int b : s.batching.preferred_batch_sizes) {
      check(b > previous && b <= s.batching.max_batch_size);
      previous = b;
    }
    check(s.default_timeout.count() >= 1 && s.max_input_bytes >= 1);
    check(s.version_policy == "latest" || s.version_policy == "all" || s.version_policy == "specific");
    check((s.version_policy == "specific") == !s.versions.empty());
    for (const auto* list : {&s.inputs, &s.outputs})
      for (const auto& t : *list) {
        check(!t.name.empty());
        for (auto d : t.shape) check(d >= -1);
      }
    check(s.labels.empty() || s.labels_file.empty());
  } catch (const serval::serving::ConfigError&) {
  }

  try {
    serval::serving::detail::YamlLimits tight{.max_bytes = 4096, .max_depth = 8, .max_nodes = 200};
    auto doc = serval::serving::detail::parse_yaml_json(text, tight);
    check(doc.lines.size() <= 200);
  } catch (const serval::serving::ConfigError&) {
  }
  return 0;
}
