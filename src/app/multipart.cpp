// multipart/form-data parsing (see multipart.hpp). Self-contained (no other serval sources), so the
// fuzz target links this file alone.
#include "serval/app/multipart.hpp"

#include <algorithm>
#include <functional>

namespace serval {

namespace {

// A boundary longer than this is not one a sender would use; it also bounds the searcher's tables.
constexpr std::size_t kMaxBoundary = 200;

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// One `; name=value` parameter of a header value (Content-Type, Content-Disposition).
enum class ParamStep { kDone, kParam, kBad };

ParamStep next_param(std::string_view& s, std::string_view& name, std::string& value) {
  std::size_t i = 0;
  while (i < s.size() && (is_blank(s[i]) || s[i] == ';')) ++i;  // tolerate ";;" and a trailing ';'
  if (i == s.size()) return ParamStep::kDone;
  const std::size_t name_start = i;
  while (i < s.size() && s[i] != '=' && s[i] != ';' && !is_blank(s[i])) ++i;
  name = s.substr(name_start, i - name_start);
  while (i < s.size() && is_blank(s[i])) ++i;
  if (name.empty() || i == s.size() || s[i] != '=') return ParamStep::kBad;
  ++i;
  while (i < s.size() && is_blank(s[i])) ++i;
  value.clear();
  if (i < s.size() && s[i] == '"') {
    // Quoted: \" and \\ are escapes; any other backslash is kept (browsers send C:\path as is).
    ++i;
    for (;;) {
      if (i == s.size()) return ParamStep::kBad;  // unterminated
      const char c = s[i];
      if (c == '"') {
        ++i;
        break;
      }
      if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) {
        value.push_back(s[i + 1]);
        i += 2;
      } else {
        value.push_back(c);
        ++i;
      }
    }
    while (i < s.size() && is_blank(s[i])) ++i;
    if (i < s.size() && s[i] != ';') return ParamStep::kBad;  // text after the closing quote
  } else {
    const std::size_t start = i;
    while (i < s.size() && s[i] != ';') ++i;
    value.assign(trim(s.substr(start, i - start)));
  }
  s.remove_prefix(i);
  return ParamStep::kParam;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset'language'percent-encoded. False when malformed; `out` is empty
// (and true returned) for a charset other than UTF-8 / ISO-8859-1, which the caller ignores.
bool decode_ext_value(std::string_view v, std::string& out, bool& known_charset) {
  const std::size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return false;
  const std::size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return false;
  const std::string_view charset = v.substr(0, q1);
  const bool utf8 = iequals(charset, "utf-8");
  const bool latin1 = iequals(charset, "iso-8859-1");
  known_charset = utf8 || latin1;
  out.clear();
  if (!known_charset) return true;
  const std::string_view text = v.substr(q2 + 1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char byte = static_cast<unsigned char>(text[i]);
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return false;
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return false;
      byte = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
    }
    if (latin1 && byte >= 0x80) {
      out.push_back(static_cast<char>(0xC0 | (byte >> 6)));
      out.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  return true;
}

// "part 2 (\"image\")" for error messages; the name is clipped so an error stays short, and bytes
// other than printable ASCII become '?' so the message is valid UTF-8 whatever the client sent.
std::string describe(std::size_t index, std::string_view name) {
  std::string s = "part " + std::to_string(index + 1);
  if (!name.empty()) {
    s += " (\"";
    for (char c : name.substr(0, 64)) s.push_back(c >= 0x20 && c < 0x7F ? c : '?');
    if (name.size() > 64) s += "...";
    s += "\")";
  }
  return s;
}

// Where a delimiter line was found: the data before it ends at data_end; the next part (or the
// epilogue) starts at next.
struct Delimiter {
  std::size_t data_end = 0;
  std::size_t next = 0;
  bool close = false;
};

class Splitter {
 public:
  Splitter(std::string_view body, std::string_view boundary)
      : body_(body), delim_("\n--" + std::string(boundary)), searcher_(delim_.begin(), delim_.end()) {}
  Splitter(const Splitter&) = delete;  // the searcher points into delim_
  Splitter& operator=(const Splitter&) = delete;

  // The first delimiter: at the very start of the body, or after a line end of the preamble.
  std::optional<Delimiter> first() const {
    const std::string_view dash_boundary = std::string_view(delim_).substr(1);
    if (body_.starts_with(dash_boundary))
      if (auto d = classify(dash_boundary.size())) return d;
    return next_from(0);
  }

  // The first real delimiter line at or after `from` (its leading line end included): "--boundary"
  // then "--", or padding and a line end. Text that merely starts like one is data.
  std::optional<Delimiter> next_from(std::size_t from) const {
    while (from < body_.size()) {
      const auto it = std::search(body_.begin() + static_cast<std::ptrdiff_t>(from), body_.end(), searcher_);
      if (it == body_.end()) return std::nullopt;
      const std::size_t nl = static_cast<std::size_t>(it - body_.begin());
      if (auto d = classify(nl + delim_.size())) {
        d->data_end = (nl > from && body_[nl - 1] == '\r') ? nl - 1 : nl;
        return d;
      }
      from = nl + 1;
    }
    return std::nullopt;
  }

 private:
  // `q` is just after "--boundary".
  std::optional<Delimiter> classify(std::size_t q) const {
    Delimiter d;
    if (body_.substr(q, 2) == "--") {
      d.close = true;
      d.next = q + 2;
      return d;
    }
    while (q < body_.size() && is_blank(body_[q])) ++q;
    if (q < body_.size() && body_[q] == '\n') {
      d.next = q + 1;
    } else if (q + 1 < body_.size() && body_[q] == '\r' && body_[q + 1] == '\n') {
      d.next = q + 2;
    } else {
      return std::nullopt;
    }
    return d;
  }

  std::string_view body_;
  std::string delim_;
  std::boyer_moore_searcher<std::string::const_iterator> searcher_;
};

MultipartResult failed(std::string message, bool limit = false) {
  MultipartResult r;
  r.error = std::move(message);
  r.limit_exceeded = limit;
  return r;
}

// Reads one part's header block starting at `pos`; on success `pos` is the first data byte.
std::string read_headers(std::string_view body, std::size_t& pos, std::size_t index, const MultipartLimits& limits,
                         MultipartResult& r, std::vector<std::pair<std::string, std::string>>& headers) {
  std::size_t used = 0;
  for (;;) {
    const std::size_t budget = limits.max_header_bytes - used;  // used <= max_header_bytes
    const std::string_view window = body.substr(pos, budget < body.size() - pos ? budget : body.size() - pos);
    const std::size_t eol = window.find('\n');
    if (eol == std::string_view::npos) {
      if (window.size() == body.size() - pos) return describe(index, {}) + ": part headers are not terminated by an empty line";
      r.limit_exceeded = true;
      return describe(index, {}) + ": part headers are larger than the limit of " +
             std::to_string(limits.max_header_bytes) + " bytes";
    }
    used += eol + 1;
    std::string_view line = window.substr(0, eol);
    pos += eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return {};
    if (is_blank(line.front())) return describe(index, {}) + ": folded part header lines are not supported";
    for (char c : line)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F)
        return describe(index, {}) + ": control character in a part header";
    const std::size_t colon = line.find(':');
    const std::string_view name = colon == std::string_view::npos ? std::string_view{} : trim(line.substr(0, colon));
    if (name.empty() || std::any_of(name.begin(), name.end(), is_blank))
      return describe(index, {}) + ": malformed part header line";
    std::string lower(name);
    for (char& c : lower) c = to_lower(c);
    headers.emplace_back(std::move(lower), std::string(trim(line.substr(colon + 1))));
  }
}

const std::string* find_header(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.first == name) return &h.second;
  return nullptr;
}

// Fills name / filename from Content-Disposition; an error message when it is missing or malformed.
std::string read_disposition(MultipartPart& part, std::size_t index) {
  const std::string* cd = find_header(part.headers, "content-disposition");
  if (cd == nullptr) return describe(index, {}) + ": no Content-Disposition header";
  std::string_view rest = *cd;
  const std::string_view type = trim(rest.substr(0, rest.find(';')));
  if (!iequals(type, "form-data")) return describe(index, {}) + ": Content-Disposition is not form-data";
  rest.remove_prefix(std::min(rest.size(), rest.find(';')));
  bool has_name = false, has_ext = false;
  std::string_view key;
  std::string value;
  for (;;) {
    const ParamStep step = next_param(rest, key, value);
    if (step == ParamStep::kDone) break;
    if (step == ParamStep::kBad) return describe(index, part.name) + ": malformed Content-Disposition parameters";
    if (iequals(key, "name") && !has_name) {
      part.name = value;
      has_name = true;
    } else if (iequals(key, "filename") && !has_ext && !part.filename) {
      part.filename = value;
    } else if (iequals(key, "filename*") && !has_ext) {
      std::string decoded;
      bool known = false;
      if (!decode_ext_value(value, decoded, known)) return describe(index, part.name) + ": malformed filename* parameter";
      if (known) {
        part.filename = std::move(decoded);
        has_ext = true;
      }
    }
  }
  if (!has_name) return describe(index, {}) + ": Content-Disposition has no name parameter";
  return {};
}

}  // namespace

