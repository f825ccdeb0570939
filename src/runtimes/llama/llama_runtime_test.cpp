// The batch contract of the llama runtime on the real tiny GGUF: embeddings, non-streamed
// generation through execute(), describe(), validate() and load errors.
#include <cmath>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "runtimes/llama/test_support.hpp"

namespace serval::runtimes::llama {
namespace {

using namespace testing;
using serving::ErrorClass;
using serving::InferRequest;
using serving::InferResult;

class LlamaRuntimeBatch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rt_ = load_tiny({{"n_ctx", 512}, {"n_parallel", 4}, {"threads", 1}}).release(); }
  static void TearDownTestSuite() {
    delete rt_;
    rt_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(rt_, nullptr); }

  static std::vector<InferResult> run(std::vector<InferRequest>& reqs) {
    std::vector<InferRequest*> ptrs;
    for (auto& r : reqs) ptrs.push_back(&r);
    std::vector<InferResult> out(reqs.size());
    rt_->execute(ptrs, out);
    return out;
  }
  static LlamaRuntime* rt_;
};
LlamaRuntime* LlamaRuntimeBatch::rt_ = nullptr;

std::vector<double> vec(const boost::json::value& v) {
  std::vector<double> out;
  for (const auto& x : v.as_array()) out.push_back(x.as_double());
  return out;
}

TEST_F(LlamaRuntimeBatch, EmbeddingsAreNormalisedAndDeterministic) {
  std::string long_text;  // > 128 tokens: computed over several decode calls
  for (int i = 0; i < 60; ++i) long_text += "alpha beta gamma ";
  std::vector<InferRequest> reqs(1);
  reqs[0].texts = {"hello world", "hello world", "a completely different sentence", long_text};
  auto out = run(reqs);
  ASSERT_TRUE(out[0]) << out[0].error().message;
  const auto& j = out[0].value().json.as_object();
  EXPECT_EQ(j.at("dim").as_int64(), 256);
  const auto& vs = j.at("vectors").as_array();
  ASSERT_EQ(vs.size(), 4u);
  std::vector<std::vector<double>> v;
  for (const auto& x : vs) v.push_back(vec(x));
  for (const auto& e : v) {
    ASSERT_EQ(e.size(), 256u);
    double n = 0;
    for (double x : e) n += x * x;
    EXPECT_NEAR(std::sqrt(n), 1.0, 1e-4);
  }
  EXPECT_EQ(v[0], v[1]);
  double dot = 0;
  for (std::size_t i = 0; i < 256; ++i) dot += v[0][i] * v[2][i];
  EXPECT_LT(dot, 0.9999);

  // The same text in a later call gives the same vector.
  std::vector<InferRequest> again(1);
  again[0].texts = {"hello world"};
  auto out2 = run(again);
  ASSERT_TRUE(out2[0]);
  EXPECT_EQ(vec(out2[0].value().json.at("vectors").as_array()[0]), v[0]);
}

TEST_F(LlamaRuntimeBatch, ExecuteGeneratesAndFailsRequestsAlone) {
  std::vector<InferRequest> reqs(4);
  reqs[0].text = "Write a haiku";
  reqs[0].params = {{"max_tokens", 6}, {"temperature", 0}};
  reqs[1].text = "Write a haiku";
  reqs[1].params = {{"max_tokens", 6}, {"temperature", 5}};  // out of range
  reqs[2].texts = {"embed me"};
  reqs[3].text = "Write a haiku";
  reqs[3].params = {{"max_tokens", 6}, {"temperature", 0.7}, {"seed", 3}, {"stop", boost::json::array{"zzzz"}}};
  auto out = run(reqs);

  ASSERT_TRUE(out[0]) << out[0].error().message;
  const auto& g = out[0].value().json.as_object();
  EXPECT_EQ(g.at("finish_reason").as_string(), "length");
  EXPECT_EQ(g.at("usage").at("completion_tokens").as_int64(), 6);
  EXPECT_EQ(g.at("usage").at("total_tokens").as_int64(),
            g.at("usage").at("prompt_tokens").as_int64() + 6);
  EXPECT_FALSE(g.at("text").as_string().empty());
  // Same request through the streaming interface gives the same text.
  EXPECT_EQ(generate(*rt_, greedy("Write a haiku", 6)).text, std::string(g.at("text").as_string()));

  ASSERT_FALSE(out[1]);
  EXPECT_EQ(out[1].error().cls, ErrorClass::Client);
  EXPECT_NE(out[1].error().message.find("temperature"), std::string::npos);
  ASSERT_TRUE(out[2]);
  EXPECT_EQ(out[2].value().json.at("dim").as_int64(), 256);
  ASSERT_TRUE(out[3]) << out[3].error().message;
}

TEST_F(LlamaRuntimeBatch, ValidateCatchesBadRequestsEarly) {
  InferRequest empty;
  ASSERT_TRUE(rt_->validate(empty).has_value());
  InferRequest wrong_type;
  wrong_type.text = "hi";
  wrong_type.params = {{"max_tokens", "ten"}};
  auto e = rt_->validate(wrong_type);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->cls, ErrorClass::Client);
  EXPECT_NE(e->message.find("max_tokens"), std::string::npos);
  InferRequest ok;
  ok.text = "hi";
  ok.params = {{"max_tokens", 10}, {"stop", "\n"}, {"top_k", 5}, {"top_p", 0.5}};
  EXPECT_FALSE(rt_->validate(ok).has_value());
}

TEST_F(LlamaRuntimeBatch, DescribeReadsTheGguf) {
  const auto d = rt_->describe();
  EXPECT_EQ(d.at("n_vocab").as_int64(), 32000);
  EXPECT_EQ(d.at("n_embd").as_int64(), 256);
  EXPECT_EQ(d.at("n_layer").as_int64(), 4);
  EXPECT_EQ(d.at("context_length").as_int64(), 512);
  EXPECT_EQ(d.at("context_length_train").as_int64(), 2048);
  EXPECT_TRUE(d.at("chat_template").as_bool());
  EXPECT_EQ(d.at("name").as_string(), "serval tiny-llm");
  EXPECT_EQ(std::string(d.at("description").as_string()).rfind("UNTRAINED", 0), 0u);
  EXPECT_NEAR(d.at("n_params").to_number<double>(), 19.79e6, 0.01e6);  // 2 x 32000 x 256 + 4 layers
  EXPECT_GT(d.at("file_bytes").to_number<double>(), 30e6);
}

TEST(LlamaRuntimeLoad, DefaultsAndErrors) {
  auto rt = load_tiny({{"n_parallel", 2}, {"embeddings", false}, {"threads", 1}});
  ASSERT_NE(rt, nullptr);
  EXPECT_EQ(rt->context_length(), 2048);  // default n_ctx, the model's own
  InferRequest embed;
  embed.texts = {"x"};
  ASSERT_TRUE(rt->validate(embed).has_value());

  serving::ModelSpec spec;
  spec.parameters = {{"n_parallel", 0}};
  EXPECT_THROW(LlamaRuntime({spec, tiny_dir(), 1}), std::runtime_error);
  spec.parameters = {{"file", "missing.gguf"}};
  EXPECT_THROW(LlamaRuntime({spec, tiny_dir(), 1}), std::runtime_error);
}

}  // namespace
}  // namespace serval::runtimes::llama
