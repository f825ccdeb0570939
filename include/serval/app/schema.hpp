// Schema declarations: a DTO's constraints are written once, next to the type, and that one
// declaration drives JSON parsing, validation (FastAPI-shaped 422 bodies, see validation.hpp and
// json.hpp) and the JSON Schema published in /openapi.json (json_schema.hpp).
//
//   enum class Label { kPositive, kNegative };
//   template <> inline constexpr auto serval::enum_names<Label> = serval::enumerators(
//       std::pair{Label::kPositive, "POSITIVE"}, std::pair{Label::kNegative, "NEGATIVE"});
//
//   struct ClassifyIn { std::string text; int top_k = 1; std::optional<std::string> lang; Label label{}; };
//   template <> inline constexpr auto serval::schema<ClassifyIn> = serval::fields(
//       serval::field("text", &ClassifyIn::text).min_length(1).max_length(10000).doc("Text to classify"),
//       serval::field("top_k", &ClassifyIn::top_k).ge(1).le(10).optional(),   // omitted -> keeps 1
//       serval::field("lang", &ClassifyIn::lang).pattern("^[a-z]{2}$"),      // std::optional: not required
//       serval::field("label", &ClassifyIn::label).optional()).doc("A text to classify");
//
// Rules alone are a structural literal type, so they can also ride in a template argument:
//   serval::Query<int, "top_k", serval::rules().ge(1).le(10)>
//
// The specialisations must be visible before the type is first parsed, written or documented.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/json/fwd.hpp>

namespace serval {

namespace detail {
// Deliberately not constexpr: reaching one of these while a declaration is constant-evaluated
// makes the declaration ill-formed, and the compiler's message then names the problem.
inline void text_too_long_for_serval_FixedText() {
  throw std::length_error("serval::FixedText: text longer than its capacity");
}
inline void duplicate_field_name_in_serval_fields() {
  throw std::logic_error("serval::fields: two fields share a name");
}
inline void empty_field_name_in_serval_field() {
  throw std::logic_error("serval::field: the JSON name must not be empty");
}
}  // namespace detail

// A fixed-capacity string usable in constant expressions and as (part of) a template argument.
// Text longer than N does not compile in a constant expression (the error names
// text_too_long_for_serval_FixedText) and throws std::length_error at run time.
template <std::size_t N>
struct FixedText {
  char data[N]{};
  std::size_t size = 0;

  constexpr FixedText() = default;
  constexpr FixedText(const char* s) { assign(std::string_view(s)); }
  constexpr FixedText(std::string_view s) { assign(s); }

  constexpr std::string_view view() const noexcept { return {data, size}; }
  constexpr bool empty() const noexcept { return size == 0; }
  static constexpr std::size_t capacity() noexcept { return N; }

  friend constexpr bool operator==(const FixedText&, const FixedText&) = default;

 private:
  constexpr void assign(std::string_view s) {
    if (s.size() > N) detail::text_too_long_for_serval_FixedText();
    for (std::size_t i = 0; i < s.size(); ++i) data[i] = s[i];
    size = s.size();
  }
};
template <std::size_t M>
FixedText(const char (&)[M]) -> FixedText<M>;

// Constraints on one value. Limits apply as follows: ge/gt/le/lt to numbers; min_length/max_length
// to strings (in Unicode code points), lists (items) and maps (entries); pattern to strings (an
// ECMAScript regex that is SEARCHED, as JSON Schema's `pattern` and pydantic do: anchor it with ^...$
// to match the whole string). Bounds are doubles: integer bounds beyond +/-2^53 lose precision.
//
// Member names carry a suffix (ge_value, is_optional, ...) because the fluent builders own the
// short names: serval::rules().ge(1).le(10).
struct Rules {
  bool has_ge = false;
  double ge_value = 0;
  bool has_gt = false;
  double gt_value = 0;
  bool has_le = false;
  double le_value = 0;
  bool has_lt = false;
  double lt_value = 0;
  bool has_min_length = false;
  std::size_t min_length_value = 0;
  bool has_max_length = false;
  std::size_t max_length_value = 0;
  FixedText<160> pattern_text{};
  FixedText<320> description{};
  FixedText<64> title_text{};
  bool is_optional = false;    // may be omitted from the input; the member then keeps its default
  bool is_deprecated = false;  // documentation only
  bool is_read_only = false;   // documentation only (JSON Schema readOnly)

