// JSON <-> typed values, driven by the declarations in schema.hpp, with pydantic-v2-shaped errors.
//
//   ClassifyIn in;
//   serval::ValidationErrors errs;
//   if (!serval::parse_json_body(request_body, in, errs)) return reply(422, errs.to_json());
//   std::string out = serval::to_json(ClassifyOut{"spam", 0.97});   // {"label":"spam","score":0.97}
//
// Parsing collects every issue (not just the first), each with its full location ("loc"): field
// names, map keys and list indices, prefixed by "body" for request bodies.
//
// Type strictness in JSON input (pydantic's lax mode minus string coercions):
//   bool            true/false only                                   else bool_type
//   integers        JSON integers, and floats with an integral value  else int_type / int_from_float
//                   (1.0 -> 1); outside the C++ type's range the error names the bound, as if the type
//                   carried ge/le rules: greater_than_equal / less_than_equal with ctx {"ge"|"le": bound}
//   float, double   JSON numbers (integers too); an infinite value    else float_type / finite_number
//                   (1e999, or beyond float's range for float) is refused
//   std::string     JSON strings only (no numbers)                    else string_type
//   enums           one of the declared names, case-sensitive         else enum
//   std::vector     JSON arrays                                       else list_type
//   maps            JSON objects                                      else dict_type
//   structs         JSON objects                                      else model_attributes_type
//   std::optional   null -> nullopt; omitted -> the member is left as it is (its default)
//   boost::json::value  anything, unvalidated
// A member that is omitted from the input keeps its current value, so parse into a
// default-constructed object. Unknown input fields are ignored unless the schema says forbid_extra().
// Rules on a std::optional apply to the value inside; rules on a list or map count its items.
//
// Bodies are parsed with Boost.JSON into a DOM held in a 4 KiB stack buffer (larger bodies spill to
// the heap), nesting at most kMaxJsonDepth deep, and every double is re-read with std::from_chars
// because Boost 1.81's own conversion is not correctly rounded.
//
// Patterns use std::regex (ECMAScript, byte-oriented: '.' matches one byte of UTF-8), compiled
// once per distinct pattern and cached. With libstdc++ they run on its non-backtracking (Thompson
// NFA) executor, prefixed with [\s\S]* so one linear pass finds a match anywhere: no recursion on
// the input length, no exponential blow-up. Patterns with back-references need the backtracking
// executor, which recurses once per input character, so they are only tried on strings up to
// kMaxBacktrackingPatternInput bytes. Either way a string longer than kMaxPatternInput bytes fails
// the pattern rule: declare a max_length on such fields. Call validate_schema<T>() at start-up so
// that an invalid pattern fails there (it throws std::invalid_argument) and not on a request.
//
// Output (to_json) appends compact JSON straight into a std::string: no DOM, no streams. Doubles
// use the shortest text that reads back to the same value (integral ones keep a ".0"); NaN and
// infinities become null; nullopt becomes null; enums become their names (null for an unnamed value);
// invalid UTF-8 in strings is replaced by U+FFFD so the output is always valid JSON.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include "serval/app/schema.hpp"
#include "serval/app/validation.hpp"

namespace serval {

inline constexpr std::size_t kMaxJsonDepth = 64;                    // deeper bodies are json_invalid
inline constexpr std::size_t kMaxPatternInput = 64 * 1024;          // bytes
inline constexpr std::size_t kMaxBacktrackingPatternInput = 1024;   // bytes, patterns with back-references

// Appends `s` as a JSON string literal (quotes included).
void write_json_string(std::string& out, std::string_view s);

namespace detail {

inline constexpr Rules kNoRules{};

// A location built on the stack while descending; it becomes a std::vector<LocItem> only when an
// issue is recorded, so the success path allocates nothing for locations.
struct Path {
  enum class Kind : std::uint8_t { kRoot, kKey, kIndex };
  const Path* parent = nullptr;
  const std::vector<LocItem>* prefix = nullptr;  // kRoot only: the caller's loc
  std::string_view key{};
  std::int64_t index = 0;
  Kind kind = Kind::kRoot;

