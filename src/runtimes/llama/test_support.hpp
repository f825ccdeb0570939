// Test helpers for the llama runtime: load the tiny test model and run one generation to its end.
//
//   auto rt = load_tiny({{"n_ctx", 512}});          // nullptr + a test failure when the file is missing
//   Generated g = generate(*rt, {.prompt = "Hi", .max_tokens = 8, .temperature = 0});
//   EXPECT_EQ(g.finish, "length");
#pragma once

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtimes/llama/llama_runtime.hpp"

namespace serval::runtimes::llama::testing {

inline std::filesystem::path tiny_dir() { return std::filesystem::path(SERVAL_SOURCE_DIR) / "models/tiny-llm/1"; }

inline std::unique_ptr<LlamaRuntime> load_tiny(boost::json::object parameters = {}) {
  if (!std::filesystem::exists(tiny_dir() / "model.gguf")) {
    ADD_FAILURE() << (tiny_dir() / "model.gguf").string()
                  << " is missing: run /usr/bin/python3 scripts/models/make_tiny_gguf.py --llama-src "
                     "~/.cache/serval/llama.cpp/src --out models/tiny-llm/1/model.gguf";
    return nullptr;
  }
  serving::ModelSpec spec;
  spec.name = "tiny-llm";
  spec.runtime = "llama";
  spec.task = "generate";
  spec.parameters = std::move(parameters);
  return std::make_unique<LlamaRuntime>(serving::LoadContext{spec, tiny_dir(), 1});
}

struct Generated {
  std::optional<serving::InferError> refused;  // submit() refused it
  std::vector<serving::GenerationEvent> tokens;
  std::string text;  // concatenated Token texts
  std::string finish;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  std::optional<serving::InferError> error;  // an Error event
  bool timed_out = false;
};

// Collects a sequence's events; the promise is set on Done or Error.
struct Collector {
  Generated g;
  std::promise<void> done;
  void operator()(serving::GenerationEvent ev) {
    using K = serving::GenerationEvent::Kind;
    if (ev.kind == K::Token) {
      g.text += ev.text;
      g.tokens.push_back(std::move(ev));
      return;
    }
    if (ev.kind == K::Done) {
      g.finish = ev.finish_reason;
      g.prompt_tokens = ev.prompt_tokens;
      g.completion_tokens = ev.completion_tokens;
    } else {
      g.error = ev.error;
    }
    done.set_value();
  }
};

inline Generated generate(serving::GenerationEngine& engine, serving::GenerationParams params,
                          std::chrono::seconds timeout = std::chrono::seconds(20)) {
  auto c = std::make_shared<Collector>();
  auto finished = c->done.get_future();
  auto r = engine.submit(std::move(params), [c](serving::GenerationEvent ev) { (*c)(std::move(ev)); });
  if (auto* err = std::get_if<serving::InferError>(&r)) {
    Generated g;
    g.refused = *err;
    return g;
  }
  if (finished.wait_for(timeout) != std::future_status::ready) {
    engine.cancel(std::get<0>(r));
    Generated g;
    g.timed_out = true;
    return g;
  }
  return c->g;
}

inline serving::GenerationParams greedy(std::string prompt, int max_tokens) {
  serving::GenerationParams p;
  p.prompt = std::move(prompt);
  p.max_tokens = max_tokens;
  p.temperature = 0.0f;
  return p;
}

}  // namespace serval::runtimes::llama::testing
