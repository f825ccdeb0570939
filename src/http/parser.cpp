// RequestParser: see parser.hpp for the contract. Everything here treats the buffer as hostile:
// every index is checked against the bytes actually present, every number is overflow-checked,
// and every limit is enforced as soon as the bytes seen so far prove it is exceeded.
#include "serval/http/parser.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace serval::http {
namespace {

using ByteTable = std::array<bool, 256>;

// tchar (RFC 9110 §5.6.2): the bytes of a token, i.e. of a method or a field name.
constexpr ByteTable make_tchar_table() {
  ByteTable t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<unsigned>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<unsigned>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<unsigned>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}

// field-value bytes (RFC 9110 §5.5): HTAB, SP, VCHAR and obs-text. Every other control byte,
// NUL and a lone CR included, is rejected because downstream code may split or log on it.
constexpr ByteTable make_value_table() {
  ByteTable t{};
  t['\t'] = true;
  for (int c = 0x20; c < 0x100; ++c) t[static_cast<unsigned>(c)] = c != 0x7f;
  return t;
}

// request-target bytes: visible ASCII. Bytes >= 0x80 are let through (as nginx does) because some
// clients send raw UTF-8 paths; they are harmless inside a view and the router sees them as-is.
constexpr ByteTable make_target_table() {
  ByteTable t{};
  for (int c = 0x21; c < 0x100; ++c) t[static_cast<unsigned>(c)] = c != 0x7f;
  return t;
}

constexpr ByteTable kTchar = make_tchar_table();
constexpr ByteTable kValueChar = make_value_table();
constexpr ByteTable kTargetChar = make_target_table();

inline bool in(const ByteTable& t, char c) noexcept { return t[static_cast<unsigned char>(c)]; }
inline bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A chunk-size line (CRLF included) is tiny unless it carries extensions; this bounds one.
constexpr std::size_t kMaxChunkLine = 4096;
constexpr std::size_t kNotFound = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kMaxSpan = std::numeric_limits<std::uint32_t>::max();

constexpr std::string_view kMsgBadRequestLine = "Malformed request line";
constexpr std::string_view kMsgBadTarget = "Invalid request target";
constexpr std::string_view kMsgHeadTooLarge = "Request header fields too large";
constexpr std::string_view kMsgBodyTooLarge = "Request body too large";
constexpr std::string_view kMsgBadChunk = "Malformed chunked encoding";

// Returns the first offset in [p, limit) whose byte is not in `table` (or limit). Tables here
// exclude every byte below kBelow and DEL, so 8 bytes at a time can be cleared with SWAR tests;
// only a word holding such a byte (the line's CR, a SP or an HTAB) is looked at bytewise.
template <unsigned kBelow>
std::size_t scan_bytes(const char* base, std::size_t p, std::size_t limit, const ByteTable& table) noexcept {
  static_assert(kBelow <= 0x80, "the SWAR less-than test needs kBelow <= 0x80");
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101u;
    constexpr std::uint64_t kHigh = 0x8080808080808080u;
    while (limit - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, base + p, 8);
      const std::uint64_t del = w ^ (kOnes * 0x7f);
      // Borrows only propagate upwards from a true hit, so the lowest flagged byte is exact.
      const std::uint64_t hits = ((w - kOnes * kBelow) & ~w & kHigh) | ((del - kOnes) & ~del & kHigh);
      if (hits == 0) {
        p += 8;
        continue;
      }
      p += static_cast<std::size_t>(std::countr_zero(hits)) / 8;
      if (!in(table, base[p])) return p;
      ++p;
    }
  }
  while (p < limit && in(table, base[p])) ++p;
  return p;
}

// Why a "name: value" line was rejected; kOk means the Field is set.
enum class FieldError : std::uint8_t { kOk, kObsFold, kBadName, kBadValue };

struct Field {
  std::size_t name_begin, name_end, value_begin, value_end;
  std::size_t line_end;  // the line's CR
};

