#include "serval/app/app.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include <boost/json/serialize.hpp>

#include "serval/observe/log.hpp"

namespace serval {

namespace detail {

void add_missing(ValidationErrors& errs, std::string_view source, std::string_view name) {
  ValidationIssue issue;
  issue.type = "missing";
  issue.loc = {std::string(source), std::string(name)};
  issue.msg = "Field required";
  issue.input = nullptr;
  errs.add(std::move(issue));
}

bool body_is_json(const http::Request& req, ValidationErrors& errs) {
  std::string_view ct = req.header("content-type");
  if (ct.empty()) return true;  // like FastAPI: no Content-Type, try JSON
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (http::iequals(media, "application/json")) return true;
  // application/<anything>+json (problem+json, merge-patch+json...) is JSON too.
  if (media.size() > 5 && http::iequals(media.substr(media.size() - 5), "+json") &&
      http::iequals(media.substr(0, 12), "application/"))
    return true;
  ValidationIssue issue;
  issue.type = "content_type";
  issue.loc = {std::string("body")};
  issue.msg = "Content-Type must be application/json";
  issue.input = boost::json::string(ct);
  errs.add(std::move(issue));
  return false;
}

http::Response validation_failed(const ValidationErrors& errs) { return http::Response::json(422, errs.to_json()); }

Provider& provider_for(Context& ctx, const void* key, std::string_view type_name) {
  Provider* p = ctx.app().dependencies().find(key);
  if (p == nullptr)
    throw std::logic_error("no provider registered for serval::Dep<" + std::string(type_name) +
                           ">: call app.provide<" + std::string(type_name) + ">(...) or provide_per_request");
  return *p;
}

std::shared_ptr<void> build_dependency(Provider& p, http::Request& req, ValidationErrors& errs) {
  if (p.scope == DependencyScope::kRequest) return p.make(req, errs);
  std::lock_guard lock(p.mu);  // app scope: built once, shared by every thread
  if (!p.instance) p.instance = p.make(req, errs);
  return p.instance;
}

}  // namespace detail

App::App(AppInfo info) : info_(std::move(info)) { add_builtin_routes(); }
App::~App() = default;

App& App::add_route(RouteDoc doc, RouteHandler handler) {
  // Every {param} of the path must be declared by the handler, and every Path<> must be in the path.
  auto names = http::Router::param_names(doc.path);
  for (const auto& p : doc.params) {
    if (std::string_view(p.in) != "path") continue;
    bool found = false;
    for (const auto& n : names) found = found || n == p.name;
    if (!found)
      throw std::logic_error("route " + doc.path + ": handler parameter serval::Path<..., \"" + p.name +
                             "\"> has no {" + p.name + "} in the path");
  }
  for (const auto& n : names) {
    bool declared = false;
    for (const auto& p : doc.params) declared = declared || (std::string_view(p.in) == "path" && p.name == n);
    if (!declared) {
      ParamDoc p;
      p.in = "path";
      p.name = n;
      p.schema = [](SchemaRegistry&) { return boost::json::value{{"type", "string"}}; };
      doc.params.push_back(std::move(p));
    }
  }
  router_.add(doc.method, doc.path, handlers_.size());
  handlers_.push_back(std::move(handler));
  docs_.push_back(std::move(doc));
  return *this;
}

namespace {
// Contexts are reused from a per-thread pool: no allocation per request in steady state.
thread_local std::vector<std::unique_ptr<Context>> t_context_pool;

Context* acquire_context(App* app, http::Request& req) {
  std::unique_ptr<Context> ctx;
  if (t_context_pool.empty()) {
    ctx = std::make_unique<Context>();
  } else {
    ctx = std::move(t_context_pool.back());
    t_context_pool.pop_back();
  }
  ctx->reset(app, &req);
  req.context = ctx.get();
  return ctx.release();
}

void release_context(Context* ctx) {
  ctx->reset(nullptr, nullptr);
  if (t_context_pool.size() < 1024) {
    t_context_pool.emplace_back(ctx);
  } else {
    delete ctx;
  }
}
}  // namespace

struct App::Progress {
  std::size_t global = 0;                          // global steps whose before() ran
  const std::vector<MiddlewarePtr>* route = nullptr;
  std::size_t route_ran = 0;                       // route steps whose before() ran
};

App& App::use(MiddlewarePtr middleware) {
  middleware_.push_back(std::move(middleware));
  return *this;
}

http::HandlerOutcome App::dispatch(http::Request& req) {
  if (!ready_.load(std::memory_order_acquire) && req.path != "/health" && req.path != "/ready" &&
      req.path != info_.openapi_url && !req.path.starts_with(info_.docs_url.empty() ? "/docs" : info_.docs_url)) {
    return http::Response::error(503, "Service is starting").with_header("Retry-After", "1");
  }
  Context* ctx = acquire_context(this, req);
  Progress progress;
  http::Response response;
  try {
    for (const auto& mw : middleware_) {
      ++progress.global;
      if (auto early = mw->before(req, *ctx)) return complete(std::move(*early), req, ctx, progress);
    }
    http::Router::Match m = router_.match(req.method, req.path, req.path_params);
    switch (m.kind) {
      case http::Router::Match::Kind::kNotFound:
        return complete(http::Response::error(404, "Not Found"), req, ctx, progress);
      case http::Router::Match::Kind::kMethodNotAllowed:
        if (req.method == http::Method::kOptions) {
          http::Response r;
          r.status = 204;
          r.headers.emplace_back("Allow", m.allow + ", OPTIONS");
          return complete(std::move(r), req, ctx, progress);
        }
        return complete(http::Response::error(405, "Method Not Allowed").with_header("Allow", m.allow), req, ctx,
                        progress);
      case http::Router::Match::Kind::kFound:
        break;
    }
    req.route = m.pattern;
    const auto& route_mw = docs_[m.route_id].info.middleware;
    if (!route_mw.empty()) {
      progress.route = &route_mw;
      for (const auto& mw : route_mw) {
        ++progress.route_ran;
        if (auto early = mw->before(req, *ctx)) return complete(std::move(*early), req, ctx, progress);
      }
    }
    http::HandlerOutcome out = handlers_[m.route_id](req);
    if (auto* task = std::get_if<Task<http::Response>>(&out)) return guarded(std::move(*task), req, ctx, progress);
    response = std::move(std::get<http::Response>(out));
  } catch (...) {
    response = handle_exception(std::current_exception(), req);
  }
  return complete(std::move(response), req, ctx, progress);
}

http::Response App::complete(http::Response response, http::Request& req, Context* ctx, const Progress& progress) {
  for (auto& h : ctx->response_headers()) response.headers.push_back(std::move(h));
  try {
    if (progress.route != nullptr)
      for (std::size_t i = progress.route_ran; i-- > 0;) (*progress.route)[i]->after(req, *ctx, response);
    for (std::size_t i = progress.global; i-- > 0;) middleware_[i]->after(req, *ctx, response);
  } catch (...) {
    response = handle_exception(std::current_exception(), req);
  }
  if (!ctx->background().empty()) {
    auto tasks = std::make_shared<std::vector<std::function<void()>>>(std::move(ctx->background()));
    response.on_sent.push_back([this, tasks] { run_background(std::move(*tasks)); });
  }
  req.context = nullptr;
  release_context(ctx);
  return response;
}

Task<http::Response> App::guarded(Task<http::Response> task, http::Request& req, Context* ctx, Progress progress) {
  // If the client leaves, the connection destroys this frame while it is suspended: hand the
  // context back to the pool then too.
  struct Lease {
    Context* ctx;
    ~Lease() {
      if (ctx != nullptr) release_context(ctx);
    }
  } lease{ctx};
  std::exception_ptr error;
  http::Response response;
  try {
    response = co_await std::move(task);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) response = handle_exception(error, req);
  lease.ctx = nullptr;  // complete() releases it
  co_return complete(std::move(response), req, ctx, progress);
}

bool App::has_route(http::Method method, std::string_view path) {
  http::Router::Params params;
  auto m = router_.match(method, path, params);
  return m.kind == http::Router::Match::Kind::kFound && m.pattern == path;
}

void App::add_probe_routes() {
  if (probes_added_) return;
  probes_added_ = true;
  if (!has_route(http::Method::kGet, "/health")) {
    RouteDoc doc;
    doc.path = "/health";
    doc.info.summary = "Liveness: the process is up";
    doc.info.tags = {"ops"};
    doc.response_schema = [](SchemaRegistry&) {
      return boost::json::value{{"type", "object"},
                                {"properties", {{"status", {{"type", "string"}}}}},
                                {"required", boost::json::array{"status"}}};
    };
    add_route(std::move(doc), [](http::Request&) -> http::HandlerOutcome {
      return http::Response::json(200, R"({"status":"ok"})");
    });
  }
  if (!has_route(http::Method::kGet, "/ready")) {
    RouteDoc doc;
    doc.path = "/ready";
    doc.info.summary = "Readiness: start-up finished (models loaded); 503 until then";
    doc.info.tags = {"ops"};
    doc.info.responses = {{503, "Still starting"}};
    doc.response_schema = [](SchemaRegistry&) {
      return boost::json::value{{"type", "object"},
                                {"properties", {{"status", {{"type", "string"}}}}},
                                {"required", boost::json::array{"status"}}};
    };
    add_route(std::move(doc), [this](http::Request&) -> http::HandlerOutcome {
      if (ready()) return http::Response::json(200, R"({"status":"ready"})");
      return http::Response::json(503, R"({"status":"starting"})").with_header("Retry-After", "1");
    });
  }
}

void App::startup() {
  std::call_once(startup_once_, [this] {
    add_probe_routes();
    // Build every app-scoped dependency now, so the first request never pays for a model load.
    http::Request dummy;
    dummy.path = "/";
    Context* ctx = acquire_context(this, dummy);
    struct Release {
      Context* c;
      ~Release() { release_context(c); }
    } release{ctx};
    ValidationErrors errs;
    for (auto& [key, provider] : dependencies_.providers()) {
      if (provider->scope != DependencyScope::kApp) continue;
      detail::build_dependency(*provider, dummy, errs);
      if (!errs.empty())
        throw std::runtime_error("start-up: app-scoped dependency " + provider->type_name +
                                 " cannot take request inputs: " + errs.to_json());
    }
    for (auto& hook : startup_hooks_) hook();
    ready_.store(true, std::memory_order_release);
  });
}

void App::shutdown() {
  std::call_once(shutdown_once_, [this] {
    ready_.store(false, std::memory_order_release);
    for (auto it = shutdown_hooks_.rbegin(); it != shutdown_hooks_.rend(); ++it) {
      try {
        (*it)();
      } catch (const std::exception& e) {
        log::error("shutdown hook failed: ", e.what());
      }
    }
  });
}

http::Response App::handle_exception(std::exception_ptr error, const http::Request& req) {
  for (auto& h : exception_handlers_) {
    try {
      if (auto r = h(error, req)) return std::move(*r);
    } catch (const std::exception& e) {
      log::error("exception handler threw: ", e.what());
      return http::Response::error(500, "Internal Server Error");
    }
  }
  try {
    std::rethrow_exception(error);
  } catch (const HttpError& e) {
    http::Response r;
    r.status = e.status();
    r.body = "{\"detail\":";
    r.body += boost::json::serialize(e.detail());
    r.body += '}';
    r.headers = e.headers();
    return r;
  } catch (const std::exception& e) {
    log::error(http::to_string(req.method), " ", req.path, ": unhandled exception: ", e.what());
  } catch (...) {
    log::error(http::to_string(req.method), " ", req.path, ": unhandled non-standard exception");
  }
  return http::Response::error(500, "Internal Server Error");
}

// --- command line ------------------------------------------------------------------------------

std::string server_usage(std::string_view program, const CliOptions* extra) {
  std::string u = "usage: ";
  u += program;
  u += R"( [options]
  --host HOST                 address to listen on (default 127.0.0.1)
  --port PORT                 port (default 8000; 0 picks a free one)
  --threads N                 event loops (default: one per core)
  --max-connections N         beyond this, new connections get 503 (default 10000)
  --max-body-bytes N          larger request bodies get 413 (default 16777216)
  --max-header-bytes N        larger request heads get 431 (default 16384)
  --read-timeout-ms N         a started request must arrive within this, else 408 (default 30000)
  --keep-alive-timeout-ms N   idle keep-alive connections close after this (default 5000)
  --drain-timeout-ms N        on SIGTERM, wait this long for requests in progress (default 10000)
  --log-level LEVEL           debug, info, warning or error (default info)
  --help                      this text
)";
  if (extra != nullptr) {
    std::string more = extra->usage();
    if (!more.empty()) u += "application options:\n" + more;
  }
  return u;
}

