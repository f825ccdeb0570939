#include "runtimes/ocr/ctc_decoder.hpp"

#include <fstream>
#include <stdexcept>

namespace serval::runtimes::ocr {

CtcCharset CtcCharset::load(const std::filesystem::path& keys_file) {
  std::ifstream in(keys_file, std::ios::binary);
  if (!in) throw std::runtime_error("ocr: cannot open the keys file " + keys_file.string());
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    keys.push_back(line);
  }
  if (keys.empty()) throw std::runtime_error("ocr: the keys file " + keys_file.string() + " is empty");
  return from_keys(std::move(keys));
}

CtcCharset CtcCharset::from_keys(std::vector<std::string> keys) {
  CtcCharset cs;
  cs.chars_.reserve(keys.size() + 2);
  cs.chars_.emplace_back();  // blank
  for (auto& k : keys) cs.chars_.push_back(std::move(k));
  cs.chars_.emplace_back(" ");
  return cs;
}

DecodedText ctc_greedy_decode(const float* probs, int steps, int classes, const CtcCharset& charset) {
  if (classes != charset.classes())
    throw std::runtime_error("ocr: the recogniser gives " + std::to_string(classes) + " classes but the keys file has " +
                             std::to_string(charset.keys()) + " keys (+ blank + space = " +
                             std::to_string(charset.classes()) + ")");
  DecodedText out;
  double sum = 0;
  int kept = 0;
  int prev = -1;
  for (int t = 0; t < steps; ++t) {
    const float* row = probs + static_cast<std::size_t>(t) * classes;
    int best = 0;
    for (int c = 1; c < classes; ++c)
      if (row[c] > row[best]) best = c;
    if (best != 0 && best != prev) {
      out.text += charset.at(best);
      sum += row[best];
      ++kept;
    }
    prev = best;
  }
  out.confidence = kept ? static_cast<float>(sum / kept) : 0.0f;
  return out;
}

}  // namespace serval::runtimes::ocr
