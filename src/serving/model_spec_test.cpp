#include "serval/serving/model_spec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "serving/model_spec_yaml.hpp"

namespace {

using serval::serving::ConfigError;
using serval::serving::DType;
using serval::serving::ModelSpec;
using serval::serving::parse_model_spec;

// The ConfigError message for `yaml`, or "" when it parses.
std::string error_of(const std::string& yaml) {
  try {
    parse_model_spec(yaml, "m");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelSpecParse, FullExample) {
  const char* yaml = R"(# models/langid/model.yaml
runtime: fasttext
task: classify
description: Language identification, 176 languages (fastText lid.176).
versions: [2, 1]
instances: 2
batching: {max_batch_size: 64, max_queue_delay_ms: 2.5, preferred_batch_sizes: [16, 32, 64], max_queue: 1024}
limits: {timeout_ms: 5000, max_input_bytes: 65536}
inputs: [{name: input, dtype: FP32, shape: [-1, 3]}]
outputs:
  - name: output
    dtype: float32
    shape: [-1, 2]
labels: [ham, spam, 7]
parameters: {intra_op_threads: 1, label_prefix: __label__, ratio: 0.5, flag: true, nothing: ~, list: [1, two]}
card:
  source: https://fasttext.cc
  license: CC-BY-SA 3.0
  notes: "quoted: 42"
)";
  ModelSpec s = parse_model_spec(yaml, "langid");
  EXPECT_EQ(s.name, "langid");
  EXPECT_EQ(s.runtime, "fasttext");
  EXPECT_EQ(s.task, "classify");
  EXPECT_EQ(s.description, "Language identification, 176 languages (fastText lid.176).");
  EXPECT_EQ(s.version_policy, "specific");
  EXPECT_EQ(s.versions, (std::vector<int>{1, 2}));
  EXPECT_EQ(s.instances, 2);
  EXPECT_EQ(s.batching.max_batch_size, 64);
  EXPECT_EQ(s.batching.max_queue_delay, std::chrono::microseconds(2500));
  EXPECT_EQ(s.batching.preferred_batch_sizes, (std::vector<int>{16, 32, 64}));
  EXPECT_EQ(s.batching.max_queue, 1024);
  EXPECT_EQ(s.default_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(s.max_input_bytes, 65536);
  ASSERT_EQ(s.inputs.size(), 1u);
  EXPECT_EQ(s.inputs[0].name, "input");
  EXPECT_EQ(s.inputs[0].dtype, DType::Float32);
  EXPECT_EQ(s.inputs[0].shape, (std::vector<std::int64_t>{-1, 3}));
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0].name, "output");
  EXPECT_EQ(s.outputs[0].shape, (std::vector<std::int64_t>{-1, 2}));
  EXPECT_EQ(s.labels, (std::vector<std::string>{"ham", "spam", "7"}));
  EXPECT_EQ(s.parameters.at("intra_op_threads").as_int64(), 1);
  EXPECT_EQ(s.parameters.at("label_prefix").as_string(), "__label__");
  EXPECT_DOUBLE_EQ(s.parameters.at("ratio").as_double(), 0.5);
  EXPECT_EQ(s.parameters.at("flag").as_bool(), true);
  EXPECT_TRUE(s.parameters.at("nothing").is_null());
  EXPECT_EQ(s.parameters.at("list").as_array()[1].as_string(), "two");
  EXPECT_EQ(s.card.at("license").as_string(), "CC-BY-SA 3.0");
  EXPECT_EQ(s.card.at("notes").as_string(), "quoted: 42");
}