const MultipartPart* MultipartResult::find(std::string_view name) const noexcept {
  for (const auto& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  std::string_view rest = content_type;
  const std::string_view media = trim(rest.substr(0, rest.find(';')));
  constexpr std::string_view kPrefix = "multipart/";
  if (media.size() <= kPrefix.size() || !iequals(media.substr(0, kPrefix.size()), kPrefix)) return std::nullopt;
  rest.remove_prefix(std::min(rest.size(), rest.find(';')));
  std::string_view key;
  std::string value;
  for (;;) {
    const ParamStep step = next_param(rest, key, value);
    if (step != ParamStep::kParam) return std::nullopt;
    if (!iequals(key, "boundary")) continue;
    // RFC 2046: 1 to 70 characters, not ending in a space. Any printable ASCII is accepted.
    if (value.empty() || value.size() > 70 || value.back() == ' ') return std::nullopt;
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) return std::nullopt;
    return value;
  }
}

MultipartResult parse_multipart(std::string_view body, std::string_view boundary, const MultipartLimits& limits) {
  if (boundary.empty() || boundary.size() > kMaxBoundary ||
      boundary.find_first_of("\r\n") != std::string_view::npos)
    return failed("invalid multipart boundary");
  const Splitter splitter(body, boundary);
  std::optional<Delimiter> d = splitter.first();
  if (!d) return failed("the body does not contain the multipart boundary");
  MultipartResult r;
  while (!d->close) {
    const std::size_t index = r.parts.size();
    if (index >= limits.max_parts)
      return failed("more than " + std::to_string(limits.max_parts) + " parts in the multipart body", true);
    MultipartPart part;
    std::size_t pos = d->next;
    if (std::string err = read_headers(body, pos, index, limits, r, part.headers); !err.empty())
      return failed(std::move(err), r.limit_exceeded);
    if (std::string err = read_disposition(part, index); !err.empty()) return failed(std::move(err));
    d = splitter.next_from(pos);
    if (!d) return failed(describe(index, part.name) + ": missing closing boundary (the body ends inside the part)");
    part.data = body.substr(pos, d->data_end - pos);
    const std::size_t limit = part.filename ? limits.max_part_bytes : std::min(limits.max_part_bytes, limits.max_field_bytes);
    if (part.data.size() > limit)
      return failed(describe(index, part.name) + " is larger than the limit of " + std::to_string(limit) + " bytes", true);
    const std::string* ct = find_header(part.headers, "content-type");
    if (ct != nullptr && !ct->empty()) {
      part.content_type = *ct;
    } else {
      part.content_type = part.filename ? "application/octet-stream" : "text/plain";
    }
    r.parts.push_back(std::move(part));
  }
  return r;
}

}  // namespace serval
