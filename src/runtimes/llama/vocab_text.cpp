#include "runtimes/llama/vocab_text.hpp"

#include <limits>
#include <stdexcept>

namespace serval::runtimes::llama {

std::vector<llama_token> tokenize(const llama_vocab* vocab, std::string_view text, bool add_special) {
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max() / 2))
    throw std::length_error("text too long to tokenize");
  const auto len = static_cast<int32_t>(text.size());
  std::vector<llama_token> out(static_cast<std::size_t>(len) + 2);
  int32_t n = llama_tokenize(vocab, text.data(), len, out.data(), static_cast<int32_t>(out.size()), add_special, true);
  if (n < 0) {
    if (n == std::numeric_limits<int32_t>::min()) throw std::length_error("text too long to tokenize");
    out.resize(static_cast<std::size_t>(-n));
    n = llama_tokenize(vocab, text.data(), len, out.data(), static_cast<int32_t>(out.size()), add_special, true);
    if (n < 0) throw std::runtime_error("llama_tokenize failed");
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string detokenize(const llama_vocab* vocab, const std::vector<llama_token>& tokens) {
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  for (llama_token t : tokens)
    if (t < 0 || t >= n_vocab)
      throw std::invalid_argument("token " + std::to_string(t) + " is outside the vocabulary (0.." +
                                  std::to_string(n_vocab - 1) + ")");
  // A leading BOS is dropped here rather than by llama_detokenize, which would then keep the
  // space SentencePiece put before the first word: detokenize(tokenize(x, true)) == x.
  std::size_t skip = 0;
  while (skip < tokens.size() && tokens[skip] == llama_vocab_bos(vocab)) ++skip;
  const llama_token* first = tokens.data() + skip;
  const auto n_tokens = static_cast<int32_t>(tokens.size() - skip);
  std::string out(tokens.size() * 8 + 16, '\0');
  int32_t n = llama_detokenize(vocab, first, n_tokens, out.data(), static_cast<int32_t>(out.size()), true, false);
  if (n < 0) {
    out.resize(static_cast<std::size_t>(-n));
    n = llama_detokenize(vocab, first, n_tokens, out.data(), static_cast<int32_t>(out.size()), true, false);
    if (n < 0) throw std::runtime_error("llama_detokenize failed");
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string token_piece(const llama_vocab* vocab, llama_token token) {
  char buf[256];
  int32_t n = llama_token_to_piece(vocab, token, buf, sizeof buf, 0, false);
  if (n >= 0) return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(-n), '\0');
  n = llama_token_to_piece(vocab, token, big.data(), static_cast<int32_t>(big.size()), 0, false);
  big.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return big;
}

}  // namespace serval::runtimes::llama
