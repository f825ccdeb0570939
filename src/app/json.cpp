// Non-template half of json.hpp: issue reporting, scalar readers, rule checks, the pattern cache and
// the JSON writers. The templates in the header only dispatch on types and call into here, so the
// code every DTO shares is compiled once.
#include "serval/app/json.hpp"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
// GCC 12 with -fsanitize=address reports false -Wmaybe-uninitialized inside libstdc++'s regex
// compiler (GCC bug 105562); the code is not ours and is correct.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>

namespace serval {
namespace detail {
namespace {

// ---- locations and echoed input --------------------------------------------------------------

void append_loc(const Path& p, std::vector<LocItem>& out) {
  if (p.parent != nullptr) append_loc(*p.parent, out);
  switch (p.kind) {
    case Path::Kind::kRoot:
      if (p.prefix != nullptr) out.insert(out.end(), p.prefix->begin(), p.prefix->end());
      break;
    case Path::Kind::kKey:
      out.emplace_back(std::string(p.key));
      break;
    case Path::Kind::kIndex:
      out.emplace_back(p.index);
      break;
  }
}

// Adds an estimate of v's JSON size to `total`; stops early once past `limit`.
void estimate_size(const boost::json::value& v, std::size_t& total, std::size_t limit) {
  if (total > limit) return;
  switch (v.kind()) {
    case boost::json::kind::string:
      total += v.get_string().size() + 2;
      break;
    case boost::json::kind::array:
      total += 2;
      for (const auto& item : v.get_array()) {
        estimate_size(item, total, limit);
        if (total > limit) return;
        ++total;
      }
      break;
    case boost::json::kind::object:
      total += 2;
      for (const auto& kv : v.get_object()) {
        total += kv.key().size() + 4;
        estimate_size(kv.value(), total, limit);
        if (total > limit) return;
      }
      break;
    default:
      total += 8;
      break;
  }
}

// The input to echo, copied into default storage (the DOM it comes from lives in a request-scoped
// buffer). Oversized inputs are echoed as null so hostile bodies cannot multiply memory.
boost::json::value echo(const Input& in) {
  if (in.json == nullptr) {
    if (in.text.size() > ValidationErrors::kMaxEchoBytes) return nullptr;
    return boost::json::value(boost::json::string_view(in.text.data(), in.text.size()));
  }
  std::size_t total = 0;
  estimate_size(*in.json, total, ValidationErrors::kMaxEchoBytes);
  if (total > ValidationErrors::kMaxEchoBytes) return nullptr;
  return boost::json::value(*in.json, boost::json::storage_ptr());
}

void add_issue(ValidationErrors& errs, const Path& path, std::string_view type, std::string msg,
               const Input& input, boost::json::object ctx = {}) {
  if (errs.full()) {
    errs.add(ValidationIssue{});  // counted, not kept
    return;
  }
  ValidationIssue issue;
  issue.type.assign(type);
  issue.loc = to_loc(path);
  issue.msg = std::move(msg);
  issue.input = echo(input);
  issue.ctx = std::move(ctx);
  errs.add(std::move(issue));
}

// ---- numbers in messages and ctx ---------------------------------------------------------------

constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53

bool is_small_integral(double d) { return std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= kExactIntegerLimit; }

// A limit as pydantic prints it: integers without a fractional part.
void append_limit(std::string& s, double d) {
  if (is_small_integral(d)) {
    write_int(s, static_cast<std::int64_t>(d));
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, d);
  s.append(buf, res.ptr);
}

boost::json::value limit_value(double d) {
  if (is_small_integral(d)) return static_cast<std::int64_t>(d);
  return d;
}

void append_size(std::string& s, std::size_t n) { write_uint(s, static_cast<std::uint64_t>(n)); }

void report_bound(ValidationErrors& errs, const Path& path, const Input& input, std::string_view type,
                  std::string_view relation, std::string_view key, double limit) {
  if (errs.full()) {
    errs.add(ValidationIssue{});
    return;
  }
  std::string msg = "Input should be ";
  msg.append(relation);
  msg.push_back(' ');
  append_limit(msg, limit);
  boost::json::object ctx;
  ctx[key] = limit_value(limit);
  add_issue(errs, path, type, std::move(msg), input, std::move(ctx));
}

// The C++ type's own range, reported as if it were declared with ge/le.
void report_type_range(ValidationErrors& errs, const Path& path, const Input& input, bool below, std::int64_t lo,
                       std::uint64_t hi) {
  if (errs.full()) {
    errs.add(ValidationIssue{});
    return;
  }
  std::string msg;
  boost::json::object ctx;
  if (below) {
    msg = "Input should be greater than or equal to ";
    write_int(msg, lo);
    ctx["ge"] = lo;
    add_issue(errs, path, "greater_than_equal", std::move(msg), input, std::move(ctx));
  } else {
    msg = "Input should be less than or equal to ";
    write_uint(msg, hi);
    ctx["le"] = hi;
    add_issue(errs, path, "less_than_equal", std::move(msg), input, std::move(ctx));
  }
}

bool in_type_range(const WideInt& w, std::int64_t lo, std::uint64_t hi, const Path& path, const Input& input,
                   ValidationErrors& errs) {
  if (w.negative ? w.s < lo : w.u > hi) {
    report_type_range(errs, path, input, w.negative, lo, hi);
    return false;
  }
  return true;
}

std::string_view trim(std::string_view t) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
  while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
  return t;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

// ---- UTF-8 ----------------------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or 0.
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = *p;
  if (c < 0x80) return 1;
  const auto avail = static_cast<std::size_t>(end - p);
  const auto cont = [&](std::size_t i) { return (p[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return (avail >= 2 && cont(1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3) return 0;
    const unsigned char c1 = p[1];
    if (c == 0xE0 && c1 < 0xA0) return 0;
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return (cont(1) && cont(2)) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4) return 0;
    const unsigned char c1 = p[1];
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 > 0x8F) return 0;  // beyond U+10FFFF
    return (cont(1) && cont(2) && cont(3)) ? 4 : 0;
  }
  return 0;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const std::size_t n = utf8_sequence(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

// Code points of valid UTF-8: every byte that does not continue a sequence starts one.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// ---- patterns -------------------------------------------------------------------------------

struct CompiledPattern {
  std::regex re;
  bool linear = false;  // Thompson-NFA executor with a [\s\S]* prefix: one pass, no recursion on input
};

std::unique_ptr<CompiledPattern> compile(std::string_view pattern) {
  auto c = std::make_unique<CompiledPattern>();
  try {
    // Compiled as written first, so a pattern is judged valid on its own and not only once wrapped.
    std::regex plain(pattern.begin(), pattern.end(), std::regex::ECMAScript);
#if defined(__GLIBCXX__)
    try {
      std::string wrapped = "[\\s\\S]*(?:";
      wrapped.append(pattern);
      wrapped.push_back(')');
      c->re = std::regex(wrapped, std::regex::ECMAScript | std::regex::nosubs | std::regex_constants::__polynomial);
      c->linear = true;
    } catch (const std::regex_error&) {
      // Back-references: only the backtracking executor can run them.
      c->re = std::move(plain);
    }
#else
    c->re = std::move(plain);
#endif
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("invalid pattern '" + std::string(pattern) + "': " + e.what());
  }
  return c;
}

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using PatternMap = std::unordered_map<std::string, const CompiledPattern*, TransparentHash, std::equal_to<>>;

const CompiledPattern& compiled(std::string_view pattern) {
  // Each thread keeps its own index of the shared, never-freed compilations, so the hot path takes
  // no lock after a pattern's first use on that thread.
  thread_local PatternMap local;
  if (const auto it = local.find(pattern); it != local.end()) return *it->second;

  struct Shared {
    std::mutex mu;
    std::unordered_map<std::string, std::unique_ptr<CompiledPattern>, TransparentHash, std::equal_to<>> map;
  };
  static Shared* const shared = new Shared;  // never destroyed: thread_local indexes may outlive statics
  const CompiledPattern* found = nullptr;
  {
    std::lock_guard lock(shared->mu);
    auto it = shared->map.find(pattern);
    if (it == shared->map.end()) it = shared->map.emplace(std::string(pattern), compile(pattern)).first;
    found = it->second.get();
  }
  local.emplace(std::string(pattern), found);
  return *found;
}

// ---- writing --------------------------------------------------------------------------------

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out.append("\\\""); return;
    case '\\': out.append("\\\\"); return;
    case '\b': out.append("\\b"); return;
    case '\f': out.append("\\f"); return;
    case '\n': out.append("\\n"); return;
    case '\r': out.append("\\r"); return;
    case '\t': out.append("\\t"); return;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, sizeof esc);
    }
  }
}

bool is_number_text_integral(const char* first, const char* last) {
  return std::none_of(first, last, [](char c) { return c == '.' || c == 'e' || c == 'E'; });
}

}  // namespace

