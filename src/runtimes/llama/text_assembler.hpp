// TextAssembler: turns the byte pieces of generated tokens into the text a client may see now.
//
// A token's piece can end in the middle of a UTF-8 character (byte-fallback tokens) and the end
// of the text so far can be the start of a stop string. The assembler holds both back until they
// resolve, replaces bytes that can never form valid UTF-8 with U+FFFD, and cuts the text at the
// first stop string. The concatenation of everything push() and finish() return is exactly the
// final text, the stop string excluded.
//
//   TextAssembler t({"\n\n"});
//   std::string a = t.push("Hello\n");   // "Hello" ("\n" may start the stop string)
//   std::string b = t.push("\nmore");    // "" and t.stopped() == true
//   std::string c = t.finish();          // "" (nothing held back after a stop)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace serval::runtimes::llama {

class TextAssembler {
 public:
  explicit TextAssembler(std::vector<std::string> stop = {});

  // Adds a token's bytes; returns the text that is now certain. Once stopped(), returns "".
  std::string push(std::string_view piece);
  // Ends the text (max_tokens or end of generation): returns whatever was held back, an
  // incomplete UTF-8 tail becoming U+FFFD. Returns "" after a stop string.
  std::string finish();
  bool stopped() const noexcept { return stopped_; }

 private:
  std::string release(bool at_end);

  std::vector<std::string> stop_;
  std::string raw_;      // bytes not yet decoded (an incomplete UTF-8 sequence at most)
  std::string pending_;  // valid UTF-8 not yet emitted (could start a stop string)
  bool stopped_ = false;
};

// Appends `in` to `out` as valid UTF-8: invalid bytes become U+FFFD. When `keep_tail` is true, an
// incomplete but so far valid sequence at the end is not decoded: its length is returned so the
// caller can keep those bytes for later. Returns 0 when everything was consumed.
std::size_t append_valid_utf8(std::string_view in, std::string& out, bool keep_tail);

}  // namespace serval::runtimes::llama
