// App: the application — typed routes, exception handlers, OpenAPI docs — and the Dispatcher
// the HTTP connections call. One App per process (or per test); no global state.
//
//   serval::App app{{.title = "Spam filter"}};
//   app.post("/classify", [](ClassifyIn in) -> ClassifyOut { ... }, {.summary = "Classify a text"});
//   return app.run(argc, argv);   // --host --port --threads ...; SIGTERM drains
//
// Routes are registered before the server starts; /openapi.json and /docs come built in.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "serval/app/background.hpp"
#include "serval/app/cli.hpp"
#include "serval/app/context.hpp"
#include "serval/app/dependency.hpp"
#include "serval/app/endpoint.hpp"
#include "serval/app/middleware.hpp"
#include "serval/app/route_doc.hpp"
#include "serval/app/websocket.hpp"
#include "serval/http/connection.hpp"
#include "serval/http/router.hpp"
#include "serval/net/server.hpp"

namespace serval {

struct StaticFilesOptions;  // serval/app/middleware/static_files.hpp

struct AppInfo {
  std::string title = "serval";
  std::string version = "0.1.0";
  std::string description;
  std::string openapi_url = "/openapi.json";  // empty: no OpenAPI document (and no /docs)
  std::string docs_url = "/docs";             // empty: no Swagger UI
};

class App : public http::Dispatcher {
 public:
  explicit App(AppInfo info = {});
  ~App() override;
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  template <class F>
  App& get(std::string_view path, F handler, RouteInfo info = {}) {
    return route(http::Method::kGet, path, std::move(handler), std::move(info));
  }
  template <class F>
  App& post(std::string_view path, F handler, RouteInfo info = {}) {
    return route(http::Method::kPost, path, std::move(handler), std::move(info));
  }
  template <class F>
  App& put(std::string_view path, F handler, RouteInfo info = {}) {
    return route(http::Method::kPut, path, std::move(handler), std::move(info));
  }
  template <class F>
  App& patch(std::string_view path, F handler, RouteInfo info = {}) {
    return route(http::Method::kPatch, path, std::move(handler), std::move(info));
  }
  template <class F>
  App& del(std::string_view path, F handler, RouteInfo info = {}) {
    return route(http::Method::kDelete, path, std::move(handler), std::move(info));
  }

  template <class F>
  App& route(http::Method method, std::string_view path, F handler, RouteInfo info = {}) {
    RouteDoc doc;
    doc.method = method;
    doc.path = std::string(path);
    doc.info = std::move(info);
    RouteHandler h = bind_endpoint(std::move(handler), doc);
    return add_route(std::move(doc), std::move(h));
  }

  // A route whose handler works on the raw request; `doc` describes it for OpenAPI.
  App& add_route(RouteDoc doc, RouteHandler handler);

  // A WebSocket route (GET + Upgrade): `handler` is a coroutine taking serval::WebSocket& (and
  // optionally const http::Request&); see websocket.hpp. Never listed in /openapi.json.
  template <class F>
  App& websocket(std::string_view path, F handler, RouteInfo info = {}, WebSocketOptions options = {}) {
    return add_websocket(path, detail::make_websocket_handler(std::move(handler)), std::move(info), std::move(options));
  }
  App& add_websocket(std::string_view path, WebSocketHandler handler, RouteInfo info, WebSocketOptions options);

  // Maps exceptions of type E (and types derived from it) to a response, like FastAPI's
  // @app.exception_handler. Handlers are tried in registration order.
  template <class E, class F>
  App& exception_handler(F f) {
    exception_handlers_.push_back(
        [f = std::move(f)](std::exception_ptr e, const http::Request& req) -> std::optional<http::Response> {
          try {
            std::rethrow_exception(e);
          } catch (const E& err) {
            return f(err, req);
          } catch (...) {
            return std::nullopt;
          }
        });
    return *this;
  }

  // Dependencies (see dependency.hpp). App scope: built once by startup(); request scope: per request.
  template <class T, class F>
  App& provide(F factory) {
    dependencies_.add(&detail::kTypeKey<T>, make_provider<T>(std::move(factory), DependencyScope::kApp));
    return *this;
  }
  template <class T>
  App& provide_instance(std::shared_ptr<T> instance) {
    auto p = std::make_shared<Provider>();
    p->scope = DependencyScope::kApp;
    p->type_name = std::string(detail::kShortTypeName<T>.view());
    p->instance = std::move(instance);
    dependencies_.add(&detail::kTypeKey<T>, std::move(p));
    return *this;
  }
  template <class T, class F>
  App& provide_per_request(F factory) {
    dependencies_.add(&detail::kTypeKey<T>, make_provider<T>(std::move(factory), DependencyScope::kRequest));
    return *this;
  }
  // Replaces T's provider (whatever its scope) with a per-request factory, e.g. in tests.
  template <class T, class F>
  App& override_dependency(F factory) {
    dependencies_.add_override(&detail::kTypeKey<T>, make_provider<T>(std::move(factory), DependencyScope::kRequest));
    return *this;
  }
  App& clear_dependency_overrides() {
    dependencies_.clear_overrides();
    return *this;
  }
  DependencyRegistry& dependencies() noexcept { return dependencies_; }