std::vector<LocItem> to_loc(const Path& path) {
  std::vector<LocItem> out;
  append_loc(path, out);
  return out;
}

// ---- reporting ------------------------------------------------------------------------------

void report(ValidationErrors& errs, const Path& path, IssueKind kind, const Input& input) {
  struct Text {
    std::string_view type;
    std::string_view msg;
  };
  static constexpr Text kTexts[] = {
      {"missing", "Field required"},
      {"extra_forbidden", "Extra inputs are not permitted"},
      {"bool_type", "Input should be a valid boolean"},
      {"bool_parsing", "Input should be a valid boolean, unable to interpret input"},
      {"int_type", "Input should be a valid integer"},
      {"int_parsing", "Input should be a valid integer, unable to parse string as an integer"},
      {"int_from_float", "Input should be a valid integer, got a number with a fractional part"},
      {"float_type", "Input should be a valid number"},
      {"float_parsing", "Input should be a valid number, unable to parse string as a number"},
      {"finite_number", "Input should be a finite number"},
      {"string_type", "Input should be a valid string"},
      {"string_unicode", "Input should be a valid string, unable to parse raw data as a unicode string"},
      {"list_type", "Input should be a valid list"},
      {"dict_type", "Input should be a valid dictionary"},
      {"model_attributes_type", "Input should be a valid dictionary or object to extract fields from"},
  };
  const Text& t = kTexts[static_cast<std::size_t>(kind)];
  add_issue(errs, path, t.type, std::string(t.msg), input);
}

