// Small header-list helpers shared by the standard middleware (not public API).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serval/http/request.hpp"

namespace serval::detail {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each comma-separated, trimmed, non-empty token of `list`; stops when f returns true.
template <class F>
bool any_token(std::string_view list, F&& f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view token = trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (!token.empty() && f(token)) return true;
  }
  return false;
}

inline bool has_token(std::string_view list, std::string_view token) {
  return any_token(list, [&](std::string_view t) { return http::iequals(t, token); });
}

inline std::string* find_header(HeaderList& headers, std::string_view name) noexcept {
  for (auto& [n, v] : headers)
    if (http::iequals(n, name)) return &v;
  return nullptr;
}

// Replaces the first header called `name`, or appends one.
inline void set_header(HeaderList& headers, std::string_view name, std::string value) {
  if (std::string* v = find_header(headers, name)) {
    *v = std::move(value);
  } else {
    headers.emplace_back(std::string(name), std::move(value));
  }
}

// Adds `token` to the response's Vary header (creating it, never duplicating a token).
inline void add_vary(HeaderList& headers, std::string_view token) {
  std::string* vary = find_header(headers, "Vary");
  if (vary == nullptr) {
    headers.emplace_back("Vary", std::string(token));
    return;
  }
  if (has_token(*vary, token) || has_token(*vary, "*")) return;
  if (!trim_ows(*vary).empty()) *vary += ", ";
  *vary += token;
}

}  // namespace serval::detail