  static Path root(const std::vector<LocItem>& prefix) { return Path{nullptr, &prefix, {}, 0, Kind::kRoot}; }
  static Path top(std::string_view first) { return Path{nullptr, nullptr, first, 0, Kind::kKey}; }
  Path operator/(std::string_view k) const { return Path{this, nullptr, k, 0, Kind::kKey}; }
  Path operator/(std::size_t i) const {
    return Path{this, nullptr, {}, static_cast<std::int64_t>(i), Kind::kIndex};
  }
};
std::vector<LocItem> to_loc(const Path& path);

// What an issue echoes as "input": a JSON value, or the raw text of a parameter.
struct Input {
  const boost::json::value* json = nullptr;
  std::string_view text{};

  static Input of(const boost::json::value& v) { return Input{&v, {}}; }
  static Input of_text(std::string_view t) { return Input{nullptr, t}; }
};

enum class IssueKind : std::uint8_t {
  kMissing,
  kExtraForbidden,
  kBoolType,
  kBoolParsing,
  kIntType,
  kIntParsing,
  kIntFromFloat,
  kFloatType,
  kFloatParsing,
  kFiniteNumber,
  kStringType,
  kStringUnicode,
  kListType,
  kDictType,
  kModelAttributesType,
};
void report(ValidationErrors& errs, const Path& path, IssueKind kind, const Input& input);
void report_enum(ValidationErrors& errs, const Path& path, const Input& input, const std::string_view* names,
                 std::size_t count);

// An integer read from JSON or text, before it is narrowed to its C++ type.
struct WideInt {
  bool negative = false;
  std::int64_t s = 0;   // when negative
  std::uint64_t u = 0;  // when not negative
};

bool read_bool(const boost::json::value& v, bool& out, const Path& path, ValidationErrors& errs);
bool read_int(const boost::json::value& v, WideInt& out, std::int64_t lo, std::uint64_t hi, const Path& path,
              ValidationErrors& errs);
bool read_double(const boost::json::value& v, double& out, bool as_float, const Path& path, ValidationErrors& errs);
bool read_string(const boost::json::value& v, std::string& out, const Path& path, ValidationErrors& errs);

bool parse_bool_text(std::string_view t, bool& out, const Path& path, ValidationErrors& errs);
bool parse_int_text(std::string_view t, WideInt& out, std::int64_t lo, std::uint64_t hi, const Path& path,
                    ValidationErrors& errs);
bool parse_double_text(std::string_view t, double& out, bool as_float, const Path& path, ValidationErrors& errs);
bool parse_string_text(std::string_view t, std::string& out, const Path& path, ValidationErrors& errs);

bool check_int_rules(const WideInt& v, const Rules& r, const Path& path, const Input& input, ValidationErrors& errs);
bool check_double_rules(double v, const Rules& r, const Path& path, const Input& input, ValidationErrors& errs);
bool check_string_rules(std::string_view s, const Rules& r, const Path& path, const Input& input,
                        ValidationErrors& errs);
bool check_length_rules(std::size_t n, bool is_list, const Rules& r, const Path& path, const Input& input,
                        ValidationErrors& errs);

// True when `pattern` is found in `s` (see the header comment for the limits). Throws
// std::invalid_argument for an invalid pattern.
bool pattern_matches(std::string_view pattern, std::string_view s);
// Compiles and caches `pattern`; throws std::invalid_argument when it is invalid.
void compile_pattern(std::string_view pattern);

void write_int(std::string& out, std::int64_t v);
void write_uint(std::string& out, std::uint64_t v);
void write_double(std::string& out, double v);
void write_float(std::string& out, float v);
void write_value(std::string& out, const boost::json::value& v);

// Builds a DOM as boost::json::parser does, but converts every double with std::from_chars:
// Boost.JSON 1.81's own conversion is not correctly rounded, so some doubles would not survive a
// write/read round trip.
struct DomHandler {
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  boost::json::value_stack st;
  std::string number;  // the text of a number split across writes (never, for one complete body)