void report_enum(ValidationErrors& errs, const Path& path, const Input& input, const std::string_view* names,
                 std::size_t count) {
  if (errs.full()) {
    errs.add(ValidationIssue{});
    return;
  }
  // pydantic: 'A', 'B' or 'C'
  std::string expected;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) expected.append(i + 1 == count ? " or " : ", ");
    expected.push_back('\'');
    expected.append(names[i]);
    expected.push_back('\'');
  }
  boost::json::object ctx;
  ctx["expected"] = expected;
  add_issue(errs, path, "enum", "Input should be " + expected, input, std::move(ctx));
}

void report_missing_body(ValidationErrors& errs) {
  ValidationIssue issue;
  issue.type = "missing";
  issue.loc.emplace_back(std::string("body"));
  issue.msg = "Field required";
  errs.add(std::move(issue));
}

// ---- readers --------------------------------------------------------------------------------

bool read_bool(const boost::json::value& v, bool& out, const Path& path, ValidationErrors& errs) {
  if (const bool* b = v.if_bool()) {
    out = *b;
    return true;
  }
  report(errs, path, IssueKind::kBoolType, Input::of(v));
  return false;
}

bool read_int(const boost::json::value& v, WideInt& out, std::int64_t lo, std::uint64_t hi, const Path& path,
              ValidationErrors& errs) {
  const Input input = Input::of(v);
  switch (v.kind()) {
    case boost::json::kind::int64: {
      const std::int64_t i = v.get_int64();
      out.negative = i < 0;
      out.s = i;
      out.u = i < 0 ? 0 : static_cast<std::uint64_t>(i);
      break;
    }
    case boost::json::kind::uint64:
      out.negative = false;
      out.u = v.get_uint64();
      break;
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d)) {
        report(errs, path, IssueKind::kFiniteNumber, input);
        return false;
      }
      if (std::trunc(d) != d) {
        report(errs, path, IssueKind::kIntFromFloat, input);
        return false;
      }
      if (d < -9223372036854775808.0) {
        report_type_range(errs, path, input, true, lo, hi);
        return false;
      }
      if (d >= 18446744073709551616.0) {
        report_type_range(errs, path, input, false, lo, hi);
        return false;
      }
      out.negative = d < 0;
      if (out.negative) {
        out.s = static_cast<std::int64_t>(d);
      } else {
        out.u = static_cast<std::uint64_t>(d);
      }
      break;
    }
    default:
      report(errs, path, IssueKind::kIntType, input);
      return false;
  }
  return in_type_range(out, lo, hi, path, input, errs);
}

