// serval: the command-line entry point.
//
//   serval serve [--host H] [--port P] [--models-dir models] [--models a,b] [--model my.gguf] ...
//   serval openapi                                          print the OpenAPI document
//   serval version
#include <serval/serval.hpp>
#include <serval/observe/metrics_route.hpp>
#include <serval/protocols/tasks.hpp>
#include <serval/serving/registry.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

struct Health {
  std::string status;
};
template <>
inline constexpr auto serval::schema<Health> = serval::fields(serval::field("status", &Health::status));

namespace {

namespace fs = std::filesystem;

struct ServeFlags {
  std::string models_dir;
  std::vector<std::string> models;
  std::string gguf;
  std::string gguf_name;
};

// `--model my.gguf`: a llama model that is not in the repository, served as version 1.
serval::serving::ModelSpec gguf_spec(const ServeFlags& f) {
  serval::serving::ModelSpec s;
  const fs::path p(f.gguf);
  s.name = f.gguf_name.empty() ? p.stem().string() : f.gguf_name;
  s.runtime = "llama";
  s.task = "generate";
  s.description = "GGUF model served from " + p.string();
  s.default_timeout = std::chrono::milliseconds(300000);
  s.parameters["file"] = p.filename().string();
  s.card["source"] = fs::absolute(p).string();
  return s;
}

void build(serval::App& app, const std::shared_ptr<serval::serving::ModelRegistry>& registry, const ServeFlags& flags) {
  app.get("/health", [] { return Health{"ok"}; }, {.summary = "Liveness check", .tags = {"ops"}});
  serval::observe::add_metrics_route(app);
  serval::protocols::add_model_routes(app, registry);
  serval::protocols::add_task_routes(app, registry);
  // Models load at start-up, off the event loops; /ready answers 503 until every one is ready.
  app.on_startup([registry, &flags] {
    serval::serving::register_builtin_runtimes();
    const bool own_gguf = !flags.gguf.empty();
    if (!own_gguf || !flags.models_dir.empty() || !flags.models.empty()) {
      const char* env_dir = std::getenv("SERVAL_MODELS_DIR");
      registry->set_repository(!flags.models_dir.empty() ? flags.models_dir : env_dir ? env_dir : "models");
      registry->only(flags.models);
      registry->discover();
    }
    if (own_gguf) {
      if (!fs::is_regular_file(flags.gguf)) throw std::runtime_error("--model " + flags.gguf + ": no such file");
      registry->add(gguf_spec(flags), 1, fs::path(flags.gguf).parent_path().empty() ? fs::path(".") : fs::path(flags.gguf).parent_path());
    }
    registry->load();
  });
  app.on_shutdown([registry] { registry->stop(); });
}

int usage(FILE* out) {
  std::fputs(
      "usage: serval <command> [options]\n"
      "commands:\n"
      "  serve      serve the model repository (serval serve --help for options)\n"
      "  openapi    print the OpenAPI 3.1 document and exit\n"
      "  version    print the version\n",
      out);
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  std::string cmd = argv[1];
  serval::App app{{.title = "serval", .version = "0.1.0", .description = "AI models behind a fast API."}};
  auto registry = std::make_shared<serval::serving::ModelRegistry>("models");
  ServeFlags flags;
  build(app, registry, flags);
  if (cmd == "serve") {
    serval::CliOptions cli;
    cli.add("--models-dir", &flags.models_dir, "model repository folder (default: $SERVAL_MODELS_DIR or models)");
    cli.add("--models", &flags.models, "serve only these models of the repository (comma-separated)");
    cli.add("--model", &flags.gguf, "serve this GGUF file (alone, unless --models-dir or --models is given)");
    cli.add("--model-name", &flags.gguf_name, "the name of the --model GGUF (default: its file name)");
    return app.run(argc - 1, argv + 1, cli);
  }
  if (cmd == "openapi") {
    std::puts(app.openapi_json().c_str());
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::puts("serval 0.1.0");
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") return usage(stdout);
  std::fprintf(stderr, "serval: unknown command '%s'\n", cmd.c_str());
  return usage(stderr);
}
