#include "runtimes/llama/text_assembler.hpp"

#include <algorithm>
#include <utility>

namespace serval::runtimes::llama {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the sequence a lead byte starts, 0 for a byte that cannot start one.
int sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Whether the second byte is allowed after this lead (no overlongs, surrogates or > U+10FFFF).
bool second_ok(unsigned char lead, unsigned char c) {
  if (!is_cont(c)) return false;
  if (lead == 0xE0) return c >= 0xA0;
  if (lead == 0xED) return c <= 0x9F;
  if (lead == 0xF0) return c >= 0x90;
  if (lead == 0xF4) return c <= 0x8F;
  return true;
}

// Longest suffix of `text` that is a proper prefix of some stop string.
std::size_t stop_prefix_tail(std::string_view text, const std::vector<std::string>& stops) {
  std::size_t best = 0;
  for (const auto& s : stops) {
    const std::size_t max = std::min(text.size(), s.size() - 1);
    for (std::size_t n = max; n > best; --n) {
      if (text.substr(text.size() - n) == std::string_view(s).substr(0, n)) {
        best = n;
        break;
      }
    }
  }
  return best;
}

}  // namespace

std::size_t append_valid_utf8(std::string_view in, std::string& out, bool keep_tail) {
  std::size_t i = 0;
  while (i < in.size()) {
    const auto lead = static_cast<unsigned char>(in[i]);
    const int len = sequence_length(lead);
    if (len == 1) {
      out += in[i++];
      continue;
    }
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    // Count the bytes of this sequence that are valid so far.
    std::size_t ok = 1;
    while (ok < static_cast<std::size_t>(len) && i + ok < in.size()) {
      const auto c = static_cast<unsigned char>(in[i + ok]);
      if (ok == 1 ? !second_ok(lead, c) : !is_cont(c)) break;
      ++ok;
    }
    if (ok == static_cast<std::size_t>(len)) {
      out.append(in.substr(i, ok));
      i += ok;
    } else if (i + ok == in.size() && keep_tail) {
      return ok;  // incomplete at the end: more bytes may come
    } else {
      out += kReplacement;  // truncated sequence: one U+FFFD, resume at the offending byte
      i += ok;
    }
  }
  return 0;
}

TextAssembler::TextAssembler(std::vector<std::string> stop) {
  for (auto& s : stop)
    if (!s.empty()) stop_.push_back(std::move(s));
}

std::string TextAssembler::push(std::string_view piece) {
  if (stopped_) return {};
  raw_.append(piece);
  std::string decoded;
  const std::size_t keep = append_valid_utf8(raw_, decoded, true);
  raw_.erase(0, raw_.size() - keep);
  pending_ += decoded;
  return release(false);
}

std::string TextAssembler::finish() {
  if (stopped_) return {};
  std::string decoded;
  append_valid_utf8(raw_, decoded, false);
  raw_.clear();
  pending_ += decoded;
  return release(true);
}

std::string TextAssembler::release(bool at_end) {
  // The earliest stop string in the pending text ends it (nothing before `pending_` can hold one:
  // a possible start was never released).
  std::size_t cut = std::string::npos;
  for (const auto& s : stop_) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    pending_.clear();
    raw_.clear();
    return out;
  }
  const std::size_t hold = at_end ? 0 : stop_prefix_tail(pending_, stop_);
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

}  // namespace serval::runtimes::llama
