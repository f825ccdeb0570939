// Dependency injection, FastAPI's Depends in C++. A handler asks for `serval::Dep<T>`; the app
// supplies it from the provider registered for T:
//
//   app.provide<ModelService>([] { return std::make_shared<ModelService>("models/"); });  // app scope: built once, at start-up
//   app.provide_per_request<User>([](serval::Header<std::string, "authorization"> auth,
//                                    serval::Dep<TokenVerifier> verifier) -> User {     // request scope: per request
//     return verifier->user(*auth);                                                   // may throw HttpError(401)
//   });
//   app.get("/me", [](serval::Dep<User> user) { return user->name; });
//
//   app.override_dependency<User>([] { return User{"test"}; });                       // in tests
//
// A request-scoped provider takes the same parameters as a handler (Path, Query, Header, Dep,
// Context&, the request); its inputs are validated (422) and documented in /openapi.json for every
// route that uses it. Within one request a dependency is built once and shared. Returning a
// std::shared_ptr<T> with a custom deleter gives you clean-up at the end of the request (FastAPI's
// `yield` dependencies). App-scoped providers may only take Dep<> parameters of other app-scoped
// types; they are all built by App::startup() before the first request.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "serval/app/route_doc.hpp"
#include "serval/app/validation.hpp"
#include "serval/http/request.hpp"

namespace serval {

template <class T>
struct Dep {
  T* ptr = nullptr;
  T& operator*() const noexcept { return *ptr; }
  T* operator->() const noexcept { return ptr; }
  T& get() const noexcept { return *ptr; }
};

enum class DependencyScope { kApp, kRequest };

struct Provider {
  DependencyScope scope = DependencyScope::kRequest;
  std::string type_name;
  // Builds the value; returns nullptr after adding validation errors to `errs`.
  std::function<std::shared_ptr<void>(http::Request&, ValidationErrors&)> make;
  std::vector<ParamDoc> params;     // inputs it reads (for the OpenAPI parameters of its users)
  std::vector<const void*> deps;    // the Dep<> keys it uses
  std::shared_ptr<void> instance;   // app scope, once built
  std::mutex mu;
};

class DependencyRegistry {
 public:
  void add(const void* key, std::shared_ptr<Provider> provider);
  void add_override(const void* key, std::shared_ptr<Provider> provider);
  void clear_overrides();
  Provider* find(const void* key) const noexcept;
  const std::unordered_map<const void*, std::shared_ptr<Provider>>& providers() const noexcept { return providers_; }

 private:
  std::unordered_map<const void*, std::shared_ptr<Provider>> providers_;
  std::unordered_map<const void*, std::shared_ptr<Provider>> overrides_;
};

}  // namespace serval
