// Context: the per-request state that middleware, dependencies and the handler share — the
// request id, the authenticated principal, request-scoped dependency values, headers to add to
// the response, and background tasks to run once the response is sent.
//
//   // in a middleware's before():
//   ctx.emplace<Principal>(Principal{.subject = "alice", .scopes = {"me:read"}});
//   // in a handler (parameter `serval::Context& ctx`):
//   if (auto* p = ctx.find<Principal>()) ...
//   ctx.add_response_header("X-Cache", "miss");
//
// One Context per request, reused from a per-thread pool (no allocation in steady state).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serval/http/request.hpp"

namespace serval {

class App;

namespace detail {
template <class T>
inline constexpr char kTypeKey = 0;
}

class Context {
 public:
  Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  App& app() const noexcept { return *app_; }
  const http::Request& request() const noexcept { return *request_; }
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }

  // Set by the RequestId middleware (X-Request-ID in and out); empty without it.
  std::string_view request_id() const noexcept { return request_id_; }
  void set_request_id(std::string id) { request_id_ = std::move(id); }

  // Typed values, at most one per type. emplace replaces; find returns nullptr when absent.
  template <class T, class... A>
  T& emplace(A&&... args) {
    auto value = std::make_shared<T>(std::forward<A>(args)...);
    T& ref = *value;
    put(&detail::kTypeKey<T>, std::move(value));
    return ref;
  }
  template <class T>
  void put_shared(std::shared_ptr<T> value) {
    put(&detail::kTypeKey<T>, std::move(value));
  }
  template <class T>
  T* find() const noexcept {
    return static_cast<T*>(get(&detail::kTypeKey<T>));
  }

  // Headers every response to this request carries (also error responses), e.g. set in before().
  void add_response_header(std::string name, std::string value) {
    response_headers_.emplace_back(std::move(name), std::move(value));
  }
  std::vector<std::pair<std::string, std::string>>& response_headers() noexcept { return response_headers_; }

  // Work to run on the background pool after the response has been sent.
  void add_background(std::function<void()> task) { background_.push_back(std::move(task)); }
  std::vector<std::function<void()>>& background() noexcept { return background_; }

  // Used by App: bind to a request / clear for reuse.
  void reset(App* app, const http::Request* request);

 private:
  void put(const void* key, std::shared_ptr<void> value);
  void* get(const void* key) const noexcept;

  App* app_ = nullptr;
  const http::Request* request_ = nullptr;
  std::chrono::steady_clock::time_point started_{};
  std::string request_id_;
  std::vector<std::pair<const void*, std::shared_ptr<void>>> values_;
  std::vector<std::pair<std::string, std::string>> response_headers_;
  std::vector<std::function<void()>> background_;
};

// A handler parameter for scheduling work after the response, like FastAPI's BackgroundTasks.
//   app.post("/notes", [](Note n, serval::BackgroundTasks& bg) { bg.add([n] { save(n); }); ... });
class BackgroundTasks {
 public:
  explicit BackgroundTasks(Context& ctx) : ctx_(&ctx) {}
  void add(std::function<void()> task) { ctx_->add_background(std::move(task)); }

 private:
  Context* ctx_;
};

}  // namespace serval
