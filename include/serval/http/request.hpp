// Request: one parsed HTTP/1.1 request, as views into the connection's read buffer.
//
// The views stay valid until the handler's response has been produced; a handler that needs data
// later (a background task, a coroutine that outlives the request) copies it. Header names are
// compared case-insensitively, as RFC 9110 requires.
//
//   std::string_view ua = req.header("user-agent");
//   std::string_view id = req.path_param("id");     // raw, still percent-encoded
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace serval::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kTrace, kConnect, kOther };

Method method_from_string(std::string_view m) noexcept;
std::string_view to_string(Method m) noexcept;

struct Header {
  std::string_view name;
  std::string_view value;
};

bool iequals(std::string_view a, std::string_view b) noexcept;

struct Request {
  Method method = Method::kGet;
  std::string_view method_name;  // as sent, e.g. "GET"
  std::string_view target;       // request-target as sent: "/a/b?x=1"
  std::string_view path;         // target up to '?', still percent-encoded
  std::string_view query;        // after '?', without it; empty when absent
  int version_minor = 1;         // HTTP/1.<minor>
  std::vector<Header> headers;
  std::string_view body;         // de-chunked when the request was chunked
  bool keep_alive = true;

  // Filled by the router: {name, raw value} for each {param} in the matched route.
  std::vector<std::pair<std::string_view, std::string_view>> path_params;
  std::string_view route;        // the matched route's pattern, e.g. "/items/{id}"
  void* context = nullptr;       // the application's per-request state (serval::Context)
  std::string_view remote_address;  // the peer's IP address ("127.0.0.1", "::1"); empty in-process

  // Returns the first header with this name, or an empty view.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
  std::string_view path_param(std::string_view name) const noexcept;
};

// Percent-decodes `in` (and '+' as space when `plus_as_space`); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space = false);

// Finds the first `name` in an application/x-www-form-urlencoded query; decoded. Returns false when absent.
bool query_param(std::string_view query, std::string_view name, std::string& value);

}  // namespace serval::http