  constexpr Rules ge(double v) const { Rules r = *this; r.has_ge = true; r.ge_value = v; return r; }
  constexpr Rules gt(double v) const { Rules r = *this; r.has_gt = true; r.gt_value = v; return r; }
  constexpr Rules le(double v) const { Rules r = *this; r.has_le = true; r.le_value = v; return r; }
  constexpr Rules lt(double v) const { Rules r = *this; r.has_lt = true; r.lt_value = v; return r; }
  constexpr Rules min_length(std::size_t n) const {
    Rules r = *this;
    r.has_min_length = true;
    r.min_length_value = n;
    return r;
  }
  constexpr Rules max_length(std::size_t n) const {
    Rules r = *this;
    r.has_max_length = true;
    r.max_length_value = n;
    return r;
  }
  constexpr Rules pattern(std::string_view regex) const { Rules r = *this; r.pattern_text = regex; return r; }
  constexpr Rules doc(std::string_view text) const { Rules r = *this; r.description = text; return r; }
  constexpr Rules title(std::string_view text) const { Rules r = *this; r.title_text = text; return r; }
  constexpr Rules optional(bool v = true) const { Rules r = *this; r.is_optional = v; return r; }
  constexpr Rules deprecated(bool v = true) const { Rules r = *this; r.is_deprecated = v; return r; }
  constexpr Rules read_only(bool v = true) const { Rules r = *this; r.is_read_only = v; return r; }

  constexpr bool has_pattern() const noexcept { return !pattern_text.empty(); }
  constexpr bool has_bounds() const noexcept { return has_ge || has_gt || has_le || has_lt; }
  constexpr bool has_length() const noexcept { return has_min_length || has_max_length; }

