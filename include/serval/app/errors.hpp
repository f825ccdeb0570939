// Typed HTTP errors, FastAPI's HTTPException: throw one anywhere in a handler and the client gets
// `status` with {"detail": ...}. Any other exception becomes a logged 500 with a JSON body.
//
//   if (!item) throw serval::HttpError(404, "Item not found");
//   throw serval::HttpError(401, "Not authenticated").with_header("WWW-Authenticate", "Bearer");
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace serval {

class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string detail) : std::runtime_error(detail), status_(status), detail_(detail) {}
  HttpError(int status, const char* detail) : HttpError(status, std::string(detail)) {}
  // A structured detail, serialised as JSON: {"detail": <value>}.
  HttpError(int status, boost::json::value detail)
      : std::runtime_error("http error"), status_(status), detail_(std::move(detail)) {}

  HttpError& with_header(std::string name, std::string value) & {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  HttpError&& with_header(std::string name, std::string value) && {
    headers_.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }

  int status() const noexcept { return status_; }
  const boost::json::value& detail() const noexcept { return detail_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }

 private:
  int status_;
  boost::json::value detail_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace serval
