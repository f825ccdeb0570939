// serval: the command-line entry point.
//
//   serval serve [--host H] [--port P] [--threads N] ...   serve the built-in API
//   serval openapi                                          print the OpenAPI document
//   serval version
#include <serval/serval.hpp>

#include <cstdio>
#include <cstring>
#include <string>

struct Health {
  std::string status;
};
template <>
inline constexpr auto serval::schema<Health> = serval::fields(serval::field("status", &Health::status));

namespace {

void build(serval::App& app) {
  app.get("/health", [] { return Health{"ok"}; }, {.summary = "Liveness check", .tags = {"ops"}});
}

int usage(FILE* out) {
  std::fputs(
      "usage: serval <command> [options]\n"
      "commands:\n"
      "  serve      serve the API (serval serve --help for options)\n"
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
  build(app);
  if (cmd == "serve") return app.run(argc - 1, argv + 1);
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
