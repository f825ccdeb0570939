#include "runtimes/llama/text_assembler.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace serval::runtimes::llama {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(LlamaTextAssembler, PlainTextPassesAtOnce) {
  TextAssembler t;
  EXPECT_EQ(t.push("Hello"), "Hello");
  EXPECT_EQ(t.push(" world"), " world");
  EXPECT_EQ(t.finish(), "");
  EXPECT_FALSE(t.stopped());
}

TEST(LlamaTextAssembler, HoldsASplitCharacterUntilComplete) {
  TextAssembler t;
  EXPECT_EQ(t.push("a\xE2\x82"), "a");
  EXPECT_EQ(t.push("\xAC!"), "\xE2\x82\xAC!");  // U+20AC EURO SIGN
  EXPECT_EQ(t.push("\xF0\x9F"), "");
  EXPECT_EQ(t.push("\x98"), "");
  EXPECT_EQ(t.push("\x80"), "\xF0\x9F\x98\x80");
}

TEST(LlamaTextAssembler, InvalidBytesBecomeReplacementCharacters) {
  TextAssembler t;
  EXPECT_EQ(t.push("\xFF" "a"), kFffd + "a");
  EXPECT_EQ(t.push("\xE2\x82" "b"), kFffd + "b");  // truncated sequence, then ASCII
  EXPECT_EQ(t.push("\xC0\xAF"), kFffd + kFffd);    // overlong lead, lone continuation
  EXPECT_EQ(t.push("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate: never valid
  EXPECT_EQ(t.push("\xE2\x82"), "");
  EXPECT_EQ(t.finish(), kFffd);  // incomplete at the end
}

TEST(LlamaTextAssembler, StopStringAcrossPiecesIsExcluded) {
  TextAssembler t({"END"});
  EXPECT_EQ(t.push("abcE"), "abc");
  EXPECT_EQ(t.push("N"), "");
  EXPECT_EQ(t.push("Dxyz"), "");
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(t.push("more"), "");
  EXPECT_EQ(t.finish(), "");
}

TEST(LlamaTextAssembler, FalseStartIsReleased) {
  TextAssembler t({"END", "\n\n"});
  EXPECT_EQ(t.push("xE"), "x");
  EXPECT_EQ(t.push("Nx\n"), "ENx");
  EXPECT_EQ(t.push("y"), "\ny");
  EXPECT_EQ(t.push("E"), "");
  EXPECT_EQ(t.finish(), "E");  // the end releases a pending prefix
  EXPECT_FALSE(t.stopped());
}

TEST(LlamaTextAssembler, EarliestOfSeveralStopsWins) {
  TextAssembler t({"cd", "b"});
  EXPECT_EQ(t.push("abcd"), "a");
  EXPECT_TRUE(t.stopped());
}

TEST(LlamaTextAssembler, ConcatenationEqualsTextBeforeStop) {
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"a", "b", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "S", "T"};
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
    const std::string stop = (round % 3 == 0) ? "S\xE2\x82\xAC" : (round % 3 == 1 ? "TT" : "a\xC3\xA9 ");
    const auto at = text.find(stop);
    const std::string expected = at == std::string::npos ? text : text.substr(0, at);

    TextAssembler t({stop});
    std::string got;
    std::size_t i = 0;
    while (i < text.size()) {  // random byte-level pieces, splitting characters too
      const std::size_t len = 1 + rng() % 5;
      got += t.push(std::string_view(text).substr(i, len));
      i += len;
    }
    got += t.finish();
    EXPECT_EQ(got, expected) << "round " << round;
    EXPECT_EQ(t.stopped(), at != std::string::npos);
  }
}

}  // namespace
}  // namespace serval::runtimes::llama