namespace {
bool parse_number(std::string_view s, long long& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
}  // namespace

bool parse_server_args(int argc, char** argv, net::ServerOptions& o, std::string& error, bool& help,
                       const CliOptions* extra) {
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      help = true;
      return false;
    }
    auto need = [&]() -> bool {
      if (inline_value) return true;
      if (i + 1 >= argc) {
        error = "option " + std::string(arg) + " needs a value";
        return false;
      }
      value = argv[++i];
      return true;
    };
    auto number = [&](long long lo, long long hi, long long& out) -> bool {
      if (!need()) return false;
      if (!parse_number(value, out) || out < lo || out > hi) {
        error = "option " + std::string(arg) + ": expected a number in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "], got '" + std::string(value) + "'";
        return false;
      }
      return true;
    };
    long long n = 0;
    if (arg == "--host") {
      if (!need()) return false;
      o.host = std::string(value);
    } else if (arg == "--port") {
      if (!number(0, 65535, n)) return false;
      o.port = static_cast<int>(n);
    } else if (arg == "--threads") {
      if (!number(1, 1024, n)) return false;
      o.threads = static_cast<int>(n);
    } else if (arg == "--max-connections") {
      if (!number(1, 10'000'000, n)) return false;
      o.max_connections = static_cast<std::size_t>(n);
    } else if (arg == "--max-body-bytes") {
      if (!number(0, 1LL << 40, n)) return false;
      o.limits.max_body = static_cast<std::size_t>(n);
    } else if (arg == "--max-header-bytes") {
      if (!number(256, 1 << 24, n)) return false;
      o.limits.max_header_bytes = static_cast<std::size_t>(n);
      o.limits.max_request_line = std::min(o.limits.max_request_line, o.limits.max_header_bytes);
    } else if (arg == "--read-timeout-ms") {
      if (!number(1, 86'400'000, n)) return false;
      o.read_timeout = std::chrono::milliseconds(n);
    } else if (arg == "--keep-alive-timeout-ms") {
      if (!number(1, 86'400'000, n)) return false;
      o.keep_alive_timeout = std::chrono::milliseconds(n);
    } else if (arg == "--drain-timeout-ms") {
      if (!number(0, 86'400'000, n)) return false;
      o.drain_timeout = std::chrono::milliseconds(n);
    } else if (arg == "--log-level") {
      if (!need()) return false;
      if (value == "debug") log::set_level(log::Level::kDebug);
      else if (value == "info") log::set_level(log::Level::kInfo);
      else if (value == "warning") log::set_level(log::Level::kWarning);
      else if (value == "error") log::set_level(log::Level::kError);
      else {
        error = "option --log-level: expected debug, info, warning or error";
        return false;
      }
    } else if (const CliOptions::Option* opt = extra != nullptr ? extra->find(arg) : nullptr) {
      if (opt->takes_value && !need()) return false;
      if (std::string msg = opt->set(value); !msg.empty()) {
        error = msg;
        return false;
      }
    } else {
      error = "unknown option '" + std::string(argv[i]) + "'";
      return false;
    }
  }
  if (extra != nullptr) {
    error = extra->validate();
    if (!error.empty()) return false;
  }
  return true;
}

