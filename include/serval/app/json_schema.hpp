// JSON Schema (OpenAPI 3.1 / JSON Schema 2020-12) generated from the declarations in schema.hpp,
// so /openapi.json documents exactly the rules that validation enforces.
//
//   serval::SchemaRegistry reg;
//   boost::json::value body = reg.schema_for<ClassifyIn>();   // {"$ref":"#/components/schemas/ClassifyIn"}
//   boost::json::value top_k = reg.schema_for<int>(serval::rules().ge(1).le(10));
//                                                              // {"type":"integer","minimum":1,"maximum":10}
//   doc["components"] = {{"schemas", reg.components()}};
//
// Described structs and enums become components, referenced by "$ref". A component is named by
// .named("..."), else by the C++ type's name without namespaces (Page<ns::Item> -> "Page_Item"). Two
// different types never share a name: a later type whose name is taken gets its namespace-qualified
// name ("ns2__Item"), then a numbered one ("Item_2"). Names are given in registration order, so a
// registry should be filled in a deterministic order (e.g. route order).
//
// Mapping: bool -> boolean; integers -> integer (unsigned types carry "minimum": 0, types narrower
// than 32 bits their full range); float/double -> number; std::string -> string; std::optional<T> ->
// {"anyOf":[<T>,{"type":"null"}]} with the value constraints inside <T>; std::vector<T> -> array;
// maps -> object + additionalProperties; boost::json::value -> {} (anything). Properties carry a
// pydantic-style "title" ("top_k" -> "Top K"), their rules as keywords, and "default" when they may
// be omitted (the member's value in a default-constructed struct). Not thread-safe: fill one
// registry at start-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "serval/app/json.hpp"
#include "serval/app/schema.hpp"

namespace serval {

namespace detail {

// T's name as the compiler spells it, e.g. "ns::Page<ns::Item>".
template <class T>
constexpr std::string_view raw_type_name() {
  const std::string_view f = __PRETTY_FUNCTION__;  // "... [with T = X; ...]" (gcc) / "... [T = X]" (clang)
  const std::size_t start = f.find("T = ");
  if (start == std::string_view::npos) return "Model";
  std::size_t end = f.find(';', start);
  if (end == std::string_view::npos) end = f.rfind(']');
  if (end == std::string_view::npos || end < start + 4) return "Model";
  return f.substr(start + 4, end - start - 4);
}

// A component name (characters allowed by OpenAPI: [A-Za-z0-9._-]) from a C++ type name. With
// `qualified`, namespaces are kept and joined by "__"; otherwise they are dropped.
constexpr FixedText<128> component_name_from(std::string_view raw, bool qualified) {
  FixedText<128> out;
  constexpr std::size_t kMaxDepth = 32;
  std::size_t token_start[kMaxDepth] = {};
  std::size_t depth = 0;
  const auto push = [&](char c) {
    if (out.size < out.capacity()) out.data[out.size++] = c;
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == ':' && i + 1 < raw.size() && raw[i + 1] == ':') {
      ++i;
      if (qualified) {
        push('_');
        push('_');
      } else {
        out.size = token_start[depth];
      }
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
      push(c);
    } else if (c == '<' || c == ',') {
      if (c == '<' && depth + 1 < kMaxDepth) ++depth;
      if (out.size > 0 && out.data[out.size - 1] != '_') push('_');
      token_start[depth] = out.size;
    } else if (c == '>') {
      if (depth > 0) --depth;
    }
  }
  while (out.size > 0 && out.data[out.size - 1] == '_') --out.size;
  if (out.size == 0) out = FixedText<128>("Model");
  return out;
}

template <class T>
inline constexpr FixedText<128> kShortTypeName = component_name_from(raw_type_name<T>(), false);
template <class T>
inline constexpr FixedText<128> kQualifiedTypeName = component_name_from(raw_type_name<T>(), true);

// pydantic's default title: "top_k" -> "Top K" (Python's str.title(), then "_" -> " ").
std::string title_case(std::string_view field_name);

void apply_number_rules(boost::json::object& s, const Rules& r);
void apply_integer_range(boost::json::object& s, const Rules& r, std::int64_t lo, std::uint64_t hi, bool show_lo,
                         bool show_hi);
void apply_string_rules(boost::json::object& s, const Rules& r);
void apply_count_rules(boost::json::object& s, const Rules& r, std::string_view min_key, std::string_view max_key);
// description, deprecated, readOnly, and title when one is declared.
void apply_annotations(boost::json::object& s, const Rules& r);

template <class T>
const T& default_instance() {
  static const T instance{};
  return instance;
}

}  // namespace detail

class SchemaRegistry {
 public:
  // The schema of a value of type T under `rules` (for a body, a parameter or a property).
  template <class T>
  boost::json::value schema_for(const Rules& rules = {}) {
    using U = std::remove_cvref_t<T>;
    static_assert(JsonValueType<U>, SERVAL_UNSUPPORTED_TYPE_MESSAGE);
    boost::json::object s = type_schema<U>(rules);
    detail::apply_annotations(s, rules);
    return s;
  }

  // The component name of a described struct or enum, registering it (and what it uses) if new.
  template <class T>
  std::string component_name() {
    using U = std::remove_cvref_t<T>;
    static_assert(Described<U> || DescribedEnum<U>, "serval::SchemaRegistry::component_name: T is not described");
    if constexpr (std::is_enum_v<U>) {
      return register_enum<U>();
    } else {
      return register_struct<U>();
    }
  }