  DomHandler(boost::json::storage_ptr sp, unsigned char* temp, std::size_t temp_size);
  bool on_document_begin(boost::json::error_code& ec);
  bool on_document_end(boost::json::error_code& ec);
  bool on_object_begin(boost::json::error_code& ec);
  bool on_object_end(std::size_t n, boost::json::error_code& ec);
  bool on_array_begin(boost::json::error_code& ec);
  bool on_array_end(std::size_t n, boost::json::error_code& ec);
  bool on_key_part(boost::json::string_view s, std::size_t n, boost::json::error_code& ec);
  bool on_key(boost::json::string_view s, std::size_t n, boost::json::error_code& ec);
  bool on_string_part(boost::json::string_view s, std::size_t n, boost::json::error_code& ec);
  bool on_string(boost::json::string_view s, std::size_t n, boost::json::error_code& ec);
  bool on_number_part(boost::json::string_view s, boost::json::error_code& ec);
  bool on_int64(std::int64_t i, boost::json::string_view s, boost::json::error_code& ec);
  bool on_uint64(std::uint64_t u, boost::json::string_view s, boost::json::error_code& ec);
  bool on_double(double d, boost::json::string_view s, boost::json::error_code& ec);
  bool on_bool(bool b, boost::json::error_code& ec);
  bool on_null(boost::json::error_code& ec);
  bool on_comment_part(boost::json::string_view s, boost::json::error_code& ec);
  bool on_comment(boost::json::string_view s, boost::json::error_code& ec);
};

// Parses a request body into a DOM that lives in this object: on the stack, with a stack buffer
// for small bodies, so the common case allocates nothing. Construct and destroy it where it is
// used; its members are compiled in json.cpp only.
class BodyParser {
 public:
  BodyParser();
  ~BodyParser();
  BodyParser(const BodyParser&) = delete;
  BodyParser& operator=(const BodyParser&) = delete;

  // The parsed value, or nullptr after adding one json_invalid issue.
  const boost::json::value* parse(std::string_view body, ValidationErrors& errs);

 private:
  static constexpr std::size_t kDomBufferSize = 4096;
  static constexpr std::size_t kTempBufferSize = 1024;