bool read_double(const boost::json::value& v, double& out, bool as_float, const Path& path, ValidationErrors& errs) {
  const Input input = Input::of(v);
  switch (v.kind()) {
    case boost::json::kind::int64:
      out = static_cast<double>(v.get_int64());
      break;
    case boost::json::kind::uint64:
      out = static_cast<double>(v.get_uint64());
      break;
    case boost::json::kind::double_:
      out = v.get_double();
      break;
    default:
      report(errs, path, IssueKind::kFloatType, input);
      return false;
  }
  if (!std::isfinite(out) || (as_float && std::fabs(out) > static_cast<double>(FLT_MAX))) {
    report(errs, path, IssueKind::kFiniteNumber, input);
    return false;
  }
  return true;
}

bool read_string(const boost::json::value& v, std::string& out, const Path& path, ValidationErrors& errs) {
  if (const boost::json::string* s = v.if_string()) {
    out.assign(s->data(), s->size());
    return true;
  }
  report(errs, path, IssueKind::kStringType, Input::of(v));
  return false;
}

bool parse_bool_text(std::string_view t, bool& out, const Path& path, ValidationErrors& errs) {
  const std::string_view s = trim(t);
  for (std::string_view yes : {"true", "1", "yes", "on", "t", "y"}) {
    if (iequals(s, yes)) {
      out = true;
      return true;
    }
  }
  for (std::string_view no : {"false", "0", "no", "off", "f", "n"}) {
    if (iequals(s, no)) {
      out = false;
      return true;
    }
  }
  report(errs, path, IssueKind::kBoolParsing, Input::of_text(t));
  return false;
}

bool parse_int_text(std::string_view t, WideInt& out, std::int64_t lo, std::uint64_t hi, const Path& path,
                    ValidationErrors& errs) {
  const Input input = Input::of_text(t);
  std::string_view s = trim(t);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    report(errs, path, IssueKind::kIntParsing, input);
    return false;
  }
  std::uint64_t magnitude = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  constexpr std::uint64_t kMinMagnitude = 9223372036854775808ULL;  // |INT64_MIN|
  if (res.ec == std::errc::result_out_of_range || (negative && magnitude > kMinMagnitude)) {
    report_type_range(errs, path, input, negative, lo, hi);
    return false;
  }
  out = WideInt{};
  if (negative && magnitude != 0) {
    out.negative = true;
    out.s = magnitude == kMinMagnitude ? std::numeric_limits<std::int64_t>::min()
                                       : -static_cast<std::int64_t>(magnitude);
  } else {
    out.u = magnitude;
  }
  return in_type_range(out, lo, hi, path, input, errs);
}

bool parse_double_text(std::string_view t, double& out, bool as_float, const Path& path, ValidationErrors& errs) {
  const Input input = Input::of_text(t);
  std::string_view s = trim(t);
  if (s.size() >= 2 && s.front() == '+' && (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.')) {
    s.remove_prefix(1);
  }
  double d = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), d, std::chars_format::general);
  if (s.empty() || res.ptr != s.data() + s.size() ||
      (res.ec != std::errc() && res.ec != std::errc::result_out_of_range)) {
    report(errs, path, IssueKind::kFloatParsing, input);
    return false;
  }
  if (res.ec == std::errc::result_out_of_range) {
    // Too small rounds to zero; too large is infinite.
    const auto e = s.find_first_of("eE");
    const bool tiny = (e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-') ||
                      s.starts_with("0.") || s.starts_with(".") || s.starts_with("-0.") || s.starts_with("-.");
    if (!tiny) {
      report(errs, path, IssueKind::kFiniteNumber, input);
      return false;
    }
    d = s.front() == '-' ? -0.0 : 0.0;
  }
  if (!std::isfinite(d) || (as_float && std::fabs(d) > static_cast<double>(FLT_MAX))) {
    report(errs, path, IssueKind::kFiniteNumber, input);
    return false;
  }
  out = d;
  return true;
}

