// Handler parameters that say where an input comes from: the path, the query string or a header.
// Their name and rules are part of the type, so one declaration drives extraction, conversion,
// validation (422) and the OpenAPI parameter list. A described struct parameter is the JSON body.
//
//   app.get("/items/{id}", [](serval::Path<int, "id", serval::rules().ge(1)> id,
//                             serval::Query<std::optional<std::string>, "q"> q,
//                             serval::Header<std::string, "x-token"> token) -> Item { ... });
//
// Access the value with `*p`, `p->member` or `p.value`. std::optional<T> makes a parameter
// optional; so does `serval::rules().optional()` with the default taken from `Default`.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "serval/app/schema.hpp"

namespace serval {

// A string literal usable as a template argument: serval::Query<int, "limit">.
template <std::size_t N>
struct Name {
  char value[N]{};
  constexpr Name(const char (&s)[N]) { std::copy_n(s, N, value); }  // NOLINT: implicit on purpose
  constexpr std::string_view view() const { return {value, N - 1}; }
};

enum class ParamSource { kPath, kQuery, kHeader };

template <class T, ParamSource S, Name N, Rules R>
struct Param {
  using value_type = T;
  static constexpr ParamSource kSource = S;
  static constexpr std::string_view kName = N.view();
  static constexpr Rules kRules = R;

  T value{};

  const T& operator*() const noexcept { return value; }
  T& operator*() noexcept { return value; }
  const T* operator->() const noexcept { return &value; }
  T* operator->() noexcept { return &value; }
};

template <class T, Name N, Rules R = Rules{}>
using Path = Param<T, ParamSource::kPath, N, R>;
template <class T, Name N, Rules R = Rules{}>
using Query = Param<T, ParamSource::kQuery, N, R>;
// Header names are matched case-insensitively.
template <class T, Name N, Rules R = Rules{}>
using Header = Param<T, ParamSource::kHeader, N, R>;

// The JSON request body, when you want to say so explicitly (a described struct parameter is
// the body anyway).
template <class T>
struct Body {
  using value_type = T;
  T value{};
  const T& operator*() const noexcept { return value; }
  T& operator*() noexcept { return value; }
  const T* operator->() const noexcept { return &value; }
  T* operator->() noexcept { return &value; }
};

namespace detail {
template <class P>
struct is_param : std::false_type {};
template <class T, ParamSource S, Name N, Rules R>
struct is_param<Param<T, S, N, R>> : std::true_type {};
template <class P>
struct is_body : std::false_type {};
template <class T>
struct is_body<Body<T>> : std::true_type {};
}  // namespace detail

}  // namespace serval