  friend constexpr bool operator==(const Rules&, const Rules&) = default;
};

constexpr Rules rules() { return Rules{}; }

// ---------------------------------------------------------------------------------------------
// Type classification shared by the parser, the writer and the schema generator.
namespace detail {
template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};
template <class T> struct IsVector : std::false_type {};
template <class T, class A> struct IsVector<std::vector<T, A>> : std::true_type {};
template <class T> struct IsStringMap : std::false_type {};
template <class V, class C, class A>
struct IsStringMap<std::map<std::string, V, C, A>> : std::true_type {};
template <class V, class H, class E, class A>
struct IsStringMap<std::unordered_map<std::string, V, H, E, A>> : std::true_type {};
template <class T> struct IsAnyMap : std::false_type {};
template <class K, class V, class C, class A> struct IsAnyMap<std::map<K, V, C, A>> : std::true_type {};
template <class K, class V, class H, class E, class A>
struct IsAnyMap<std::unordered_map<K, V, H, E, A>> : std::true_type {};

template <class T> inline constexpr bool kIsOptional = IsOptional<T>::value;
template <class T> inline constexpr bool kIsVector = IsVector<T>::value;
template <class T> inline constexpr bool kIsStringMap = IsStringMap<T>::value;

template <class T> struct Unoptional { using type = T; };
template <class T> struct Unoptional<std::optional<T>> { using type = T; };
template <class T> using unoptional_t = typename Unoptional<T>::type;

template <class T>
inline constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <class T>
inline constexpr bool kIsFloat = std::is_same_v<T, float> || std::is_same_v<T, double>;
template <class T> inline constexpr bool kIsNumber = kIsInteger<T> || kIsFloat<T>;

// What a rule may be attached to (looking through std::optional).
template <class M> inline constexpr bool kTakesBounds = kIsNumber<unoptional_t<M>>;
template <class M>
inline constexpr bool kTakesLength = std::is_same_v<unoptional_t<M>, std::string> ||
                                     kIsVector<unoptional_t<M>> || kIsStringMap<unoptional_t<M>>;
template <class M> inline constexpr bool kTakesPattern = std::is_same_v<unoptional_t<M>, std::string>;

// A check that never looks at serval::schema / enum_names, so it is safe to run while a schema is
// being declared (a struct may hold a std::vector of itself, or an enum named further down). It
// rejects what can never work; the full JsonValueType check runs where the type is used.
template <class M>
consteval bool maybe_json_value() {
  if constexpr (std::is_same_v<M, std::string_view>) {
    return false;
  } else if constexpr (kIsOptional<M>) {
    return maybe_json_value<typename M::value_type>();
  } else if constexpr (kIsVector<M>) {
    return maybe_json_value<typename M::value_type>();
  } else if constexpr (kIsStringMap<M>) {
    return maybe_json_value<typename M::mapped_type>();
  } else if constexpr (IsAnyMap<M>::value) {
    return false;
  } else if constexpr (std::is_class_v<M> || std::is_enum_v<M>) {
    return true;
  } else {
    return std::is_same_v<M, bool> || kIsNumber<M>;
  }
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// One described member: its JSON name, the member pointer and its rules.
template <class T, class M>
struct Field {
  using Owner = T;
  using Member = M;

  std::string_view name;
  M T::*member;
  Rules rules;

  constexpr Field ge(double v) const { check_bounds(); return with(rules.ge(v)); }
  constexpr Field gt(double v) const { check_bounds(); return with(rules.gt(v)); }
  constexpr Field le(double v) const { check_bounds(); return with(rules.le(v)); }
  constexpr Field lt(double v) const { check_bounds(); return with(rules.lt(v)); }
  constexpr Field min_length(std::size_t n) const { check_length(); return with(rules.min_length(n)); }
  constexpr Field max_length(std::size_t n) const { check_length(); return with(rules.max_length(n)); }
  constexpr Field pattern(std::string_view regex) const {
    static_assert(detail::kTakesPattern<M>,
                  "serval::field(...).pattern(): only std::string fields (or std::optional<std::string>) take a pattern");
    return with(rules.pattern(regex));
  }
  constexpr Field doc(std::string_view text) const { return with(rules.doc(text)); }
  constexpr Field title(std::string_view text) const { return with(rules.title(text)); }
  constexpr Field optional(bool v = true) const { return with(rules.optional(v)); }
  constexpr Field deprecated(bool v = true) const { return with(rules.deprecated(v)); }
  constexpr Field read_only(bool v = true) const { return with(rules.read_only(v)); }

  // A field need not appear in the input: it was marked optional() or is a std::optional.
  constexpr bool may_be_omitted() const noexcept { return rules.is_optional || detail::kIsOptional<M>; }

 private:
  constexpr Field with(const Rules& r) const { return Field{name, member, r}; }
  static constexpr void check_bounds() {
    static_assert(detail::kTakesBounds<M>,
                  "serval::field(...).ge/gt/le/lt(): only numeric fields (or std::optional of one) take bounds");
  }
  static constexpr void check_length() {
    static_assert(detail::kTakesLength<M>,
                  "serval::field(...).min_length/max_length(): only std::string, std::vector and "
                  "std::map/unordered_map<std::string, T> fields (or std::optional of one) take a length");
  }
};

template <class T, class M>
constexpr Field<T, M> field(std::string_view name, M T::*member) {
  static_assert(!std::is_function_v<M>, "serval::field(): pass a data member (&T::m), not a member function");
  static_assert(!std::is_same_v<M, std::string_view>,
                "serval::field(): std::string_view members would dangle into the request buffer; use std::string");
  static_assert(!std::is_pointer_v<M> && !std::is_array_v<M>,
                "serval::field(): pointer and C-array members are not supported; use std::optional, std::string "
                "or std::vector");
  static_assert(detail::maybe_json_value<M>(),
                "serval::field(): unsupported member type. Supported: bool, integers, float, double, std::string, "
                "std::optional<T>, std::vector<T>, std::map/unordered_map<std::string, T>, structs described by "
                "serval::schema<T>, enums described by serval::enum_names<E>, boost::json::value");
  if (name.empty()) detail::empty_field_name_in_serval_field();
  return Field<T, M>{name, member, Rules{}};
}

// All described members of T, in the order they are written to JSON and documented.
template <class T, class... Fs>
struct Fields {
  using Owner = T;
  static constexpr std::size_t kCount = sizeof...(Fs);

  std::tuple<Fs...> fields;
  FixedText<320> description{};  // .doc(): the component's "description"
  FixedText<64> name{};           // .named(): the component's name in /openapi.json
  bool extra_forbidden = false;   // .forbid_extra(): unknown input fields are errors

  constexpr Fields doc(std::string_view text) const { Fields f = *this; f.description = text; return f; }
  constexpr Fields named(std::string_view component) const { Fields f = *this; f.name = component; return f; }
  constexpr Fields forbid_extra(bool v = true) const { Fields f = *this; f.extra_forbidden = v; return f; }
};

namespace detail {
template <class F> struct IsField : std::false_type {};
template <class T, class M> struct IsField<Field<T, M>> : std::true_type {};
template <class F> struct IsFields : std::false_type {};
template <class T, class... Fs> struct IsFields<Fields<T, Fs...>> : std::true_type {};
}  // namespace detail

template <class F0, class... Fs>
constexpr auto fields(F0 first, Fs... rest) {
  static_assert(detail::IsField<F0>::value && (detail::IsField<Fs>::value && ...),
                "serval::fields(): every argument must be a serval::field(\"name\", &T::member)");
  using T = typename F0::Owner;
  static_assert((std::is_same_v<typename Fs::Owner, T> && ...),
                "serval::fields(): every field must be a member of the same struct");
  const std::string_view names[] = {first.name, rest.name...};
  for (std::size_t i = 0; i < std::size(names); ++i) {
    for (std::size_t j = i + 1; j < std::size(names); ++j) {
      if (names[i] == names[j]) detail::duplicate_field_name_in_serval_fields();
    }
  }
  return Fields<T, F0, Fs...>{std::tuple<F0, Fs...>{first, rest...}, {}, {}, false};
}

// ---------------------------------------------------------------------------------------------
// The names an enum is written as (and parsed from).
template <class E, std::size_t N>
struct Enumerators {
  using Enum = E;
  static constexpr std::size_t kCount = N;

  std::array<std::pair<E, std::string_view>, N> items;
  FixedText<64> name{};           // .named(): the component's name in /openapi.json
  FixedText<320> description{};   // .doc()

  constexpr std::size_t size() const noexcept { return N; }
  constexpr auto begin() const noexcept { return items.begin(); }
  constexpr auto end() const noexcept { return items.end(); }
  constexpr const std::pair<E, std::string_view>& operator[](std::size_t i) const { return items[i]; }

  // The name of `e`, or an empty view when `e` has none.
  constexpr std::string_view name_of(E e) const noexcept {
    for (const auto& [value, text] : items) {
      if (value == e) return text;
    }
    return {};
  }
  // The enumerator called `text`, or nullptr.
  constexpr const E* find(std::string_view text) const noexcept {
    for (const auto& item : items) {
      if (item.second == text) return &item.first;
    }
    return nullptr;
  }

  constexpr Enumerators named(std::string_view component) const { Enumerators e = *this; e.name = component; return e; }
  constexpr Enumerators doc(std::string_view text) const { Enumerators e = *this; e.description = text; return e; }
};

template <class E, class... Es>
constexpr auto enumerators(std::pair<E, const char*> first, std::pair<Es, const char*>... rest) {
  static_assert(std::is_enum_v<E>, "serval::enumerators(): the first member of each pair must be an enum value");
  static_assert((std::is_same_v<E, Es> && ...), "serval::enumerators(): all values must be of the same enum");
  Enumerators<E, 1 + sizeof...(Es)> out{
      {{std::pair<E, std::string_view>{first.first, first.second},
        std::pair<E, std::string_view>{rest.first, rest.second}...}},
      {},
      {}};
  for (std::size_t i = 0; i < out.items.size(); ++i) {
    if (out.items[i].second.empty()) detail::empty_field_name_in_serval_field();
    for (std::size_t j = i + 1; j < out.items.size(); ++j) {
      if (out.items[i].second == out.items[j].second) detail::duplicate_field_name_in_serval_fields();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The customisation points. Specialise them (from any namespace) for your types.
struct NotDescribed {};
template <class T> inline constexpr auto schema = NotDescribed{};
template <class E> inline constexpr auto enum_names = NotDescribed{};

namespace detail {
template <class E> struct IsEnumerators : std::false_type {};
template <class E, std::size_t N> struct IsEnumerators<Enumerators<E, N>> : std::true_type {};
}  // namespace detail

template <class T>
concept Described = std::is_class_v<T> && !std::is_same_v<std::remove_cvref_t<decltype(schema<T>)>, NotDescribed>;

template <class E>
concept DescribedEnum = std::is_enum_v<E> && !std::is_same_v<std::remove_cvref_t<decltype(enum_names<E>)>, NotDescribed>;

namespace detail {
// The declared schema of T, with a readable error when the specialisation is malformed.
template <class T>
constexpr const auto& schema_of() {
  using S = std::remove_cvref_t<decltype(schema<T>)>;
  static_assert(IsFields<S>::value, "serval::schema<T> must be initialised with serval::fields(...)");
  if constexpr (IsFields<S>::value) {
    static_assert(std::is_same_v<typename S::Owner, T>,
                  "serval::schema<T>: the fields listed belong to a different struct than T");
  }
  return schema<T>;
}
template <class E>
constexpr const auto& enum_names_of() {
  using S = std::remove_cvref_t<decltype(enum_names<E>)>;
  static_assert(IsEnumerators<S>::value, "serval::enum_names<E> must be initialised with serval::enumerators(...)");
  if constexpr (IsEnumerators<S>::value) {
    static_assert(std::is_same_v<typename S::Enum, E>, "serval::enum_names<E>: the values listed are of another enum");
  }
  return enum_names<E>;
}

template <class T>
consteval bool is_json_value_type() {
  if constexpr (std::is_same_v<T, bool> || kIsNumber<T> || std::is_same_v<T, std::string> ||
                std::is_same_v<T, boost::json::value>) {
    return true;
  } else if constexpr (kIsOptional<T>) {
    return !kIsOptional<typename T::value_type> && is_json_value_type<typename T::value_type>();
  } else if constexpr (kIsVector<T>) {
    return is_json_value_type<typename T::value_type>();
  } else if constexpr (kIsStringMap<T>) {
    return is_json_value_type<typename T::mapped_type>();
  } else if constexpr (std::is_enum_v<T>) {
    return DescribedEnum<T>;
  } else if constexpr (std::is_class_v<T>) {
    // Members of a described struct are checked where the struct is used, so a struct may
    // contain a std::vector of itself.
    return Described<T>;
  } else {
    return false;
  }
}
}  // namespace detail

// Everything serval can read from and write to JSON.
template <class T>
concept JsonValueType = detail::is_json_value_type<T>();

// The name an enum value is written as; empty when the value has no name.
template <DescribedEnum E>
constexpr std::string_view enum_name(E e) noexcept {
  return detail::enum_names_of<E>().name_of(e);
}

// The enum value called `text`, if any.
template <DescribedEnum E>
constexpr std::optional<E> enum_from_name(std::string_view text) noexcept {
  if (const E* e = detail::enum_names_of<E>().find(text)) return *e;
  return std::nullopt;
}

}  // namespace serval

// Used as a hint in static_assert messages elsewhere.
#define SERVAL_UNSUPPORTED_TYPE_MESSAGE                                                                  \
  "serval JSON: unsupported type. Supported: bool, integers, float, double, std::string, "             \
  "std::optional<T>, std::vector<T>, std::map/unordered_map<std::string, T>, structs described by "     \
  "serval::schema<T> = serval::fields(...), enums described by serval::enum_names<E> = "                \
  "serval::enumerators(...), boost::json::value"