// Splits and validates the field line starting at `begin`, whose CRLF lies before `limit`. The
// value scan itself finds the line end: the first byte that may not appear in a value must be the
// CR of a CRLF, so a lone CR (or any other CTL) is rejected on the way.
FieldError split_field(const char* base, std::size_t begin, std::size_t limit, Field& f) noexcept {
  // obs-fold: RFC 9112 §5.2 lets a server reject it, and accepting it invites smuggling.
  if (is_ows(base[begin])) return FieldError::kObsFold;
  std::size_t i = begin;
  while (i < limit && in(kTchar, base[i])) ++i;
  // Whitespace between name and ':' must be rejected (RFC 9112 §5.1): proxies disagree on it.
  if (i == begin || i == limit || base[i] != ':') return FieldError::kBadName;
  std::size_t v = i + 1;
  while (v < limit && is_ows(base[v])) ++v;
  std::size_t e = scan_bytes<0x20>(base, v, limit, kValueChar);
  if (limit - e < 2 || base[e] != '\r' || base[e + 1] != '\n') return FieldError::kBadValue;
  f.line_end = e;
  while (e > v && is_ows(base[e - 1])) --e;
  f.name_begin = begin;
  f.name_end = i;
  f.value_begin = v;
  f.value_end = e;
  return FieldError::kOk;
}

