// Text <-> tokens with a model's vocabulary (thread-safe: the vocabulary is read-only).
//
//   std::vector<llama_token> t = tokenize(vocab, "Hello", /*add_special=*/true);  // BOS + tokens
//   std::string s = detokenize(vocab, t);   // "Hello" (BOS not rendered)
//   std::string p = token_piece(vocab, t.back());   // the bytes one generated token adds
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <llama.h>

namespace serval::runtimes::llama {

// Special tokens written in the text (e.g. a chat template's markers) are parsed as such.
std::vector<llama_token> tokenize(const llama_vocab* vocab, std::string_view text, bool add_special);
// Control tokens (BOS, EOS) are not rendered; throws std::invalid_argument on an id outside the vocabulary.
std::string detokenize(const llama_vocab* vocab, const std::vector<llama_token>& tokens);
// The bytes of one token as generation emits them (may be part of a UTF-8 character).
std::string token_piece(const llama_vocab* vocab, llama_token token);

}  // namespace serval::runtimes::llama
