// Sampling settings of one sequence: reading them from a request, checking them, and building the
// llama.cpp sampler chain that draws its tokens.
//
// The chain is top_k -> top_p -> temperature -> dist(seed); temperature 0 is greedy (argmax, the
// other settings ignored). A sequence without a seed gets a random one.
//
//   GenerationParams p;  p.prompt = "Hello";
//   if (auto err = read_generation_params(request.params, p)) return fail(*err);
//   if (auto err = check_generation_params(p, 2048)) return fail(*err);
//   SamplerPtr chain = make_sampler(p);
//   llama_token t = llama_sampler_sample(chain.get(), ctx, batch_index);
#pragma once

#include <optional>

#include <boost/json/object.hpp>

#include "runtimes/llama/llama_handles.hpp"
#include "serval/serving/generation.hpp"

namespace serval::runtimes::llama {

// Fills `out` from request params: max_tokens, temperature, top_p, top_k, stop (a string or an
// array of strings) and seed; absent ones keep their value. A wrong type is a Client error.
std::optional<serving::InferError> read_generation_params(const boost::json::object& params,
                                                          serving::GenerationParams& out);

// Range checks: max_tokens 1..n_ctx, temperature 0..2, top_p in (0, 1], top_k >= 0, stop strings
// non-empty valid UTF-8 (at most 16).
std::optional<serving::InferError> check_generation_params(const serving::GenerationParams& p, int n_ctx);

SamplerPtr make_sampler(const serving::GenerationParams& p);

}  // namespace serval::runtimes::llama
