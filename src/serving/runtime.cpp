#include "serval/serving/runtime.hpp"

#include <map>
#include <mutex>

namespace serval::serving {

std::string_view error_class_name(ErrorClass c) noexcept {
  switch (c) {
    case ErrorClass::Client: return "client";
    case ErrorClass::Inference: return "inference";
    case ErrorClass::Timeout: return "timeout";
    case ErrorClass::Overload: return "overload";
    case ErrorClass::Unavailable: return "unavailable";
  }
  return "inference";
}

int error_class_status(ErrorClass c) noexcept {
  switch (c) {
    case ErrorClass::Client: return 422;
    case ErrorClass::Inference: return 500;
    case ErrorClass::Timeout: return 504;
    case ErrorClass::Overload: return 429;
    case ErrorClass::Unavailable: return 503;
  }
  return 500;
}

namespace {
struct Factories {
  std::mutex mu;
  std::map<std::string, RuntimeFactory, std::less<>> by_name;
};
Factories& factories() {
  static Factories f;
  return f;
}
}  // namespace

void register_runtime(std::string name, RuntimeFactory factory) {
  auto& f = factories();
  std::lock_guard lock(f.mu);
  f.by_name[std::move(name)] = std::move(factory);
}

const RuntimeFactory* find_runtime(std::string_view name) {
  auto& f = factories();
  std::lock_guard lock(f.mu);
  auto it = f.by_name.find(name);
  return it == f.by_name.end() ? nullptr : &it->second;
}

}  // namespace serval::serving
