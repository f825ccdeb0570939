#include "runtimes/ocr/ctc_decoder.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace serval::runtimes::ocr {
namespace {

// Rows of one-hot-ish probabilities: class `c` gets p, the rest share 1 - p.
std::vector<float> steps(const std::vector<int>& classes, int n_classes, float p) {
  std::vector<float> out;
  for (int c : classes)
    for (int k = 0; k < n_classes; ++k) out.push_back(k == c ? p : (1 - p) / static_cast<float>(n_classes - 1));
  return out;
}

TEST(CtcDecoder, MergesRepeatsDropsBlanksAndAppendsSpace) {
  auto cs = CtcCharset::from_keys({"a", "b", "c"});
  ASSERT_EQ(cs.classes(), 5);  // blank a b c space
  EXPECT_EQ(cs.at(4), " ");
  // a a blank a b space c c  ->  "aab c"
  auto probs = steps({1, 1, 0, 1, 2, 4, 3, 3}, 5, 0.9f);
  auto d = ctc_greedy_decode(probs.data(), 8, 5, cs);
  EXPECT_EQ(d.text, "aab c");
  EXPECT_NEAR(d.confidence, 0.9f, 1e-6);
}

TEST(CtcDecoder, AllBlankIsEmptyWithZeroConfidence) {
  auto cs = CtcCharset::from_keys({"a"});
  auto probs = steps({0, 0, 0}, 3, 0.99f);
  auto d = ctc_greedy_decode(probs.data(), 3, 3, cs);
  EXPECT_EQ(d.text, "");
  EXPECT_EQ(d.confidence, 0.0f);
}

TEST(CtcDecoder, ClassCountMismatchThrows) {
  auto cs = CtcCharset::from_keys({"a", "b"});
  auto probs = steps({1}, 5, 0.9f);
  EXPECT_THROW(ctc_greedy_decode(probs.data(), 1, 5, cs), std::runtime_error);
}

TEST(CtcDecoder, LoadsThePaddleOcrKeysFile) {
  auto cs = CtcCharset::load(SERVAL_SOURCE_DIR "/models/ocr/1/keys.txt");
  EXPECT_EQ(cs.keys(), 6623);
  EXPECT_EQ(cs.classes(), 6625);  // the rec model's output width
  EXPECT_EQ(cs.at(1), "'");
  EXPECT_EQ(cs.at(6624), " ");
  EXPECT_THROW(CtcCharset::load("/nonexistent/keys.txt"), std::runtime_error);
}

}  // namespace
}  // namespace serval::runtimes::ocr