TEST(ModelSpecParse, DefaultsAndTaskByRuntime) {
  ModelSpec s = parse_model_spec("runtime: onnx\n", "spam");
  EXPECT_EQ(s.name, "spam");
  EXPECT_EQ(s.task, "tensor");
  EXPECT_EQ(s.version_policy, "latest");
  EXPECT_TRUE(s.versions.empty());
  EXPECT_EQ(s.instances, 1);
  EXPECT_EQ(s.batching.max_batch_size, 1);
  EXPECT_EQ(s.batching.max_queue_delay, std::chrono::microseconds(0));
  EXPECT_EQ(s.batching.max_queue, 256);
  EXPECT_EQ(s.default_timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(s.max_input_bytes, 8 << 20);
  EXPECT_TRUE(s.inputs.empty() && s.outputs.empty() && s.labels.empty() && s.labels_file.empty());
  EXPECT_TRUE(s.parameters.empty() && s.card.empty());

  EXPECT_EQ(parse_model_spec("runtime: fasttext", "x").task, "classify");
  EXPECT_EQ(parse_model_spec("runtime: ocr", "x").task, "ocr");
  EXPECT_EQ(parse_model_spec("runtime: vad", "x").task, "vad");
  EXPECT_EQ(parse_model_spec("runtime: llama", "x").task, "generate");
  EXPECT_EQ(parse_model_spec("runtime: fasttext\ntask: embed", "x").task, "embed");
  EXPECT_EQ(parse_model_spec("runtime: mine\ntask: tensor", "x").runtime, "mine");
  EXPECT_EQ(parse_model_spec("runtime: onnx\nversions: all", "x").version_policy, "all");
  // Empty sections read as their defaults.
  ModelSpec e = parse_model_spec("runtime: onnx\nbatching:\nlimits: {}\nparameters:\ndescription: 2024\n", "x");
  EXPECT_EQ(e.batching.max_batch_size, 1);
  EXPECT_EQ(e.description, "2024");
  EXPECT_EQ(parse_model_spec("runtime: vad\nlabels_file: sub/labels.txt\n", "x").labels_file, "sub/labels.txt");
}

TEST(ModelSpecParse, RealModelFilesParse) {
  for (const char* name : {"langid", "embed", "ocr", "spam", "tiny-llm", "vad"}) {
    std::ifstream in(std::string(SERVAL_SOURCE_DIR "/models/") + name + "/model.yaml");
    if (!in) continue;  // not every model folder has its model.yaml yet
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_NO_THROW(parse_model_spec(ss.str(), name)) << name;
  }
}

TEST(ModelSpecErrors, UnknownKeysAreTypos) {
  EXPECT_EQ(error_of("runtime: onnx\ninstnaces: 2\n"),
            "model.yaml:2: unknown key 'instnaces' (did you mean 'instances'?); expected one of: runtime, task, "
            "description, versions, instances, batching, limits, inputs, outputs, labels, labels_file, parameters, "
            "card");
  std::string e = error_of("runtime: onnx\nbatching:\n  max_batch: 4\n");
  EXPECT_NE(e.find("model.yaml:3: unknown key 'max_batch'"), std::string::npos) << e;
  EXPECT_NE(e.find("in batching"), std::string::npos) << e;
  e = error_of("runtime: onnx\ninputs: [{name: a, dtype: FP32, shape: [1], shap: [2]}]\n");
  EXPECT_NE(e.find("unknown key 'shap' (did you mean 'shape'?)"), std::string::npos) << e;
  EXPECT_NE(e.find("in inputs[0]"), std::string::npos) << e;
}

TEST(ModelSpecErrors, RequiredFields) {
  EXPECT_EQ(error_of("task: classify\n"), "model.yaml: runtime is required (onnx, fasttext, ocr, vad or llama)");
  EXPECT_EQ(error_of(""), "model.yaml: runtime is required (onnx, fasttext, ocr, vad or llama)");
  EXPECT_EQ(error_of("# only a comment\n"), "model.yaml: runtime is required (onnx, fasttext, ocr, vad or llama)");
  EXPECT_NE(error_of("runtime: custom\n").find("task is required for runtime 'custom'"), std::string::npos);
  EXPECT_EQ(error_of("runtime: onnx\ntask: clasify\n"),
            "model.yaml:2: task must be one of classify, embed, ocr, vad, generate, tensor (got 'clasify')");
  EXPECT_EQ(error_of("runtime: 5\n"), "model.yaml:1: runtime must be a string (got 5)");
  EXPECT_EQ(error_of("- a\n- b\n"), "model.yaml:1: the document must be a mapping (got [\"a\",\"b\"])");
  EXPECT_NE(error_of("runtime: onnx\ninputs: [{dtype: FP32, shape: [1]}]\n").find("inputs[0] needs a name"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\ninputs: [{name: a, shape: [1]}]\n").find("inputs[0] needs a dtype"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\ninputs: [{name: a, dtype: FP32}]\n").find("inputs[0] needs a shape"),
            std::string::npos);
}

TEST(ModelSpecErrors, RangesCarryLineAndField) {
  EXPECT_EQ(error_of("runtime: onnx\nbatching:\n  max_queue: 8\n  max_batch_size: 0\n"),
            "model.yaml:4: batching.max_batch_size must be between 1 and 4096 (got 0)");
  EXPECT_EQ(error_of("runtime: onnx\nbatching: {max_batch_size: 5000}\n"),
            "model.yaml:2: batching.max_batch_size must be between 1 and 4096 (got 5000)");
  EXPECT_EQ(error_of("runtime: onnx\nbatching: {max_batch_size: 2.5}\n"),
            "model.yaml:2: batching.max_batch_size must be an integer between 1 and 4096 (got 2.5)");
  EXPECT_EQ(error_of("runtime: onnx\nbatching: {max_batch_size: '8'}\n"),
            "model.yaml:2: batching.max_batch_size must be an integer between 1 and 4096 (got \"8\")");
  EXPECT_NE(error_of("runtime: onnx\nbatching: {max_queue_delay_ms: -1}\n")
                .find("batching.max_queue_delay_ms must be between 0 and 10000 (got -1)"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nbatching: {max_queue_delay_ms: .nan}\n").find("max_queue_delay_ms must be"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nbatching: {max_queue: 0}\n").find("model.yaml:2: batching.max_queue must be between 1 and 2147483647 (got 0)"),
            std::string::npos);
  EXPECT_EQ(error_of("runtime: onnx\nbatching: {max_batch_size: 8, preferred_batch_sizes: [4, 16]}\n"),
            "model.yaml:2: batching.preferred_batch_sizes[1] must be between 1 and 8 (got 16)");
  EXPECT_EQ(error_of("runtime: onnx\nbatching:\n  max_batch_size: 8\n  preferred_batch_sizes:\n    - 4\n    - 2\n"),
            "model.yaml:6: batching.preferred_batch_sizes[1] must be larger than the size before it (the list is "
            "ascending)");
  EXPECT_EQ(error_of("runtime: onnx\ninstances: 65\n"), "model.yaml:2: instances must be between 1 and 64 (got 65)");
  EXPECT_EQ(error_of("runtime: onnx\ninstances: 0\n"), "model.yaml:2: instances must be between 1 and 64 (got 0)");
  EXPECT_NE(error_of("runtime: onnx\nlimits: {timeout_ms: 0}\n").find("model.yaml:2: limits.timeout_ms must be between 1"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nlimits:\n  max_input_bytes: 0\n").find("model.yaml:3: limits.max_input_bytes must be >= 1"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nlimits: {max_input_bytes: 99999999999999999999}\n")
                .find("model.yaml:2: limits.max_input_bytes must be an integer >= 1 (got 1e+20)"),
            std::string::npos);
}

TEST(ModelSpecErrors, VersionsTensorsLabels) {
  EXPECT_NE(error_of("runtime: onnx\nversions: newest\n").find("versions must be latest, all or a list"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nversions: []\n").find("versions must list at least one version"), std::string::npos);
  EXPECT_EQ(error_of("runtime: onnx\nversions: [1, 0]\n"), "model.yaml:2: versions[1] must be between 1 and 2147483647 (got 0)");
  EXPECT_NE(error_of("runtime: onnx\nversions: [1, 1]\n").find("versions[1] repeats version 1"), std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\ninputs: [{name: a, dtype: FP33, shape: [1]}]\n")
                .find("model.yaml:2: inputs[0].dtype is not a known dtype: 'FP33'"),
            std::string::npos);
  EXPECT_EQ(error_of("runtime: onnx\noutputs:\n  - {name: a, dtype: FP32, shape: [1, -2]}\n"),
            "model.yaml:3: outputs[0].shape[1] must be >= -1 (got -2)");
  EXPECT_NE(error_of("runtime: onnx\ninputs: [{name: a, dtype: FP32, shape: [1]}, {name: a, dtype: FP32, shape: [1]}]\n")
                .find("inputs[1].name repeats the tensor name 'a'"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\ninputs: {name: a}\n").find("inputs must be a list"), std::string::npos);
  EXPECT_EQ(error_of("runtime: onnx\nlabels: [a, {b: 1}]\n"), "model.yaml:2: labels[1] must be a string (got {\"b\":1})");
  EXPECT_NE(error_of("runtime: onnx\nlabels: [a]\nlabels_file: l.txt\n").find("labels_file cannot be given together with labels"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nlabels_file: ../../etc/passwd\n").find("must be a path inside the version folder"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nlabels_file: /etc/passwd\n").find("must be a path inside the version folder"),
            std::string::npos);
  EXPECT_EQ(error_of("runtime: onnx\nparameters: [1]\n"), "model.yaml:2: parameters must be a mapping (got [1])");
  EXPECT_EQ(error_of("runtime: onnx\ncard: text\n"), "model.yaml:2: card must be a mapping (got \"text\")");
}

TEST(ModelSpecErrors, YamlSyntaxAndStructure) {
  std::string e = error_of("runtime: onnx\nbatching: {max_batch_size: 4\n");
  EXPECT_TRUE(e.starts_with("model.yaml:")) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  e = error_of("runtime: onnx\n  task: x\n bad");
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  EXPECT_EQ(error_of("runtime: onnx\nruntime: vad\n"), "model.yaml:2: duplicate key 'runtime' in the document");
  EXPECT_EQ(error_of("runtime: onnx\n---\nruntime: vad\n"), "model.yaml:2: only one YAML document is allowed");
  EXPECT_EQ(error_of("runtime: onnx\n[a]: 1\n"), "model.yaml:2: mapping keys must be scalars in the document");
  EXPECT_NE(error_of("runtime: onnx\nparameters: {x: !custom 1}\n").find("unsupported YAML tag '!custom'"), std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nparameters: {x: !!int abc}\n").find("'abc' is not a valid !!int"), std::string::npos);
}

TEST(ModelSpecErrors, HostileInputIsRefusedNotCrashed) {
  std::string deep = "runtime: onnx\nparameters: " + std::string(100, '[') + std::string(100, ']') + "\n";
  EXPECT_EQ(error_of(deep), "model.yaml:2: nesting deeper than 64 levels");
  std::string very_deep = "runtime: onnx\nparameters: " + std::string(100000, '[');
  EXPECT_TRUE(error_of(very_deep).starts_with("model.yaml:2: ")) << error_of(very_deep);  // refused, not a crash
  std::string ok_depth = "runtime: onnx\nparameters: {x: " + std::string(60, '[') + std::string(60, ']') + "}\n";
  EXPECT_EQ(error_of(ok_depth), "");

  std::string huge = "runtime: onnx\ndescription: " + std::string(1 << 20, 'x') + "\n";
  EXPECT_EQ(error_of(huge), "model.yaml: file too large (1048604 bytes; at most 1048576)");

  // Billion laughs: each level doubles through aliases.
  std::string laughs = "runtime: onnx\nparameters:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 20; ++i) {
    std::string p = "*a" + std::to_string(i - 1);
    laughs += "  a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p + ", " + p + ", " + p + ", " + p +
              ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + "]\n";
  }
  std::string e = error_of(laughs);
  EXPECT_NE(e.find("document too large"), std::string::npos) << e;

  EXPECT_NE(error_of("runtime: onnx\nparameters: &a {x: *a}\n").find("alias refers to a node that contains it"),
            std::string::npos);
  EXPECT_NE(error_of("runtime: onnx\nparameters: {x: *nope}\n").find("model.yaml:2:"), std::string::npos);
  // Aliases that stay small are fine.
  ModelSpec s = parse_model_spec("runtime: onnx\ncard: {a: &v [1, 2]}\nparameters: {b: *v}\n", "x");
  EXPECT_EQ(s.parameters.at("b").as_array().size(), 2u);
}

TEST(ModelSpecYaml, CoreSchemaScalars) {
  using serval::serving::detail::resolve_plain_scalar;
  EXPECT_TRUE(resolve_plain_scalar("").is_null());
  EXPECT_TRUE(resolve_plain_scalar("~").is_null());
  EXPECT_TRUE(resolve_plain_scalar("NULL").is_null());
  EXPECT_EQ(resolve_plain_scalar("True").as_bool(), true);
  EXPECT_EQ(resolve_plain_scalar("FALSE").as_bool(), false);
  EXPECT_TRUE(resolve_plain_scalar("yes").is_string());  // YAML 1.1 booleans are text in 1.2
  EXPECT_TRUE(resolve_plain_scalar("tRue").is_string());
  EXPECT_EQ(resolve_plain_scalar("42").as_int64(), 42);
  EXPECT_EQ(resolve_plain_scalar("-17").as_int64(), -17);
  EXPECT_EQ(resolve_plain_scalar("+5").as_int64(), 5);
  EXPECT_EQ(resolve_plain_scalar("0o17").as_int64(), 15);
  EXPECT_EQ(resolve_plain_scalar("0x1F").as_int64(), 31);
  EXPECT_EQ(resolve_plain_scalar("-9223372036854775808").as_int64(), INT64_MIN);
  EXPECT_EQ(resolve_plain_scalar("18446744073709551615").as_uint64(), UINT64_MAX);
  EXPECT_TRUE(resolve_plain_scalar("99999999999999999999").is_double());
  EXPECT_DOUBLE_EQ(resolve_plain_scalar("1.5").as_double(), 1.5);
  EXPECT_DOUBLE_EQ(resolve_plain_scalar(".5").as_double(), 0.5);
  EXPECT_DOUBLE_EQ(resolve_plain_scalar("-.5").as_double(), -0.5);
  EXPECT_DOUBLE_EQ(resolve_plain_scalar("1.").as_double(), 1.0);
  EXPECT_DOUBLE_EQ(resolve_plain_scalar("1e3").as_double(), 1000.0);
  EXPECT_DOUBLE_EQ(resolve_plain_scalar("+2.5E-1").as_double(), 0.25);
  EXPECT_TRUE(std::isinf(resolve_plain_scalar("-.inf").as_double()));
  EXPECT_TRUE(std::isnan(resolve_plain_scalar(".NaN").as_double()));
  EXPECT_TRUE(std::isinf(resolve_plain_scalar("1e999").as_double()));
  EXPECT_EQ(resolve_plain_scalar("1e-999").as_double(), 0.0);
  EXPECT_TRUE(resolve_plain_scalar("1_000").is_string());
  EXPECT_TRUE(resolve_plain_scalar("0x").is_string());
  EXPECT_TRUE(resolve_plain_scalar("1e").is_string());
  EXPECT_TRUE(resolve_plain_scalar(".").is_string());
  EXPECT_TRUE(resolve_plain_scalar("-").is_string());
  EXPECT_TRUE(resolve_plain_scalar("1.2.3").is_string());
}

TEST(ModelSpecYaml, LinesByPath) {
  auto doc = serval::serving::detail::parse_yaml_json("a: 1\nb:\n  c: [x,\n    y]\n  d: {e: 2}\n");
  EXPECT_EQ(doc.line_of("a"), 1);
  EXPECT_EQ(doc.line_of("b.c"), 3);
  EXPECT_EQ(doc.line_of("b.c[1]"), 4);
  EXPECT_EQ(doc.line_of("b.d.e"), 5);
  EXPECT_EQ(doc.line_of("b.d.zz"), 5);  // falls back to the parent
  EXPECT_EQ(doc.line_of("nothing"), 0);
}

}  // namespace
