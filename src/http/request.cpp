// Request helpers: method names, case-insensitive header lookup, percent-decoding and query lookup.
#include "serval/http/request.hpp"

namespace serval::http {
namespace {

inline char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `s` needs no decoding, so it can be compared in place without touching a buffer.
inline bool is_plain(std::string_view s) noexcept {
  return s.find_first_of("%+") == std::string_view::npos;
}

}  // namespace

Method method_from_string(std::string_view m) noexcept {
  // Methods are case-sensitive (RFC 9110 §9.1): "get" is an unknown method, not GET.
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::kGet;
      if (m == "PUT") return Method::kPut;
      break;
    case 4:
      if (m == "POST") return Method::kPost;
      if (m == "HEAD") return Method::kHead;
      break;
    case 5:
      if (m == "PATCH") return Method::kPatch;
      if (m == "TRACE") return Method::kTrace;
      break;
    case 6:
      if (m == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (m == "OPTIONS") return Method::kOptions;
      if (m == "CONNECT") return Method::kConnect;
      break;
    default:
      break;
  }
  return Method::kOther;
}

std::string_view to_string(Method m) noexcept {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kPatch: return "PATCH";
    case Method::kOptions: return "OPTIONS";
    case Method::kTrace: return "TRACE";
    case Method::kConnect: return "CONNECT";
    case Method::kOther: break;
  }
  return "OTHER";
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view Request::header(std::string_view name) const noexcept {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

bool Request::has_header(std::string_view name) const noexcept {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

std::string_view Request::path_param(std::string_view name) const noexcept {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return {};
}

bool percent_decode(std::string_view in, std::string& out, bool plus_as_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
      if (lo < 0) {
        out.clear();
        return false;
      }
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

bool query_param(std::string_view query, std::string_view name, std::string& value) {
  // Pairs are separated by '&' (and ';', which older HTML forms used).
  while (!query.empty()) {
    const std::size_t sep = query.find_first_of("&;");
    const std::string_view pair = query.substr(0, sep);
    query.remove_prefix(sep == std::string_view::npos ? query.size() : sep + 1);
    if (pair.empty()) continue;

    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    // `value` doubles as the scratch buffer for decoding keys, so a lookup allocates at most once.
    const bool match = is_plain(key) ? key == name
                                     : (percent_decode(key, value, /*plus_as_space=*/true) && value == name);
    if (!match) continue;
    // The first match decides: a malformed value means the parameter is unusable, not absent-but-later.
    return percent_decode(raw, value, /*plus_as_space=*/true);
  }
  value.clear();
  return false;
}

}  // namespace serval::http