  alignas(std::max_align_t) unsigned char dom_buffer_[kDomBufferSize];
  boost::json::monotonic_resource resource_;
  alignas(std::max_align_t) unsigned char temp_buffer_[kTempBufferSize];
  boost::json::basic_parser<DomHandler> parser_;
  boost::json::value value_;
};

void report_missing_body(ValidationErrors& errs);

// A distinct address per type, for registries keyed by type. Not const, so that no compiler option
// that merges identical constants can ever fold two of them into one.
template <class T>
struct TypeTag {
  static inline char id = 0;
};

template <class T>
inline constexpr std::int64_t kMinOf = static_cast<std::int64_t>(std::numeric_limits<T>::min());
template <class T>
inline constexpr std::uint64_t kMaxOf = static_cast<std::uint64_t>(std::numeric_limits<T>::max());

template <class I>
I narrow(const WideInt& w) {
  return w.negative ? static_cast<I>(w.s) : static_cast<I>(w.u);
}

template <class E>
inline constexpr auto kEnumNameList = [] {
  constexpr const auto& names = enum_names_of<E>();
  std::array<std::string_view, std::remove_cvref_t<decltype(names)>::kCount> list{};
  for (std::size_t i = 0; i < list.size(); ++i) list[i] = names[i].second;
  return list;
}();

// ---- reading JSON ----------------------------------------------------------------------------
template <class T>
bool read(const boost::json::value& v, T& out, const Path& path, ValidationErrors& errs, const Rules& r);

template <class T, std::size_t I>
bool read_field(const boost::json::value& v, const boost::json::object& obj, T& out, const Path& path,
                ValidationErrors& errs) {
  constexpr const auto& f = std::get<I>(schema_of<T>().fields);
  using M = typename std::remove_cvref_t<decltype(f)>::Member;
  static_assert(JsonValueType<M>, SERVAL_UNSUPPORTED_TYPE_MESSAGE);
  const Path here = path / f.name;
  const auto it = obj.find(f.name);
  if (it == obj.end()) {
    if constexpr (f.may_be_omitted()) {
      return true;
    } else {
      report(errs, here, IssueKind::kMissing, Input::of(v));
      return false;
    }
  }
  return read(it->value(), out.*(f.member), here, errs, f.rules);
}

template <class T>
bool is_field_name(std::string_view key) {
  constexpr const auto& s = schema_of<T>();
  return std::apply([&](const auto&... f) { return ((f.name == key) || ...); }, s.fields);
}

template <class T>
bool read_struct(const boost::json::value& v, T& out, const Path& path, ValidationErrors& errs) {
  if (!v.is_object()) {
    report(errs, path, IssueKind::kModelAttributesType, Input::of(v));
    return false;
  }
  const boost::json::object& obj = v.get_object();
  constexpr const auto& s = schema_of<T>();
  bool ok = true;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((ok = read_field<T, I>(v, obj, out, path, errs) && ok), ...);
  }(std::make_index_sequence<std::remove_cvref_t<decltype(s)>::kCount>{});
  if (s.extra_forbidden) {
    for (const auto& kv : obj) {
      const std::string_view key(kv.key().data(), kv.key().size());
      if (!is_field_name<T>(key)) {
        report(errs, path / key, IssueKind::kExtraForbidden, Input::of(kv.value()));
        ok = false;
      }
    }
  }
  return ok;
}

template <class T>
bool read(const boost::json::value& v, T& out, const Path& path, ValidationErrors& errs, const Rules& r) {
  static_assert(JsonValueType<T>, SERVAL_UNSUPPORTED_TYPE_MESSAGE);
  if constexpr (!JsonValueType<T>) {
    return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    return read_bool(v, out, path, errs);
  } else if constexpr (kIsInteger<T>) {
    WideInt w;
    if (!read_int(v, w, kMinOf<T>, kMaxOf<T>, path, errs)) return false;
    out = narrow<T>(w);
    return !r.has_bounds() || check_int_rules(w, r, path, Input::of(v), errs);
  } else if constexpr (kIsFloat<T>) {
    double d = 0;
    if (!read_double(v, d, std::is_same_v<T, float>, path, errs)) return false;
    out = static_cast<T>(d);
    // Checked after narrowing: 0.99999999999 is below lt(1) but becomes 1.0f.
    return !r.has_bounds() || check_double_rules(static_cast<double>(out), r, path, Input::of(v), errs);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!read_string(v, out, path, errs)) return false;
    return !(r.has_length() || r.has_pattern()) || check_string_rules(out, r, path, Input::of(v), errs);
  } else if constexpr (std::is_same_v<T, boost::json::value>) {
    boost::json::value copy(v, out.storage());
    out.swap(copy);
    return true;
  } else if constexpr (kIsOptional<T>) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    if (!out) out.emplace();
    return read(v, *out, path, errs, r);
  } else if constexpr (kIsVector<T>) {
    if (!v.is_array()) {
      report(errs, path, IssueKind::kListType, Input::of(v));
      return false;
    }
    const boost::json::array& a = v.get_array();
    out.clear();
    out.reserve(a.size());
    bool ok = true;
    for (std::size_t i = 0; i < a.size(); ++i) {
      typename T::value_type item{};
      if (!read(a[i], item, path / i, errs, kNoRules)) {
        ok = false;
        if (errs.full()) return false;
      }
      out.push_back(std::move(item));
    }
    if (r.has_length() && !check_length_rules(a.size(), true, r, path, Input::of(v), errs)) ok = false;
    return ok;
  } else if constexpr (kIsStringMap<T>) {
    if (!v.is_object()) {
      report(errs, path, IssueKind::kDictType, Input::of(v));
      return false;
    }
    const boost::json::object& obj = v.get_object();
    out.clear();
    bool ok = true;
    for (const auto& kv : obj) {
      const std::string_view key(kv.key().data(), kv.key().size());
      typename T::mapped_type item{};
      if (!read(kv.value(), item, path / key, errs, kNoRules)) {
        ok = false;
        if (errs.full()) return false;
      }
      out.insert_or_assign(std::string(key), std::move(item));
    }
    if (r.has_length() && !check_length_rules(obj.size(), false, r, path, Input::of(v), errs)) ok = false;
    return ok;
  } else if constexpr (std::is_enum_v<T>) {
    if (v.is_string()) {
      const auto& s = v.get_string();
      if (const T* e = enum_names_of<T>().find(std::string_view(s.data(), s.size()))) {
        out = *e;
        return true;
      }
    }
    report_enum(errs, path, Input::of(v), kEnumNameList<T>.data(), kEnumNameList<T>.size());
    return false;
  } else {
    static_assert(std::is_default_constructible_v<T>, "serval: a described struct must be default-constructible");
    return read_struct(v, out, path, errs);
  }
}

// ---- reading text (path, query and header parameters) ------------------------------------------
template <class T>
inline constexpr bool kTextScalar = std::is_same_v<T, bool> || kIsNumber<T> || std::is_same_v<T, std::string> ||
                                    std::is_enum_v<T>;

