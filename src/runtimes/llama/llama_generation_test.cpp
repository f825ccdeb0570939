// Generation on the real tiny GGUF: tokenisation, sampling determinism, max_tokens, stop strings,
// validation. The model is untrained, so the tests check behaviour, never the words.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtimes/llama/test_support.hpp"

namespace serval::runtimes::llama {
namespace {

using namespace testing;
using serving::ErrorClass;
using serving::GenerationParams;

class LlamaGeneration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rt_ = load_tiny({{"n_ctx", 512}, {"n_parallel", 4}, {"threads", 1}}).release(); }
  static void TearDownTestSuite() {
    delete rt_;
    rt_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(rt_, nullptr); }
  static LlamaRuntime* rt_;
};
LlamaRuntime* LlamaGeneration::rt_ = nullptr;

GenerationParams sampled(std::uint32_t seed, int max_tokens) {
  GenerationParams p;
  p.prompt = "Once upon a time";
  p.max_tokens = max_tokens;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.seed = seed;
  return p;
}

TEST_F(LlamaGeneration, TokenizeDetokenizeRoundTrip) {
  const std::string text = "Hello world, serval! Ünïcödé 漢字 too.";
  auto plain = rt_->tokenize(text, false);
  ASSERT_FALSE(plain.empty());
  EXPECT_EQ(rt_->detokenize(plain), text);
  auto with_bos = rt_->tokenize(text, true);
  ASSERT_EQ(with_bos.size(), plain.size() + 1);
  EXPECT_EQ(with_bos.front(), 1);  // <s> of the LLaMA vocabulary
  EXPECT_EQ(rt_->detokenize(with_bos), text);
  EXPECT_THROW(rt_->detokenize({40000}), std::invalid_argument);
}