bool parse_string_text(std::string_view t, std::string& out, const Path& path, ValidationErrors& errs) {
  if (!valid_utf8(t)) {
    report(errs, path, IssueKind::kStringUnicode, Input::of_text(t));
    return false;
  }
  out.assign(t);
  return true;
}

// ---- rules ----------------------------------------------------------------------------------

namespace {
bool check_bounds(long double x, const Rules& r, const Path& path, const Input& input, ValidationErrors& errs) {
  using L = long double;
  if (r.has_ge && !(x >= static_cast<L>(r.ge_value))) {
    report_bound(errs, path, input, "greater_than_equal", "greater than or equal to", "ge", r.ge_value);
    return false;
  }
  if (r.has_gt && !(x > static_cast<L>(r.gt_value))) {
    report_bound(errs, path, input, "greater_than", "greater than", "gt", r.gt_value);
    return false;
  }
  if (r.has_le && !(x <= static_cast<L>(r.le_value))) {
    report_bound(errs, path, input, "less_than_equal", "less than or equal to", "le", r.le_value);
    return false;
  }
  if (r.has_lt && !(x < static_cast<L>(r.lt_value))) {
    report_bound(errs, path, input, "less_than", "less than", "lt", r.lt_value);
    return false;
  }
  return true;
}
}  // namespace

bool check_int_rules(const WideInt& v, const Rules& r, const Path& path, const Input& input, ValidationErrors& errs) {
  // long double holds every int64/uint64 exactly on the platforms serval targets (x86-64, aarch64).
  const long double x = v.negative ? static_cast<long double>(v.s) : static_cast<long double>(v.u);
  return check_bounds(x, r, path, input, errs);
}

bool check_double_rules(double v, const Rules& r, const Path& path, const Input& input, ValidationErrors& errs) {
  return check_bounds(static_cast<long double>(v), r, path, input, errs);
}

bool check_string_rules(std::string_view s, const Rules& r, const Path& path, const Input& input,
                        ValidationErrors& errs) {
  if (r.has_length()) {
    const std::size_t n = code_points(s);
    if (r.has_min_length && n < r.min_length_value) {
      std::string msg = "String should have at least ";
      append_size(msg, r.min_length_value);
      msg.append(r.min_length_value == 1 ? " character" : " characters");
      boost::json::object ctx;
      ctx["min_length"] = static_cast<std::uint64_t>(r.min_length_value);
      add_issue(errs, path, "string_too_short", std::move(msg), input, std::move(ctx));
      return false;
    }
    if (r.has_max_length && n > r.max_length_value) {
      std::string msg = "String should have at most ";
      append_size(msg, r.max_length_value);
      msg.append(r.max_length_value == 1 ? " character" : " characters");
      boost::json::object ctx;
      ctx["max_length"] = static_cast<std::uint64_t>(r.max_length_value);
      add_issue(errs, path, "string_too_long", std::move(msg), input, std::move(ctx));
      return false;
    }
  }
  if (r.has_pattern() && !pattern_matches(r.pattern_text.view(), s)) {
    std::string msg = "String should match pattern '";
    msg.append(r.pattern_text.view());
    msg.push_back('\'');
    boost::json::object ctx;
    ctx["pattern"] = r.pattern_text.view();
    add_issue(errs, path, "string_pattern_mismatch", std::move(msg), input, std::move(ctx));
    return false;
  }
  return true;
}