template <class T>
bool parse_text(std::string_view text, T& out, const Path& path, ValidationErrors& errs, const Rules& r) {
  if constexpr (kIsOptional<T>) {
    if (!out) out.emplace();
    return parse_text(text, *out, path, errs, r);
  } else if constexpr (std::is_same_v<T, bool>) {
    return parse_bool_text(text, out, path, errs);
  } else if constexpr (kIsInteger<T>) {
    WideInt w;
    if (!parse_int_text(text, w, kMinOf<T>, kMaxOf<T>, path, errs)) return false;
    out = narrow<T>(w);
    return !r.has_bounds() || check_int_rules(w, r, path, Input::of_text(text), errs);
  } else if constexpr (kIsFloat<T>) {
    double d = 0;
    if (!parse_double_text(text, d, std::is_same_v<T, float>, path, errs)) return false;
    out = static_cast<T>(d);
    return !r.has_bounds() || check_double_rules(static_cast<double>(out), r, path, Input::of_text(text), errs);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!parse_string_text(text, out, path, errs)) return false;
    return !(r.has_length() || r.has_pattern()) || check_string_rules(out, r, path, Input::of_text(text), errs);
  } else {
    static_assert(DescribedEnum<T>, "serval::from_text: an enum parameter needs serval::enum_names<E>");
    if (const T* e = enum_names_of<T>().find(text)) {
      out = *e;
      return true;
    }
    report_enum(errs, path, Input::of_text(text), kEnumNameList<T>.data(), kEnumNameList<T>.size());
    return false;
  }
}

// ---- writing JSON ----------------------------------------------------------------------------
constexpr std::size_t escaped_size(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    n += (c == '"' || c == '\\') ? 2 : (u < 0x20 ? 6 : 1);
  }
  return n;
}

// `,"name":` for field I of T, escaped at compile time.
template <class T, std::size_t I>
inline constexpr auto kFieldKey = [] {
  constexpr std::string_view name = std::get<I>(schema_of<T>().fields).name;
  FixedText<escaped_size(name) + 4> key;
  std::size_t n = 0;
  key.data[n++] = ',';
  key.data[n++] = '"';
  constexpr char kHex[] = "0123456789abcdef";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      key.data[n++] = '\\';
      key.data[n++] = c;
    } else if (u < 0x20) {
      key.data[n++] = '\\';
      key.data[n++] = 'u';
      key.data[n++] = '0';
      key.data[n++] = '0';
      key.data[n++] = kHex[u >> 4];
      key.data[n++] = kHex[u & 0xF];
    } else {
      key.data[n++] = c;
    }
  }
  key.data[n++] = '"';
  key.data[n++] = ':';
  key.size = n;
  return key;
}();

template <class T>
void write(std::string& out, const T& v);

template <class T, std::size_t I>
void write_field(std::string& out, const T& v) {
  constexpr const auto& f = std::get<I>(schema_of<T>().fields);
  constexpr const auto& key = kFieldKey<T, I>;
  if constexpr (I == 0) {
    out.append(key.data + 1, key.size - 1);
  } else {
    out.append(key.data, key.size);
  }
  write(out, v.*(f.member));
}

template <class T>
void write(std::string& out, const T& v) {
  static_assert(JsonValueType<T>, SERVAL_UNSUPPORTED_TYPE_MESSAGE);
  if constexpr (!JsonValueType<T>) {
    return;
  } else if constexpr (std::is_same_v<T, bool>) {
    out.append(v ? "true" : "false");
  } else if constexpr (kIsInteger<T>) {
    if constexpr (std::is_signed_v<T>) {
      write_int(out, v);
    } else {
      write_uint(out, v);
    }
  } else if constexpr (std::is_same_v<T, double>) {
    write_double(out, v);
  } else if constexpr (std::is_same_v<T, float>) {
    write_float(out, v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    write_json_string(out, v);
  } else if constexpr (std::is_same_v<T, boost::json::value>) {
    write_value(out, v);
  } else if constexpr (kIsOptional<T>) {
    if (v) {
      write(out, *v);
    } else {
      out.append("null");
    }
  } else if constexpr (kIsVector<T>) {
    out.push_back('[');
    bool first = true;
    for (const auto& item : v) {
      if (!first) out.push_back(',');
      first = false;
      write(out, static_cast<const typename T::value_type&>(item));
    }
    out.push_back(']');
  } else if constexpr (kIsStringMap<T>) {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, item] : v) {
      if (!first) out.push_back(',');
      first = false;
      write_json_string(out, key);
      out.push_back(':');
      write(out, item);
    }
    out.push_back('}');
  } else if constexpr (std::is_enum_v<T>) {
    const std::string_view name = enum_names_of<T>().name_of(v);
    if (name.empty()) {
      out.append("null");
    } else {
      write_json_string(out, name);
    }
  } else {
    constexpr const auto& s = schema_of<T>();
    out.push_back('{');
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (write_field<T, I>(out, v), ...);
    }(std::make_index_sequence<std::remove_cvref_t<decltype(s)>::kCount>{});
    out.push_back('}');
  }
}

