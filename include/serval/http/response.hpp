// Response: what a handler answers — status, headers, and a body that is either a string or a
// stream of chunks produced by an AsyncGenerator (sent with chunked transfer-encoding).
//
//   return serval::http::Response::json(201, R"({"id":1})").with_header("Location", "/items/1");
//   return serval::http::Response::error(404, "Item not found");   // {"detail":"Item not found"}
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serval/async/generator.hpp"

namespace serval::http {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed chunk by chunk (and `body` is ignored).
  std::optional<AsyncGenerator<std::string>> stream;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // FastAPI's error shape: {"detail": "<detail>"}.
  static Response error(int status, std::string_view detail);
  static Response streaming(AsyncGenerator<std::string> chunks, std::string content_type);

  Response& with_header(std::string name, std::string value) & {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Response&& with_header(std::string name, std::string value) && {
    headers.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }
  std::string_view header(std::string_view name) const noexcept;
};

// The standard reason phrase for a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status) noexcept;

}  // namespace serval::http
