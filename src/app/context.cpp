#include "serval/app/context.hpp"

namespace serval {

void Context::reset(App* app, const http::Request* request) {
  app_ = app;
  request_ = request;
  started_ = request != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  request_id_.clear();
  values_.clear();
  response_headers_.clear();
  background_.clear();
}

void Context::put(const void* key, std::shared_ptr<void> value) {
  for (auto& [k, v] : values_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  values_.emplace_back(key, std::move(value));
}

void* Context::get(const void* key) const noexcept {
  for (const auto& [k, v] : values_)
    if (k == key) return v.get();
  return nullptr;
}

}  // namespace serval