bool check_length_rules(std::size_t n, bool is_list, const Rules& r, const Path& path, const Input& input,
                        ValidationErrors& errs) {
  const std::string_view field_type = is_list ? "List" : "Dictionary";
  const auto report_length = [&](std::string_view type, std::string_view relation, std::string_view key,
                                 std::size_t limit) {
    std::string msg(field_type);
    msg.append(" should have ");
    msg.append(relation);
    msg.push_back(' ');
    append_size(msg, limit);
    msg.append(limit == 1 ? " item" : " items");
    msg.append(" after validation, not ");
    append_size(msg, n);
    boost::json::object ctx;
    ctx["field_type"] = field_type;
    ctx[key] = static_cast<std::uint64_t>(limit);
    ctx["actual_length"] = static_cast<std::uint64_t>(n);
    add_issue(errs, path, type, std::move(msg), input, std::move(ctx));
  };
  if (r.has_min_length && n < r.min_length_value) {
    report_length("too_short", "at least", "min_length", r.min_length_value);
    return false;
  }
  if (r.has_max_length && n > r.max_length_value) {
    report_length("too_long", "at most", "max_length", r.max_length_value);
    return false;
  }
  return true;
}

bool pattern_matches(std::string_view pattern, std::string_view s) {
  if (s.size() > kMaxPatternInput) return false;
  const CompiledPattern& p = compiled(pattern);
  if (!p.linear && s.size() > kMaxBacktrackingPatternInput) return false;
  try {
    const auto flags = p.linear ? std::regex_constants::match_continuous : std::regex_constants::match_default;
    return std::regex_search(s.begin(), s.end(), p.re, flags);
  } catch (const std::regex_error&) {
    return false;  // the executor gave up (complexity): treat as no match
  }
}

void compile_pattern(std::string_view pattern) { (void)compiled(pattern); }

void check_field_pattern(std::string_view field, std::string_view pattern) {
  try {
    compile_pattern(pattern);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("serval: field '" + std::string(field) + "': " + e.what());
  }
}

// ---- writers --------------------------------------------------------------------------------

void write_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void write_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void write_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out.append("null");
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
  // Keep doubles recognisable as such (Python writes 3.0), so they read back as doubles.
  if (is_number_text_integral(buf, res.ptr)) out.append(".0");
}

void write_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out.append("null");
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
  if (is_number_text_integral(buf, res.ptr)) out.append(".0");
}

void write_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out.append("null");
      break;
    case boost::json::kind::bool_:
      out.append(v.get_bool() ? "true" : "false");
      break;
    case boost::json::kind::int64:
      write_int(out, v.get_int64());
      break;
    case boost::json::kind::uint64:
      write_uint(out, v.get_uint64());
      break;
    case boost::json::kind::double_:
      write_double(out, v.get_double());
      break;
    case boost::json::kind::string: {
      const auto& s = v.get_string();
      write_json_string(out, std::string_view(s.data(), s.size()));
      break;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        write_value(out, item);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        write_json_string(out, std::string_view(kv.key().data(), kv.key().size()));
        out.push_back(':');
        write_value(out, kv.value());
      }
      out.push_back('}');
      break;
    }
  }
}

// ---- body parsing ---------------------------------------------------------------------------

DomHandler::DomHandler(boost::json::storage_ptr sp, unsigned char* temp, std::size_t temp_size)
    : st(std::move(sp), temp, temp_size) {}
