#include "serval/app/security/principal.hpp"

#include <algorithm>

namespace serval {

bool Principal::has_scope(std::string_view scope) const noexcept {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

bool Principal::has_scopes(const std::vector<std::string>& required) const noexcept {
  return std::all_of(required.begin(), required.end(), [this](const std::string& s) { return has_scope(s); });
}

std::vector<std::string> Principal::missing_scopes(const std::vector<std::string>& required) const {
  std::vector<std::string> missing;
  for (const auto& s : required)
    if (!has_scope(s)) missing.push_back(s);
  return missing;
}

}  // namespace serval
