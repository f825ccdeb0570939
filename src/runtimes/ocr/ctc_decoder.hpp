// CTC greedy decoding for the recogniser: per time step take the most likely class, merge repeats,
// drop blanks, and map classes to characters. The charset is PaddleOCR's: class 0 is the blank, then
// one class per line of keys.txt, then a space (use_space_char).
//
//   CtcCharset cs = CtcCharset::load("models/ocr/1/keys.txt");   // throws std::runtime_error
//   DecodedText t = ctc_greedy_decode(probs, steps, cs.classes(), cs);  // probs: steps x classes
//   // t.text == "Serval reads 42 lines", t.confidence == mean max-probability of the kept steps
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace serval::runtimes::ocr {

class CtcCharset {
 public:
  // One key per line (UTF-8, a trailing "\r" is dropped; the last line may lack "\n").
  static CtcCharset load(const std::filesystem::path& keys_file);
  static CtcCharset from_keys(std::vector<std::string> keys);

  // blank + keys + space.
  int classes() const noexcept { return static_cast<int>(chars_.size()); }
  int keys() const noexcept { return classes() - 2; }
  const std::string& at(int cls) const { return chars_.at(static_cast<std::size_t>(cls)); }

 private:
  std::vector<std::string> chars_;
};

struct DecodedText {
  std::string text;
  float confidence = 0;  // mean of the kept steps' max probability; 0 when nothing is kept
};

// `probs` holds steps x classes softmax outputs, row-major; `classes` must equal charset.classes().
DecodedText ctc_greedy_decode(const float* probs, int steps, int classes, const CtcCharset& charset);

}  // namespace serval::runtimes::ocr