bool DomHandler::on_document_begin(boost::json::error_code&) { return true; }
bool DomHandler::on_document_end(boost::json::error_code&) { return true; }
bool DomHandler::on_object_begin(boost::json::error_code&) { return true; }
bool DomHandler::on_object_end(std::size_t n, boost::json::error_code&) {
  st.push_object(n);
  return true;
}
bool DomHandler::on_array_begin(boost::json::error_code&) { return true; }
bool DomHandler::on_array_end(std::size_t n, boost::json::error_code&) {
  st.push_array(n);
  return true;
}
bool DomHandler::on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
  st.push_chars(s);
  return true;
}
bool DomHandler::on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
  st.push_key(s);
  return true;
}
bool DomHandler::on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
  st.push_chars(s);
  return true;
}
bool DomHandler::on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
  st.push_string(s);
  return true;
}
bool DomHandler::on_number_part(boost::json::string_view s, boost::json::error_code&) {
  number.append(s.data(), s.size());
  return true;
}
bool DomHandler::on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code&) {
  number.clear();
  st.push_int64(i);
  return true;
}
bool DomHandler::on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code&) {
  number.clear();
  st.push_uint64(u);
  return true;
}
bool DomHandler::on_double(double d, boost::json::string_view s, boost::json::error_code&) {
  std::string_view text(s.data(), s.size());
  if (!number.empty()) {
    number.append(text);
    text = number;
  }
  double precise = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), precise);
  // Out of range: keep Boost's answer (an infinity, or a zero for underflow).
  if (res.ec == std::errc() && res.ptr == text.data() + text.size()) d = precise;
  number.clear();
  st.push_double(d);
  return true;
}
bool DomHandler::on_bool(bool b, boost::json::error_code&) {
  st.push_bool(b);
  return true;
}
bool DomHandler::on_null(boost::json::error_code&) {
  st.push_null();
  return true;
}
bool DomHandler::on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
bool DomHandler::on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

namespace {
boost::json::parse_options options_with_depth(std::size_t depth) {
  boost::json::parse_options opt;
  opt.max_depth = depth;
  return opt;
}

// One complete JSON text with `parser`; returns the bytes consumed (the error offset on failure).
std::size_t parse_complete(boost::json::basic_parser<DomHandler>& parser, std::string_view text,
                           boost::json::error_code& ec) {
  std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) {
    ec = boost::json::error::extra_data;  // n is past any whitespace: the first extra byte
  }
  return n;
}
}  // namespace

BodyParser::BodyParser()
    : resource_(dom_buffer_, sizeof dom_buffer_),
      parser_(options_with_depth(kMaxJsonDepth), boost::json::storage_ptr(), temp_buffer_, sizeof temp_buffer_),
      value_(boost::json::storage_ptr(&resource_)) {}

BodyParser::~BodyParser() = default;

const boost::json::value* BodyParser::parse(std::string_view body, ValidationErrors& errs) {
  parser_.reset();
  parser_.handler().st.reset(boost::json::storage_ptr(&resource_));
  boost::json::error_code ec;
  const std::size_t consumed = parse_complete(parser_, body, ec);
  if (!ec) {
    value_ = parser_.handler().st.release();  // same storage: moves, no copy
    return &value_;
  }
  // FastAPI: {"type":"json_invalid","loc":["body",pos],"msg":"JSON decode error","input":{},"ctx":{"error":...}}
  ValidationIssue issue;
  issue.type = "json_invalid";
  issue.loc.emplace_back(std::string("body"));
  issue.loc.emplace_back(static_cast<std::int64_t>(std::min(consumed, body.size())));
  issue.msg = "JSON decode error";
  issue.input = boost::json::object();
  issue.ctx["error"] = ec.message();
  errs.add(std::move(issue));
  return nullptr;
}

namespace {
boost::json::value parse_precise(std::string_view text) {
  // Values built in code may nest deeper than request bodies may.
  boost::json::basic_parser<DomHandler> parser(options_with_depth(1024), boost::json::storage_ptr(), nullptr, 0);
  boost::json::error_code ec;
  parse_complete(parser, text, ec);
  if (ec) throw std::logic_error("serval::parse_json_value: " + ec.message());
  return parser.handler().st.release();
}
}  // namespace

}  // namespace detail

// ---- public non-templates --------------------------------------------------------------------

void write_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* run = p;  // start of bytes not yet copied
  const auto flush = [&](const unsigned char* upto) {
    out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(upto - run));
  };
  while (p < end) {
    const unsigned char c = *p;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t n = detail::utf8_sequence(p, end);
      if (n != 0) {
        p += n;
        continue;
      }
      flush(p);
      out.append("\xEF\xBF\xBD");  // U+FFFD for each byte that is not valid UTF-8
      run = ++p;
      continue;
    }
    flush(p);
    detail::append_escape(out, c);
    run = ++p;
  }
  flush(p);
  out.push_back('"');
}

boost::json::value parse_json_value(std::string_view text) { return detail::parse_precise(text); }

}  // namespace serval
