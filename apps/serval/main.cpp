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
#include <string_view>

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

// `serve`'s model flags, read before the app is built: the repository is discovered (model.yaml
// files only, no loading) before the OpenAPI document is made, so /docs can show the model cards.
ServeFlags prescan(int argc, char** argv) {
  ServeFlags f;
  for (int i = 2; i + 1 < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--models-dir") f.models_dir = argv[i + 1];
    else if (a == "--model") f.gguf = argv[i + 1];
    else if (a == "--model-name") f.gguf_name = argv[i + 1];
    else if (a == "--models") {
      std::string list = argv[i + 1];
      for (std::size_t start = 0; start <= list.size();) {
        auto comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        if (comma > start) f.models.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
    }
  }
  return f;
}

void discover(serval::serving::ModelRegistry& registry, const ServeFlags& flags) {
  const bool own_gguf = !flags.gguf.empty();
  if (!own_gguf || !flags.models_dir.empty() || !flags.models.empty()) {
    const char* env_dir = std::getenv("SERVAL_MODELS_DIR");
    registry.set_repository(!flags.models_dir.empty() ? flags.models_dir : env_dir ? env_dir : "models");
    registry.only(flags.models);
    registry.discover();
  }
  if (own_gguf) {
    if (!fs::is_regular_file(flags.gguf)) throw std::runtime_error("--model " + flags.gguf + ": no such file");
    const fs::path dir = fs::path(flags.gguf).parent_path();
    registry.add(gguf_spec(flags), 1, dir.empty() ? fs::path(".") : dir);
  }
}

// The model cards in the OpenAPI description, so that /docs shows what is served.
std::string models_markdown(const serval::serving::ModelRegistry& registry) {
  std::string md = "AI models behind a fast API.\n\n## Models\n\n| model | task | runtime | description |\n|---|---|---|---|\n";
  for (const auto& name : registry.names()) {
    auto spec = registry.spec(name);
    md += "| `" + name + "` | " + spec->task + " | " + spec->runtime + " | " + spec->description + " |\n";
  }
  md += "\nEach model's full card (versions, state, runtime details, measured figures, batching, limits, "
        "queue counters): `GET /v1/models/{name}`.\n";
  return md;
}

void build(serval::App& app, const std::shared_ptr<serval::serving::ModelRegistry>& registry) {
  app.get("/health", [] { return Health{"ok"}; }, {.summary = "Liveness check", .tags = {"ops"}});
  serval::observe::add_metrics_route(app);
  serval::protocols::add_model_routes(app, registry);
  serval::protocols::add_task_routes(app, registry);
  // Models load at start-up, off the event loops; /ready answers 503 until every one is ready.
  app.on_startup([registry] {
    serval::serving::register_builtin_runtimes();
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
  auto registry = std::make_shared<serval::serving::ModelRegistry>("models");
  ServeFlags flags;
  std::string description = "AI models behind a fast API.";
  if (cmd == "serve") {
    flags = prescan(argc, argv);
    bool help = false;
    for (int i = 2; i < argc; ++i) help = help || std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h";
    if (!help) try {
      discover(*registry, flags);  // model.yaml errors stop here, before the server listens
    } catch (const std::exception& e) {
      std::fprintf(stderr, "serval: %s\n", e.what());
      return 1;
    }
    description = models_markdown(*registry);
  }
  serval::App app{{.title = "serval", .version = "0.1.0", .description = description}};
  build(app, registry);
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