int App::run(int argc, char** argv) { return run(argc, argv, CliOptions{}); }

std::optional<int> parse_command_line(int argc, char** argv, const CliOptions& extra, net::ServerOptions& options) {
  std::string error;
  bool help = false;
  std::string program = argc > 0 ? argv[0] : "serval";
  if (parse_server_args(argc, argv, options, error, help, &extra)) return std::nullopt;
  if (help) {
    std::fputs(server_usage(program, &extra).c_str(), stdout);
    return 0;
  }
  std::fprintf(stderr, "%s: %s\n%s", program.c_str(), error.c_str(), server_usage(program, &extra).c_str());
  return 2;
}

int App::run(int argc, char** argv, const CliOptions& extra) {
  net::ServerOptions options;
  if (auto rc = parse_command_line(argc, argv, extra, options)) return *rc;
  return run(std::move(options));
}

int App::run(net::ServerOptions options) {
  try {
    add_probe_routes();  // the router is frozen once the server runs
    openapi_json();      // fail at start-up, not on the first request, if a schema cannot be built
    auto drain = options.drain_timeout;
    net::Server server(std::move(options), *this);
    server.start();
    // Listen first (liveness answers, /ready says 503), then load: Kubernetes-style start-up.
    std::exception_ptr startup_error;
    std::thread starter([this, &startup_error, &server] {
      try {
        startup();
      } catch (...) {
        startup_error = std::current_exception();
        server.stop();
      }
    });
    int rc = server.wait();
    starter.join();
    if (startup_error) std::rethrow_exception(startup_error);
    if (!background_.drain(drain)) log::warning("shutdown: background tasks still running after the drain deadline");
    shutdown();
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serval: %s\n", e.what());
    return 1;
  }
}

}  // namespace serval
