#include "runtimes/llama/sampling.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "runtimes/llama/text_assembler.hpp"

namespace serval::runtimes::llama {

using serving::ErrorClass;
using serving::GenerationParams;
using serving::InferError;

namespace {

InferError client(std::string message) { return InferError{ErrorClass::Client, std::move(message)}; }

bool valid_utf8(const std::string& s) {
  std::string out;
  append_valid_utf8(s, out, false);
  return out == s;
}

std::optional<double> number(const boost::json::value& v) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return std::nullopt;
}

}  // namespace

std::optional<InferError> read_generation_params(const boost::json::object& params, GenerationParams& out) {
  for (const auto& [key, v] : params) {
    if (key == "max_tokens" || key == "top_k") {
      if (!v.is_int64() || v.as_int64() < std::numeric_limits<int>::min() ||
          v.as_int64() > std::numeric_limits<int>::max())
        return client("params." + std::string(key) + " must be an integer");
      (key == "max_tokens" ? out.max_tokens : out.top_k) = static_cast<int>(v.as_int64());
    } else if (key == "temperature" || key == "top_p") {
      auto n = number(v);
      if (!n) return client("params." + std::string(key) + " must be a number");
      (key == "temperature" ? out.temperature : out.top_p) = static_cast<float>(*n);
    } else if (key == "stop") {
      out.stop.clear();
      if (const auto* s = v.if_string()) {
        out.stop.emplace_back(*s);
      } else if (const auto* a = v.if_array()) {
        for (const auto& e : *a) {
          if (!e.is_string()) return client("params.stop must be a string or an array of strings");
          out.stop.emplace_back(e.as_string());
        }
      } else if (!v.is_null()) {
        return client("params.stop must be a string or an array of strings");
      }
    } else if (key == "seed") {
      if (v.is_null()) {
        out.seed.reset();
      } else if (v.is_int64() && v.as_int64() >= 0 && v.as_int64() <= 0xFFFFFFFELL) {
        out.seed = static_cast<std::uint32_t>(v.as_int64());
      } else {
        return client("params.seed must be an integer between 0 and 4294967294");
      }
    }
  }
  return std::nullopt;
}

std::optional<InferError> check_generation_params(const GenerationParams& p, int n_ctx) {
  if (p.max_tokens < 1 || p.max_tokens > n_ctx)
    return client("max_tokens must be between 1 and " + std::to_string(n_ctx) + " (got " +
                  std::to_string(p.max_tokens) + ")");
  if (!std::isfinite(p.temperature) || p.temperature < 0.0f || p.temperature > 2.0f)
    return client("temperature must be between 0 and 2");
  if (!std::isfinite(p.top_p) || p.top_p <= 0.0f || p.top_p > 1.0f)
    return client("top_p must be greater than 0 and at most 1");
  if (p.top_k < 0) return client("top_k must be 0 (off) or more");
  if (p.stop.size() > 16) return client("at most 16 stop strings");
  for (const auto& s : p.stop) {
    if (s.empty()) return client("stop strings must not be empty");
    if (!valid_utf8(s)) return client("stop strings must be valid UTF-8");
  }
  if (p.seed && *p.seed == LLAMA_DEFAULT_SEED) return client("seed must be at most 4294967294");
  return std::nullopt;
}

SamplerPtr make_sampler(const GenerationParams& p) {
  auto cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  SamplerPtr chain{llama_sampler_chain_init(cp)};
  if (p.temperature <= 0.0f) {
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
    return chain;
  }
  if (p.top_k > 0) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(p.top_k));
  if (p.top_p < 1.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(p.top_p, 1));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(p.temperature));
  std::uint32_t seed = 0;
  if (p.seed) {
    seed = *p.seed;
  } else {
    static thread_local std::mt19937 gen{std::random_device{}()};
    seed = static_cast<std::uint32_t>(gen() % LLAMA_DEFAULT_SEED);
  }
  llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(seed));
  return chain;
}

}  // namespace serval::runtimes::llama
