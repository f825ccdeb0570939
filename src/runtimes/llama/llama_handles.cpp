#include "runtimes/llama/llama_handles.hpp"

#include <mutex>
#include <string>

#include "serval/observe/log.hpp"

namespace serval::runtimes::llama {

namespace {

// llama.cpp logs a line in pieces (GGML_LOG_LEVEL_CONT continues the previous one): gather them
// per thread and write whole lines.
// Warnings that serval's own settings cause on purpose: the unified KV pool holds n_parallel
// sequences (llama.cpp compares its whole size with the trained context), and the embedding
// context asks for per-token states (pooling NONE) to pool them itself.
bool expected_warning(const std::string& line) {
  return line.find("possible training context overflow") != std::string::npos ||
         line.find("default pooling_type is") != std::string::npos;
}

void route_log(ggml_log_level level, const char* text, void*) {
  thread_local std::string line;
  thread_local ggml_log_level line_level = GGML_LOG_LEVEL_INFO;
  if (level != GGML_LOG_LEVEL_CONT) line_level = level;
  line += text ? text : "";
  if (line.empty() || line.back() != '\n') return;
  line.pop_back();
  switch (line_level) {
    case GGML_LOG_LEVEL_ERROR: serval::log::error("llama.cpp: ", line); break;
    case GGML_LOG_LEVEL_WARN:
      if (expected_warning(line)) {
        serval::log::debug("llama.cpp: ", line);
      } else {
        serval::log::warning("llama.cpp: ", line);
      }
      break;
    default: serval::log::debug("llama.cpp: ", line); break;
  }
  line.clear();
}

}  // namespace

void llama_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(route_log, nullptr);
    llama_backend_init();
  });
}

}  // namespace serval::runtimes::llama