TEST_F(LlamaGeneration, ChatTemplateIsChatMlAndKnownToLlamaCpp) {
  const std::string tmpl = rt_->chat_template();
  ASSERT_NE(tmpl.find("<|im_start|>"), std::string::npos);
  llama_chat_message msgs[] = {{"system", "Be brief."}, {"user", "Hi"}};
  std::string buf(512, '\0');
  const int n = llama_chat_apply_template(tmpl.c_str(), msgs, 2, true, buf.data(), static_cast<int>(buf.size()));
  ASSERT_GT(n, 0) << "llama_chat_apply_template did not recognise the template";
  buf.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(buf, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(rt_->context_length(), 512);
}

TEST_F(LlamaGeneration, SameSeedSameTextDifferentSeedsDiffer) {
  const Generated a = generate(*rt_, sampled(42, 16));
  const Generated b = generate(*rt_, sampled(42, 16));
  ASSERT_FALSE(a.refused || a.error || a.timed_out);
  ASSERT_FALSE(a.text.empty());
  EXPECT_EQ(a.text, b.text);
  int differing = 0;
  for (std::uint32_t seed : {1u, 2u, 3u}) differing += generate(*rt_, sampled(seed, 16)).text != a.text;
  EXPECT_GE(differing, 2) << "different seeds should usually give different text";
}

TEST_F(LlamaGeneration, GreedyRunsAreIdentical) {
  const Generated a = generate(*rt_, greedy("The capital of France is", 16));
  const Generated b = generate(*rt_, greedy("The capital of France is", 16));
  ASSERT_FALSE(a.refused || a.error || a.timed_out);
  EXPECT_EQ(a.text, b.text);
  ASSERT_EQ(a.tokens.size(), b.tokens.size());
  for (std::size_t i = 0; i < a.tokens.size(); ++i) EXPECT_EQ(a.tokens[i].token, b.tokens[i].token);
}

TEST_F(LlamaGeneration, MaxTokensEndsWithLength) {
  const Generated g = generate(*rt_, sampled(7, 9));
  ASSERT_FALSE(g.refused || g.error || g.timed_out);
  EXPECT_EQ(g.prompt_tokens, static_cast<int>(rt_->tokenize("Once upon a time", true).size()));
  if (g.finish == "stop") {  // the model drew its end-of-text token first
    EXPECT_LE(g.completion_tokens, 9);
  } else {
    EXPECT_EQ(g.finish, "length");
    EXPECT_EQ(g.completion_tokens, 9);
    int with_token = 0;
    for (const auto& ev : g.tokens) with_token += ev.token >= 0;
    EXPECT_EQ(with_token, 9);
  }
}

TEST_F(LlamaGeneration, StopStringIsExcludedAndFinishesWithStop) {
  const Generated full = generate(*rt_, greedy("Tell me a story", 24));
  ASSERT_FALSE(full.refused || full.error || full.timed_out);
  // A later token's text makes the stop string; the first occurrence is where the text must end.
  std::string stop;
  for (std::size_t i = full.tokens.size() / 2; i < full.tokens.size() && stop.empty(); ++i)
    if (full.tokens[i].text.size() >= 2) stop = full.tokens[i].text;
  ASSERT_FALSE(stop.empty()) << "no usable token text in: " << full.text;
  const std::string expected = full.text.substr(0, full.text.find(stop));

  GenerationParams p = greedy("Tell me a story", 24);
  p.stop = {stop};
  const Generated g = generate(*rt_, p);
  ASSERT_FALSE(g.refused || g.error || g.timed_out);
  EXPECT_EQ(g.finish, "stop");
  EXPECT_EQ(g.text, expected);  // the concatenated Token texts, stop string excluded
  EXPECT_EQ(g.text.find(stop), std::string::npos);
  EXPECT_LT(g.completion_tokens, 24);
}

TEST_F(LlamaGeneration, SubmitRefusesWhatCannotRun) {
  std::string long_prompt;
  for (int i = 0; i < 300; ++i) long_prompt += "word another ";
  auto r = rt_->submit(greedy(long_prompt, 8), [](serving::GenerationEvent) {});
  ASSERT_TRUE(std::holds_alternative<serving::InferError>(r));
  const auto& e = std::get<serving::InferError>(r);
  EXPECT_EQ(e.cls, ErrorClass::Client);
  EXPECT_NE(e.message.find("tokens; the context holds 512"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.rfind("prompt is ", 0), 0u) << e.message;
  // A prompt that cannot fit whatever its tokens is refused before tokenizing (the byte-count message,
  // not the token-count one): cheap on the event loop that calls submit().
  const std::string huge(1 << 20, 'a');
  auto h = rt_->submit(greedy(huge, 8), [](serving::GenerationEvent) {});
  ASSERT_TRUE(std::holds_alternative<serving::InferError>(h));
  EXPECT_EQ(std::get<serving::InferError>(h).cls, ErrorClass::Client);
  EXPECT_NE(std::get<serving::InferError>(h).message.find("bytes; the context of 512 tokens holds at most"),
            std::string::npos)
      << std::get<serving::InferError>(h).message;

  auto refused = [&](GenerationParams p) {
    auto x = rt_->submit(std::move(p), [](serving::GenerationEvent) {});
    auto* err = std::get_if<serving::InferError>(&x);
    return err && err->cls == ErrorClass::Client;
  };
  EXPECT_TRUE(refused(greedy("hi", 0)));
  EXPECT_TRUE(refused(greedy("hi", 513)));
  EXPECT_TRUE(refused(greedy("hi", 511)));  // 2 prompt tokens + 511 > 512
  GenerationParams p = greedy("hi", 4);
  p.temperature = 2.5f;
  EXPECT_TRUE(refused(p));
  p = greedy("hi", 4);
  p.top_p = 0.0f;
  EXPECT_TRUE(refused(p));
  p = greedy("hi", 4);
  p.top_k = -1;
  EXPECT_TRUE(refused(p));
  p = greedy("hi", 4);
  p.stop = {""};
  EXPECT_TRUE(refused(p));
}

}  // namespace
}  // namespace serval::runtimes::llama