  // Lifespan. Start-up hooks run once, after app-scoped dependencies are built and before any
  // request reaches a route (until then routes answer 503 and GET /ready says "starting"); a hook
  // that throws stops the server. Shutdown hooks run in reverse order after the drain.
  App& on_startup(std::function<void()> hook) {
    startup_hooks_.push_back(std::move(hook));
    return *this;
  }
  App& on_shutdown(std::function<void()> hook) {
    shutdown_hooks_.push_back(std::move(hook));
    return *this;
  }
  void startup();   // idempotent; run() calls it (TestClient too)
  void shutdown();  // idempotent; run() calls it
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  // Appends a step to the global middleware list (runs for every request, in order of use()).
  App& use(MiddlewarePtr middleware);

  // Serves the files under `directory` at `prefix` + "/{path...}" (GET, HEAD), e.g.
  // app.mount_static("/static", "./www", {.html = true}). Defined in middleware/static_files.cpp.
  App& mount_static(std::string_view prefix, const std::string& directory);
  App& mount_static(std::string_view prefix, const std::string& directory, const StaticFilesOptions& options);

  const AppInfo& info() const noexcept { return info_; }
  const std::vector<RouteDoc>& routes() const noexcept { return docs_; }

  // The OpenAPI 3.1 document for the registered routes (built once, then cached).
  const std::string& openapi_json();

  http::HandlerOutcome dispatch(http::Request& request) override;

  // Parses --host --port --threads and the server limits (see --help), then serves until SIGTERM.
  int run(int argc, char** argv);
  // The same, also accepting the app's own flags (see cli.hpp).
  int run(int argc, char** argv, const CliOptions& extra);
  int run(net::ServerOptions options);

  // Runs a request's background tasks on the pool (called once its response is sent).
  void run_background(std::vector<std::function<void()>> tasks) { background_.submit(std::move(tasks)); }
  BackgroundPool& background_pool() noexcept { return background_; }

  // The response for an exception thrown by a handler (user handlers, HttpError, else 500).
  http::Response handle_exception(std::exception_ptr error, const http::Request& request);

 private:
  void add_builtin_routes();
  struct Progress;  // how far a request got through the middleware lists
  Task<http::Response> guarded(Task<http::Response> task, http::Request& request, Context* ctx, Progress progress);
  http::Response complete(http::Response response, http::Request& request, Context* ctx, const Progress& progress);
  std::vector<MiddlewarePtr> middleware_;
  BackgroundPool background_{2};
  DependencyRegistry dependencies_;
  std::vector<std::function<void()>> startup_hooks_;
  std::vector<std::function<void()>> shutdown_hooks_;
  std::atomic<bool> ready_{false};
  std::once_flag startup_once_;
  std::once_flag shutdown_once_;
  bool probes_added_ = false;
  void add_probe_routes();
  bool has_route(http::Method method, std::string_view path);
  AppInfo info_;
  http::Router router_;
  std::vector<RouteHandler> handlers_;
  std::vector<RouteDoc> docs_;
  std::vector<std::function<std::optional<http::Response>(std::exception_ptr, const http::Request&)>>
      exception_handlers_;
  std::once_flag openapi_once_;
  std::string openapi_;
};

// Parses the standard server flags. Returns false and fills `error` (usage on --help).
bool parse_server_args(int argc, char** argv, net::ServerOptions& options, std::string& error, bool& help,
                       const CliOptions* extra = nullptr);
std::string server_usage(std::string_view program, const CliOptions* extra = nullptr);

// Parses the server's and the app's flags before the app is built (so flags can configure it).
// Returns nothing on success; on --help or a bad flag it prints and returns the exit code (0 / 2).
//   serval::net::ServerOptions opts;
//   if (auto rc = serval::parse_command_line(argc, argv, cli, opts)) return *rc;
std::optional<int> parse_command_line(int argc, char** argv, const CliOptions& extra, net::ServerOptions& out);

}  // namespace serval
