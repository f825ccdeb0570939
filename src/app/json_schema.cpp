#include "serval/app/json_schema.hpp"

#include <cmath>

namespace serval {
namespace detail {
namespace {

boost::json::value number_value(double d) {
  // Integral limits are written as integers, as they were most likely declared (ge(1) -> 1).
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= 9007199254740992.0) {
    return static_cast<std::int64_t>(d);
  }
  return d;
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

std::string title_case(std::string_view field_name) {
  std::string out;
  out.reserve(field_name.size());
  bool previous_letter = false;
  for (char c : field_name) {
    if (is_letter(c)) {
      if (previous_letter) {
        out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      } else {
        out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
      }
      previous_letter = true;
    } else {
      out.push_back(c == '_' ? ' ' : c);
      previous_letter = false;
    }
  }
  return out;
}

void apply_number_rules(boost::json::object& s, const Rules& r) {
  if (r.has_ge) s["minimum"] = number_value(r.ge_value);
  if (r.has_gt) s["exclusiveMinimum"] = number_value(r.gt_value);
  if (r.has_le) s["maximum"] = number_value(r.le_value);
  if (r.has_lt) s["exclusiveMaximum"] = number_value(r.lt_value);
}

void apply_integer_range(boost::json::object& s, const Rules& r, std::int64_t lo, std::uint64_t hi, bool show_lo,
                         bool show_hi) {
  // The C++ type's range is enforced too (see json.hpp), so say so where it is not obvious.
  if (show_lo && !r.has_ge && !r.has_gt) s["minimum"] = lo;
  if (show_hi && !r.has_le && !r.has_lt) s["maximum"] = hi;
}

void apply_string_rules(boost::json::object& s, const Rules& r) {
  if (r.has_min_length) s["minLength"] = static_cast<std::uint64_t>(r.min_length_value);
  if (r.has_max_length) s["maxLength"] = static_cast<std::uint64_t>(r.max_length_value);
  if (r.has_pattern()) s["pattern"] = r.pattern_text.view();
}

void apply_count_rules(boost::json::object& s, const Rules& r, std::string_view min_key, std::string_view max_key) {
  if (r.has_min_length) s[min_key] = static_cast<std::uint64_t>(r.min_length_value);
  if (r.has_max_length) s[max_key] = static_cast<std::uint64_t>(r.max_length_value);
}

void apply_annotations(boost::json::object& s, const Rules& r) {
  if (!r.title_text.empty()) s["title"] = r.title_text.view();
  if (!r.description.empty()) s["description"] = r.description.view();
  if (r.is_deprecated) s["deprecated"] = true;
  if (r.is_read_only) s["readOnly"] = true;
}

}  // namespace detail

SchemaRegistry::Claim SchemaRegistry::claim(const void* key, std::string_view preferred, std::string_view qualified) {
  if (const auto it = names_.find(key); it != names_.end()) return Claim{it->second, false};
  std::string name(preferred);
  if (components_.contains(name)) name.assign(qualified);
  for (int n = 2; components_.contains(name); ++n) {
    name.assign(preferred);
    name.append("_");
    name.append(std::to_string(n));
  }
  names_.emplace(key, name);
  // A placeholder keeps the name taken (and the order parent-first) while nested types register.
  components_[name] = boost::json::object();
  return Claim{std::move(name), true};
}

boost::json::object SchemaRegistry::ref_to(std::string_view name) {
  std::string ref = "#/components/schemas/";
  ref.append(name);
  return boost::json::object{{"$ref", ref}};
}

}  // namespace serval
