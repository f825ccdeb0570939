#include "runtimes/llama/llama_options.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace serval::runtimes::llama {

namespace {

int int_param(const boost::json::object& p, const char* key, int fallback, int lo, int hi) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  const auto& v = it->value();
  if (!v.is_int64() || v.as_int64() < lo || v.as_int64() > hi)
    throw std::runtime_error(std::string("parameters.") + key + " must be an integer between " +
                             std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(v.as_int64());
}

bool bool_param(const boost::json::object& p, const char* key, bool fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  if (!it->value().is_bool()) throw std::runtime_error(std::string("parameters.") + key + " must be true or false");
  return it->value().as_bool();
}

std::filesystem::path find_gguf(const boost::json::object& p, const std::filesystem::path& dir) {
  if (auto it = p.find("file"); it != p.end()) {
    const auto* s = it->value().if_string();
    if (!s || s->empty()) throw std::runtime_error("parameters.file must be a file name");
    auto path = dir / std::string(*s);
    if (!std::filesystem::is_regular_file(path)) throw std::runtime_error("model file not found: " + path.string());
    return path;
  }
  if (auto path = dir / "model.gguf"; std::filesystem::is_regular_file(path)) return path;
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".gguf") found.push_back(e.path());
  if (found.size() == 1) return found.front();
  if (found.empty()) throw std::runtime_error("no .gguf file in " + dir.string());
  throw std::runtime_error("several .gguf files in " + dir.string() + ": name one with parameters.file");
}

}  // namespace

LlamaOptions read_llama_options(const boost::json::object& p, const std::filesystem::path& version_dir) {
  LlamaOptions o;
  o.file = find_gguf(p, version_dir);
  o.n_ctx = int_param(p, "n_ctx", o.n_ctx, 16, 1 << 20);
  o.n_parallel = int_param(p, "n_parallel", o.n_parallel, 1, 256);
  o.n_batch = int_param(p, "n_batch", o.n_batch, 1, 1 << 16);
  o.threads = int_param(p, "threads", o.threads, 1, 256);
  o.max_waiting = int_param(p, "max_waiting", o.max_waiting, 1, 1 << 20);
  o.embeddings = bool_param(p, "embeddings", o.embeddings);
  return o;
}

}  // namespace serval::runtimes::llama