// ---- start-up checks -------------------------------------------------------------------------
// Compiles `pattern`; an invalid one throws std::invalid_argument naming `field`.
void check_field_pattern(std::string_view field, std::string_view pattern);

template <class T>
void check_patterns(std::unordered_set<const void*>& seen) {
  if constexpr (kIsOptional<T> || kIsVector<T>) {
    check_patterns<typename T::value_type>(seen);
  } else if constexpr (kIsStringMap<T>) {
    check_patterns<typename T::mapped_type>(seen);
  } else if constexpr (std::is_class_v<T> && Described<T>) {
    if (!seen.insert(&TypeTag<T>::id).second) return;
    std::apply(
        [&](const auto&... f) {
          (
              [&] {
                if (f.rules.has_pattern()) check_field_pattern(f.name, f.rules.pattern_text.view());
                check_patterns<typename std::remove_cvref_t<decltype(f)>::Member>(seen);
              }(),
              ...);
        },
        schema_of<T>().fields);
  }
}

}  // namespace detail

// Reads `v` into `out`, checking `rules` on the top-level value. Every issue found is added to
// `errs`, located under `loc`. True when none was added.
template <class T>
bool from_json(const boost::json::value& v, T& out, std::vector<LocItem>& loc, ValidationErrors& errs,
               const Rules& rules = {}) {
  const std::size_t before = errs.added();
  const detail::Path root = detail::Path::root(loc);
  detail::read(v, out, root, errs, rules);
  return errs.added() == before;
}

// Parses a request body into `out`; locations start with "body". Malformed JSON (including nesting
// deeper than kMaxJsonDepth) adds one json_invalid issue located at the byte offset; an empty body
// is "missing" unless T is a std::optional.
template <class T>
bool parse_json_body(std::string_view body, T& out, ValidationErrors& errs) {
  static_assert(JsonValueType<T>, SERVAL_UNSUPPORTED_TYPE_MESSAGE);
  if (body.empty()) {
    if constexpr (detail::kIsOptional<T>) {
      out.reset();
      return true;
    } else {
      detail::report_missing_body(errs);
      return false;
    }
  }
  detail::BodyParser parser;
  const boost::json::value* v = parser.parse(body, errs);
  if (v == nullptr) return false;
  const std::size_t before = errs.added();
  detail::read(*v, out, detail::Path::top("body"), errs, detail::kNoRules);
  return errs.added() == before;
}

// Parses a path, query or header parameter: bool (true/false, 1/0, yes/no, on/off, t/f, y/n; any
// case), integers (optional sign, decimal digits), float/double (finite only), std::string (valid
// UTF-8), described enums (by name), or std::optional of those. Then checks `rules` as from_json does.
template <class T>
bool from_text(std::string_view text, T& out, const Rules& rules, std::vector<LocItem>& loc, ValidationErrors& errs) {
  static_assert(detail::kTextScalar<detail::unoptional_t<T>>,
                "serval::from_text: parameters may be bool, integers, float, double, std::string, described enums "
                "or std::optional of those");
  const std::size_t before = errs.added();
  const detail::Path root = detail::Path::root(loc);
  detail::parse_text(text, out, root, errs, rules);
  return errs.added() == before;
}

// Appends `v` as compact JSON.
template <class T>
void to_json(std::string& out, const T& v) {
  detail::write(out, v);
}

template <class T>
std::string to_json(const T& v) {
  std::string out;
  detail::write(out, v);
  return out;
}

// `v` as a DOM, for places that need one (OpenAPI defaults, tests); not for the response path.
boost::json::value parse_json_value(std::string_view text);
template <class T>
boost::json::value to_json_value(const T& v) {
  return parse_json_value(to_json(v));
}

// Compiles every pattern reachable from T; throws std::invalid_argument naming the field of the
// first invalid one. Cheap after the first call; call it when registering an endpoint.
template <class T>
void validate_schema() {
  std::unordered_set<const void*> seen;
  detail::check_patterns<std::remove_cvref_t<T>>(seen);
}

}  // namespace serval