  // Every component registered so far, for "components": {"schemas": ...}.
  const boost::json::object& components() const noexcept { return components_; }

 private:
  struct Claim {
    std::string name;
    bool fresh = false;  // the caller must build the component
  };
  // The name of the type identified by `key`; a new type claims `preferred`, else `qualified`,
  // else `preferred` numbered, and gets an empty placeholder component.
  Claim claim(const void* key, std::string_view preferred, std::string_view qualified);
  static boost::json::object ref_to(std::string_view name);

  template <class T>
  boost::json::object type_schema(const Rules& r) {
    boost::json::object s;
    if constexpr (std::is_same_v<T, bool>) {
      s["type"] = "boolean";
    } else if constexpr (detail::kIsInteger<T>) {
      s["type"] = "integer";
      detail::apply_number_rules(s, r);
      detail::apply_integer_range(s, r, detail::kMinOf<T>, detail::kMaxOf<T>, std::is_unsigned_v<T> || sizeof(T) < 4,
                                  sizeof(T) < 4);
    } else if constexpr (detail::kIsFloat<T>) {
      s["type"] = "number";
      detail::apply_number_rules(s, r);
    } else if constexpr (std::is_same_v<T, std::string>) {
      s["type"] = "string";
      detail::apply_string_rules(s, r);
    } else if constexpr (std::is_same_v<T, boost::json::value>) {
      // {}: any JSON value
    } else if constexpr (detail::kIsOptional<T>) {
      boost::json::array any;
      any.emplace_back(type_schema<typename T::value_type>(r));
      any.emplace_back(boost::json::object{{"type", "null"}});
      s["anyOf"] = std::move(any);
    } else if constexpr (detail::kIsVector<T>) {
      s["type"] = "array";
      s["items"] = schema_for<typename T::value_type>();
      detail::apply_count_rules(s, r, "minItems", "maxItems");
    } else if constexpr (detail::kIsStringMap<T>) {
      s["type"] = "object";
      s["additionalProperties"] = schema_for<typename T::mapped_type>();
      detail::apply_count_rules(s, r, "minProperties", "maxProperties");
    } else if constexpr (std::is_enum_v<T>) {
      s = ref_to(register_enum<T>());
    } else {
      s = ref_to(register_struct<T>());
    }
    return s;
  }

  template <class E>
  std::string register_enum() {
    constexpr const auto& names = detail::enum_names_of<E>();
    const std::string_view preferred = names.name.empty() ? detail::kShortTypeName<E>.view() : names.name.view();
    Claim c = claim(&detail::TypeTag<E>::id, preferred, detail::kQualifiedTypeName<E>.view());
    if (!c.fresh) return c.name;
    boost::json::object s;
    s["type"] = "string";
    boost::json::array values;
    for (const auto& item : names) values.emplace_back(boost::json::string_view(item.second.data(), item.second.size()));
    s["enum"] = std::move(values);
    s["title"] = preferred;
    if (!names.description.empty()) s["description"] = names.description.view();
    components_[c.name] = std::move(s);
    return c.name;
  }

  template <class T>
  std::string register_struct() {
    constexpr const auto& decl = detail::schema_of<T>();
    const std::string_view preferred = decl.name.empty() ? detail::kShortTypeName<T>.view() : decl.name.view();
    Claim c = claim(&detail::TypeTag<T>::id, preferred, detail::kQualifiedTypeName<T>.view());
    if (!c.fresh) return c.name;
    boost::json::object properties;
    boost::json::array required;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (add_property<T, I>(properties, required), ...);
    }(std::make_index_sequence<std::remove_cvref_t<decltype(decl)>::kCount>{});
    boost::json::object s;
    s["type"] = "object";
    s["title"] = preferred;
    if (!decl.description.empty()) s["description"] = decl.description.view();
    s["properties"] = std::move(properties);
    if (!required.empty()) s["required"] = std::move(required);
    if (decl.extra_forbidden) s["additionalProperties"] = false;
    components_[c.name] = std::move(s);  // the placeholder is still there: nested types never erase
    return c.name;
  }

  template <class T, std::size_t I>
  void add_property(boost::json::object& properties, boost::json::array& required) {
    constexpr const auto& f = std::get<I>(detail::schema_of<T>().fields);
    using M = typename std::remove_cvref_t<decltype(f)>::Member;
    static_assert(JsonValueType<M>, SERVAL_UNSUPPORTED_TYPE_MESSAGE);
    boost::json::object p = type_schema<M>(f.rules);
    if (f.rules.title_text.empty() && !p.contains("$ref")) p["title"] = detail::title_case(f.name);
    detail::apply_annotations(p, f.rules);
    if constexpr (f.may_be_omitted()) {
      if constexpr (std::is_default_constructible_v<T>) {
        p["default"] = to_json_value(detail::default_instance<T>().*(f.member));
      }
    } else {
      required.emplace_back(boost::json::string_view(f.name.data(), f.name.size()));
    }
    properties[boost::json::string_view(f.name.data(), f.name.size())] = std::move(p);
  }

  std::unordered_map<const void*, std::string> names_;
  boost::json::object components_;
};

}  // namespace serval