// ASCII case-insensitive match against a lowercase literal. `c | 0x20` also maps some CTLs onto
// '-' and digits, but callers only pass validated names and values, which hold no CTLs.
bool equals_lower(std::string_view s, std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (static_cast<char>(s[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(element) for every non-empty, OWS-trimmed element of a comma-separated list (RFC 9110 §5.6.1).
template <class F>
void for_each_element(std::string_view list, F&& f) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// What the framing-relevant headers said, gathered over all header lines.
struct Framing {
  bool has_content_length = false;
  bool bad_content_length = false;
  std::uint64_t content_length = 0;
  bool has_transfer_encoding = false;
  bool unknown_coding = false;
  unsigned chunked_codings = 0;
  bool chunked_last = false;
  bool close = false;
  bool keep_alive = false;
  bool expect_continue = false;
};

// Content-Length = 1*DIGIT. Lists ("5, 5") are rejected rather than reconciled: simpler and safe.
bool parse_content_length(std::string_view v, std::uint64_t& out) noexcept {
  if (v.empty()) return false;
  std::uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
    n = n * 10 + d;
  }
  out = n;
  return true;
}

void note_header(std::string_view name, std::string_view value, Framing& f) noexcept {
  // Dispatch on length first so ordinary headers cost one switch, not four string compares.
  switch (name.size()) {
    case 14:
      if (equals_lower(name, "content-length")) {
        std::uint64_t n = 0;
        if (!parse_content_length(value, n) || (f.has_content_length && n != f.content_length)) {
          f.bad_content_length = true;
        }
        f.has_content_length = true;
        f.content_length = n;
      }
      break;
    case 17:
      if (equals_lower(name, "transfer-encoding")) {
        f.has_transfer_encoding = true;
        for_each_element(value, [&f](std::string_view coding) {
          if (equals_lower(coding, "chunked")) {
            ++f.chunked_codings;
            f.chunked_last = true;
          } else {
            f.unknown_coding = true;
            f.chunked_last = false;
          }
        });
      }
      break;
    case 10:
      if (equals_lower(name, "connection")) {
        for_each_element(value, [&f](std::string_view option) {
          if (equals_lower(option, "close")) f.close = true;
          if (equals_lower(option, "keep-alive")) f.keep_alive = true;
        });
      }
      break;
    case 6:
      if (equals_lower(name, "expect") && equals_lower(value, "100-continue")) f.expect_continue = true;
      break;
    default:
      break;
  }
}

}  // namespace

bool RequestParser::has_body() const noexcept { return chunked_ || content_length_ > 0; }

std::size_t RequestParser::max_head() const noexcept {
  // Head offsets are stored as 32-bit spans; a larger configured limit is clamped.
  return limits_.max_header_bytes < kMaxSpan ? limits_.max_header_bytes : kMaxSpan;
}

ParseStatus RequestParser::fail(int status, std::string_view message) noexcept {
  stage_ = Stage::kError;
  error_status_ = status;
  error_message_ = message;
  return ParseStatus::kError;
}

void RequestParser::reset() noexcept {
  // Field by field rather than `request_ = Request{}`, to keep the vectors' capacity.
  request_.method = Method::kGet;
  request_.method_name = {};
  request_.target = {};
  request_.path = {};
  request_.query = {};
  request_.version_minor = 1;
  request_.headers.clear();
  request_.body = {};
  request_.keep_alive = true;
  request_.path_params.clear();
  request_.route = {};
  stage_ = Stage::kHead;
  line_start_ = line_end_ = scanned_ = header_lines_ = head_len_ = 0;
  content_length_ = 0;
  chunked_ = expect_continue_ = head_reported_ = false;
  chunk_read_ = chunk_write_ = chunk_remaining_ = line_scan_ = trailer_start_ = 0;
  consumed_ = 0;
  error_status_ = 0;
  error_message_ = {};
  method_ = target_ = path_ = query_ = Span{};
  header_spans_.clear();
}

ParseStatus RequestParser::parse(std::span<char> buf) {
  char* const base = buf.data();
  const std::size_t size = buf.size();
  switch (stage_) {
    case Stage::kError:
      return ParseStatus::kError;
    case Stage::kHead: {
      const ParseStatus s = scan_head(base, size);
      if (s != ParseStatus::kComplete) return s;
      const ParseStatus h = parse_head(base);
      if (h != ParseStatus::kComplete) return h;
      break;
    }
    default:
      break;
  }

  if (stage_ == Stage::kBody) {
    if (size < head_len_) return fail(500, "Request buffer shrank between parse calls");
    if (size - head_len_ >= content_length_) {
      consumed_ = head_len_ + content_length_;
      stage_ = Stage::kDone;
    }
  } else if (stage_ != Stage::kDone) {
    if (decode_chunked(base, size) == ParseStatus::kError) return ParseStatus::kError;
  }

  if (stage_ == Stage::kDone) {
    materialize(base);
    return ParseStatus::kComplete;
  }
  if (!head_reported_) {
    head_reported_ = true;
    materialize(base);
    return ParseStatus::kHeadComplete;
  }
  return ParseStatus::kNeedMore;
}

// Looks for the end of the head in the bytes not examined yet. Every LF must follow a CR, which
// also means the terminator is found by checking backwards from each LF: no overlap to rescan.
// The search never looks past where a limit says the line or head must have ended, so the verdict
// (and the work done) is the same whether the bytes come at once or one at a time.
ParseStatus RequestParser::scan_head(const char* base, std::size_t size) {
  if (size < scanned_) return fail(500, "Request buffer shrank between parse calls");
  const std::size_t head_window = size < max_head() ? size : max_head();
  if (line_end_ == 0 && scanned_ == line_start_) {
    // RFC 9112 §2.2: ignore empty lines before the request-line; some clients send a CRLF after
    // a POST body. They count against max_header_bytes, so a stream of them is bounded.
    while (head_window - line_start_ >= 2 && base[line_start_] == '\r' && base[line_start_ + 1] == '\n') {
      line_start_ += 2;
    }
    scanned_ = line_start_;
    if (size - line_start_ == 1 && base[line_start_] == '\r') return head_need_more(size);
  }

  std::size_t pos = scanned_;
  std::size_t window = head_window;
  if (line_end_ == 0 && line_limit() < window) window = line_limit();
  while (pos < window) {
    const void* hit = std::memchr(base + pos, '\n', window - pos);
    if (hit == nullptr) {
      pos = window;
      break;
    }
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
    if (lf == 0 || base[lf - 1] != '\r') return fail(400, "Bare LF in request head");
    pos = lf + 1;
    if (line_end_ == 0) {
      line_end_ = lf - 1;
      window = head_window;
    } else if (base[lf - 2] == '\n') {  // the CRLF before this one ended the previous line
      scanned_ = head_len_ = pos;
      return ParseStatus::kComplete;
    } else if (++header_lines_ > limits_.max_headers) {
      return fail(431, kMsgHeadTooLarge);
    }
  }
  scanned_ = pos;
  return head_need_more(size);
}

// The request line's LF must lie below this offset, or the line is longer than max_request_line.
std::size_t RequestParser::line_limit() const noexcept {
  const std::size_t line_max = limits_.max_request_line;
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  return line_max > kMax - line_start_ - 2 ? kMax : line_start_ + line_max + 2;
}

// The terminator is not there yet; fail now if the bytes already seen break a limit.
ParseStatus RequestParser::head_need_more(std::size_t size) {
  // Every offset where the request line's LF could have been was scanned (the head limit did not
  // cut the scan short), and there was none.
  if (line_end_ == 0 && line_limit() <= max_head() && size >= line_limit()) return fail(414, "URI too long");
  // The head's final LF must lie below max_head(); every such offset was scanned.
  if (size >= max_head()) return fail(431, kMsgHeadTooLarge);
  return ParseStatus::kNeedMore;
}

ParseStatus RequestParser::parse_head(const char* base) {
  if (parse_request_line(base) == ParseStatus::kError) return ParseStatus::kError;

  Framing f;
  header_spans_.clear();
  const std::size_t headers_end = head_len_ - 2;  // the final empty line
  std::size_t pos = line_end_ + 2;
  while (pos < headers_end) {
    Field field{};
    switch (split_field(base, pos, headers_end, field)) {
      case FieldError::kOk:
        break;
      case FieldError::kObsFold:
        return fail(400, "Obsolete header line folding");
      case FieldError::kBadName:
        return fail(400, "Invalid header field name");
      case FieldError::kBadValue:
        return fail(400, "Invalid character in header field value");
    }
    const std::string_view name(base + field.name_begin, field.name_end - field.name_begin);
    const std::string_view value(base + field.value_begin, field.value_end - field.value_begin);
    note_header(name, value, f);
    header_spans_.push_back({Span{static_cast<std::uint32_t>(field.name_begin), static_cast<std::uint32_t>(name.size())},
                             Span{static_cast<std::uint32_t>(field.value_begin), static_cast<std::uint32_t>(value.size())}});
    pos = field.line_end + 2;
  }

  // Framing, RFC 9112 §6.1-6.3. CL together with TE is the classic smuggling vector: refuse it.
  if (f.has_transfer_encoding) {
    if (f.has_content_length) return fail(400, "Both Transfer-Encoding and Content-Length present");
    if (f.unknown_coding) return fail(501, "Unsupported transfer coding");
    if (f.chunked_codings != 1 || !f.chunked_last) return fail(400, "Invalid Transfer-Encoding");
    chunked_ = true;
  } else if (f.has_content_length) {
    if (f.bad_content_length) return fail(400, "Invalid Content-Length");
    if (f.content_length > limits_.max_body) return fail(413, kMsgBodyTooLarge);
    content_length_ = static_cast<std::size_t>(f.content_length);
  }

  const bool http11 = request_.version_minor == 1;
  request_.keep_alive = http11 ? !f.close : (f.keep_alive && !f.close);
  // RFC 9112 §6.1: TE in an HTTP/1.0 request means the framing is suspect; close afterwards.
  if (!http11 && chunked_) request_.keep_alive = false;
  // RFC 9110 §10.1.1: a server must ignore 100-continue in an HTTP/1.0 request.
  expect_continue_ = f.expect_continue && http11 && has_body();

  if (chunked_) {
    stage_ = Stage::kChunkSize;
    chunk_read_ = chunk_write_ = line_scan_ = head_len_;
  } else if (content_length_ > 0) {
    stage_ = Stage::kBody;
  } else {
    stage_ = Stage::kDone;
    consumed_ = head_len_;
  }
  return ParseStatus::kComplete;
}

// request-line = method SP request-target SP HTTP-version, exactly one SP each (RFC 9112 §3).
ParseStatus RequestParser::parse_request_line(const char* base) {
  const std::size_t begin = line_start_;
  const std::size_t end = line_end_;
  std::size_t i = begin;
  while (i < end && in(kTchar, base[i])) ++i;
  if (i == begin || i == end || base[i] != ' ') return fail(400, kMsgBadRequestLine);
  method_ = Span{static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(i - begin)};
  request_.method = method_from_string(std::string_view(base + begin, i - begin));

  const std::size_t target_begin = i + 1;
  const std::size_t t = scan_bytes<0x21>(base, target_begin, end, kTargetChar);
  if (t == target_begin || t == end || base[t] != ' ') {
    return fail(400, t < end && base[t] != ' ' ? kMsgBadTarget : kMsgBadRequestLine);
  }

  // HTTP-version = "HTTP/" DIGIT "." DIGIT; a well-formed version we don't speak is a 505.
  const std::string_view version(base + t + 1, end - t - 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' || version[5] > '9' ||
      version[6] != '.' || version[7] < '0' || version[7] > '9') {
    return fail(400, "Invalid HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return fail(505, "HTTP version not supported");
  }
  request_.version_minor = version[7] - '0';
  return parse_target(base, target_begin, t);
}

ParseStatus RequestParser::parse_target(const char* base, std::size_t begin, std::size_t end) {
  target_ = Span{static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end - begin)};
  const std::string_view target(base + begin, end - begin);
  std::size_t path_begin = begin;

  if (target.front() == '/') {
    // origin-form, the common case
  } else if (target == "*") {
    if (request_.method != Method::kOptions) return fail(400, kMsgBadTarget);
    path_ = target_;
    query_ = Span{};
    return ParseStatus::kComplete;
  } else {
    // absolute-form (RFC 9112 §3.2.2): "http://host/path?query". authority-form (CONNECT) is a
    // proxy feature and is refused along with everything else.
    std::size_t scheme = 0;
    if (target.size() >= 7 && iequals(target.substr(0, 7), "http://")) {
      scheme = 7;
    } else if (target.size() >= 8 && iequals(target.substr(0, 8), "https://")) {
      scheme = 8;
    } else {
      return fail(400, kMsgBadTarget);
    }
    std::size_t a = scheme;
    while (a < target.size() && target[a] != '/' && target[a] != '?') {
      // userinfo is deprecated and a phishing tool (RFC 9110 §4.2.4); '#' cannot be in a target.
      if (target[a] == '@' || target[a] == '#') return fail(400, kMsgBadTarget);
      ++a;
    }
    if (a == scheme) return fail(400, kMsgBadTarget);
    if (a == target.size() || target[a] == '?') {
      // An empty path means "/"; point at the last '/' of "://" so the view stays in the buffer.
      path_ = Span{static_cast<std::uint32_t>(begin + scheme - 1), 1};
      query_ = a == target.size() ? Span{}
                                  : Span{static_cast<std::uint32_t>(begin + a + 1),
                                         static_cast<std::uint32_t>(target.size() - a - 1)};
      return ParseStatus::kComplete;
    }
    path_begin = begin + a;
  }

  const void* q = std::memchr(base + path_begin, '?', end - path_begin);
  if (q == nullptr) {
    path_ = Span{static_cast<std::uint32_t>(path_begin), static_cast<std::uint32_t>(end - path_begin)};
    query_ = Span{};
  } else {
    const auto qpos = static_cast<std::size_t>(static_cast<const char*>(q) - base);
    path_ = Span{static_cast<std::uint32_t>(path_begin), static_cast<std::uint32_t>(qpos - path_begin)};
    query_ = Span{static_cast<std::uint32_t>(qpos + 1), static_cast<std::uint32_t>(end - qpos - 1)};
  }
  return ParseStatus::kComplete;
}

// Returns the offset of the LF ending the line that starts at chunk_read_, or kNotFound when it
// is not among the bytes below min(size, limit); the search resumes where the last call stopped.
// A bare LF is an error: then stage_ == kError.
std::size_t RequestParser::find_line_end(const char* base, std::size_t size, std::size_t limit) {
  const std::size_t from = line_scan_ > chunk_read_ ? line_scan_ : chunk_read_;
  const std::size_t end = size < limit ? size : limit;
  const void* hit = from < end ? std::memchr(base + from, '\n', end - from) : nullptr;
  if (hit == nullptr) {
    if (end > from) line_scan_ = end;
    return kNotFound;
  }
  const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
  if (lf == chunk_read_ || base[lf - 1] != '\r') {
    fail(400, kMsgBadChunk);
    return kNotFound;
  }
  line_scan_ = lf + 1;
  return lf;
}

// Decodes as much of the chunked body as is present, moving data down to chunk_write_ so the
// decoded body ends up contiguous right after the head.
ParseStatus RequestParser::decode_chunked(char* base, std::size_t size) {
  if (size < chunk_read_) return fail(500, "Request buffer shrank between parse calls");
  for (;;) {
    switch (stage_) {
      case Stage::kChunkSize: {
        const std::size_t limit = chunk_read_ + kMaxChunkLine;
        const std::size_t lf = find_line_end(base, size, limit);
        if (stage_ == Stage::kError) return ParseStatus::kError;
        if (lf == kNotFound) {
          if (size >= limit) return fail(400, kMsgBadChunk);
          return ParseStatus::kNeedMore;
        }
        if (chunk_size_line(base, lf) == ParseStatus::kError) return ParseStatus::kError;
        break;
      }
      case Stage::kChunkData: {
        const std::size_t available = size - chunk_read_;
        const std::size_t n = available < chunk_remaining_ ? available : chunk_remaining_;
        if (n == 0) return ParseStatus::kNeedMore;
        if (chunk_write_ != chunk_read_) std::memmove(base + chunk_write_, base + chunk_read_, n);
        chunk_write_ += n;
        chunk_read_ += n;
        chunk_remaining_ -= n;
        if (chunk_remaining_ != 0) return ParseStatus::kNeedMore;
        stage_ = Stage::kChunkDataEnd;
        break;
      }
      case Stage::kChunkDataEnd: {
        const std::size_t available = size - chunk_read_;
        if (available >= 1 && base[chunk_read_] != '\r') return fail(400, kMsgBadChunk);
        if (available >= 2 && base[chunk_read_ + 1] != '\n') return fail(400, kMsgBadChunk);
        if (available < 2) return ParseStatus::kNeedMore;
        chunk_read_ += 2;
        line_scan_ = chunk_read_;
        stage_ = Stage::kChunkSize;
        break;
      }
      case Stage::kTrailers: {
        // The whole trailer section, like a head, must fit in max_header_bytes.
        const std::size_t limit = trailer_start_ + max_head();
        const std::size_t lf = find_line_end(base, size, limit);
        if (stage_ == Stage::kError) return ParseStatus::kError;
        if (lf == kNotFound) {
          if (size >= limit) return fail(431, kMsgHeadTooLarge);
          return ParseStatus::kNeedMore;
        }
        if (trailer_line(base, lf) == ParseStatus::kError) return ParseStatus::kError;
        break;
      }
      default:
        return ParseStatus::kComplete;
    }
  }
}

// chunk = chunk-size [ chunk-ext ] CRLF; the line is [chunk_read_, lf - 1).
ParseStatus RequestParser::chunk_size_line(const char* base, std::size_t lf) {
  const std::size_t end = lf - 1;
  std::size_t p = chunk_read_;
  std::uint64_t size = 0;
  int h = 0;
  while (p < end && (h = hex_value(base[p])) >= 0) {
    // 16 hex digits fill 64 bits exactly, so this bound alone rules out overflow.
    if (p - chunk_read_ == 16) return fail(400, kMsgBadChunk);
    size = (size << 4) | static_cast<std::uint64_t>(h);
    ++p;
  }
  if (p == chunk_read_) return fail(400, kMsgBadChunk);
  while (p < end && is_ows(base[p])) ++p;  // BWS before a chunk-ext
  if (p < end) {
    // Extensions are ignored, but they must not smuggle control bytes.
    if (base[p] != ';') return fail(400, kMsgBadChunk);
    for (++p; p < end; ++p) {
      if (!in(kValueChar, base[p])) return fail(400, kMsgBadChunk);
    }
  }

  const std::size_t decoded = chunk_write_ - head_len_;
  if (size > limits_.max_body - decoded) return fail(413, kMsgBodyTooLarge);
  chunk_read_ = lf + 1;
  // Framing overhead stays in the caller's buffer until the request completes, so bound it too:
  // tiny chunks with long extensions must not let the raw body grow without limit.
  const std::size_t overhead = chunk_read_ - chunk_write_;
  if (overhead > max_head() && overhead - max_head() > limits_.max_body) return fail(413, kMsgBodyTooLarge);
  if (size == 0) {
    stage_ = Stage::kTrailers;
    trailer_start_ = chunk_read_;
  } else {
    chunk_remaining_ = static_cast<std::size_t>(size);
    stage_ = Stage::kChunkData;
  }
  return ParseStatus::kComplete;
}

// trailer-section = *( field-line CRLF ) CRLF. Trailers are validated and dropped: merging them
// into the headers would let a body-time field override a head-time one.
ParseStatus RequestParser::trailer_line(const char* base, std::size_t lf) {
  const std::size_t begin = chunk_read_;
  chunk_read_ = lf + 1;
  if (lf - 1 == begin) {
    consumed_ = chunk_read_;
    stage_ = Stage::kDone;
    return ParseStatus::kComplete;
  }
  Field field{};
  if (split_field(base, begin, lf + 1, field) != FieldError::kOk) return fail(400, "Malformed trailer field");
  return ParseStatus::kComplete;
}

void RequestParser::materialize(const char* base) {
  const auto view = [base](Span s) { return std::string_view(base + s.off, s.len); };
  request_.method_name = view(method_);
  request_.target = view(target_);
  request_.path = view(path_);
  request_.query = query_.len == 0 ? std::string_view{} : view(query_);
  request_.headers.clear();
  for (const auto& [name, value] : header_spans_) request_.headers.push_back(Header{view(name), view(value)});
  std::size_t body_len = 0;
  if (stage_ == Stage::kDone) body_len = chunked_ ? chunk_write_ - head_len_ : content_length_;
  request_.body = body_len == 0 ? std::string_view{} : std::string_view(base + head_len_, body_len);
}

}  // namespace serval::http
