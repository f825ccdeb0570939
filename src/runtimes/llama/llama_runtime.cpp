#include "runtimes/llama/llama_runtime.hpp"

#include <algorithm>
#include <cstring>
#include <condition_variable>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include <boost/json/array.hpp>

#include "runtimes/llama/sampling.hpp"
#include "runtimes/llama/vocab_text.hpp"

namespace serval::runtimes::llama {

using serving::ErrorClass;
using serving::GenerationEvent;
using serving::GenerationParams;
using serving::InferError;
using serving::InferRequest;
using serving::InferResponse;
using serving::InferResult;

namespace {

// Tokens per decode call of the embedding context: every token of an embedding call outputs a row
// of logits too (llama.cpp computes them with the hidden states), so chunks stay small.
constexpr int kEmbedChunk = 128;

InferError client(std::string message) { return InferError{ErrorClass::Client, std::move(message)}; }

// Collects the events of one non-streamed generation until its Done or Error.
struct Collected {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::string text;
  GenerationEvent last;
};

}  // namespace

LlamaRuntime::LlamaRuntime(const serving::LoadContext& load)
    : options_(read_llama_options(load.spec.parameters, load.version_dir)), timeout_(load.spec.default_timeout) {
  llama_backend();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  model_.reset(llama_model_load_from_file(options_.file.c_str(), mp));
  if (!model_)
    throw std::runtime_error("llama.cpp could not load " + options_.file.string() +
                             " (not a GGUF model, or an architecture this llama.cpp does not know)");
  vocab_ = llama_model_get_vocab(model_.get());
  n_ctx_ = options_.n_ctx;
  if (const int train = llama_model_n_ctx_train(model_.get()); train > 0) n_ctx_ = std::min(n_ctx_, train);
  // A token stands for at most as many input bytes as its vocabulary text has (SPM writes a space as
  // the 3-byte U+2581, byte tokens as "<0x0A>"), so n_ctx tokens cover at most n_ctx x the longest.
  std::size_t longest = 1;
  for (llama_token t = 0; t < llama_vocab_n_tokens(vocab_); ++t) {
    if (const char* text = llama_vocab_get_text(vocab_, t)) longest = std::max(longest, std::strlen(text));
  }
  max_prompt_bytes_ = static_cast<std::size_t>(n_ctx_) * longest + 1;  // + the space SPM may add in front
  if (const char* t = llama_model_chat_template(model_.get(), nullptr)) chat_template_ = t;
  if (options_.embeddings)
    embedder_ = std::make_unique<Embedder>(model_.get(), n_ctx_, std::min(options_.n_batch, kEmbedChunk), options_.threads);
  scheduler_ = std::make_unique<Scheduler>(
      model_.get(), Scheduler::Config{.n_ctx = n_ctx_,
                                      .n_parallel = options_.n_parallel,
                                      .n_batch = options_.n_batch,
                                      .threads = options_.threads,
                                      .max_waiting = options_.max_waiting});
}

LlamaRuntime::~LlamaRuntime() = default;

std::variant<LlamaRuntime::SequenceId, InferError> LlamaRuntime::submit(GenerationParams params, Sink sink) {
  if (auto err = check_generation_params(params, n_ctx_)) return *err;
  if (params.prompt.size() > max_prompt_bytes_)
    return client("the prompt is " + std::to_string(params.prompt.size()) + " bytes; the context of " +
                  std::to_string(n_ctx_) + " tokens holds at most " + std::to_string(max_prompt_bytes_));
  std::vector<llama_token> prompt;
  try {
    prompt = llama::tokenize(vocab_, params.prompt, true);
  } catch (const std::length_error&) {
    return client("the prompt is too long to tokenize");
  }
  const auto n_prompt = static_cast<int>(prompt.size());
  if (n_prompt == 0) return client("the prompt is empty");
  if (n_prompt > n_ctx_)
    return client("prompt is " + std::to_string(n_prompt) + " tokens; the context holds " + std::to_string(n_ctx_));
  if (n_prompt + params.max_tokens > n_ctx_)
    return client("prompt is " + std::to_string(n_prompt) + " tokens and max_tokens is " +
                  std::to_string(params.max_tokens) + "; together more than the context holds (" +
                  std::to_string(n_ctx_) + ")");
  return scheduler_->submit(std::move(params), std::move(prompt), std::move(sink));
}

void LlamaRuntime::cancel(SequenceId id) { scheduler_->cancel(id); }

LlamaRuntime::Stats LlamaRuntime::stats() const { return scheduler_->stats(); }

std::vector<std::int32_t> LlamaRuntime::tokenize(const std::string& text, bool add_special) const {
  return llama::tokenize(vocab_, text, add_special);
}

std::string LlamaRuntime::detokenize(const std::vector<std::int32_t>& tokens) const {
  return llama::detokenize(vocab_, tokens);
}

std::optional<InferError> LlamaRuntime::validate(const InferRequest& request) const {
  if (!request.texts.empty()) {
    if (!embedder_) return client("this model serves no embeddings (parameters.embeddings is false)");
    return std::nullopt;
  }
  if (request.text.empty()) return client("send `text` (a prompt) to generate, or `texts` to embed");
  GenerationParams p;
  if (auto err = read_generation_params(request.params, p)) return err;
  return check_generation_params(p, n_ctx_);
}

void LlamaRuntime::execute(std::span<InferRequest* const> batch, std::span<InferResult> out) {
  // Generations first, so they run in the scheduler while embeddings are computed here.
  std::vector<std::shared_ptr<Collected>> collected(batch.size());
  std::vector<SequenceId> ids(batch.size(), 0);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const InferRequest& req = *batch[i];
    if (!req.texts.empty()) continue;
    if (auto err = validate(req)) {
      out[i] = InferResult::fail(err->cls, err->message);
      continue;
    }
    GenerationParams p;
    read_generation_params(req.params, p);
    p.prompt = req.text;
    auto c = std::make_shared<Collected>();
    auto sink = [c](GenerationEvent ev) {
      std::lock_guard lock(c->mu);
      if (ev.kind == GenerationEvent::Kind::Token) {
        c->text += ev.text;
        return;
      }
      c->last = std::move(ev);
      c->done = true;
      c->cv.notify_all();
    };
    try {
      auto r = submit(std::move(p), std::move(sink));
      if (auto* err = std::get_if<InferError>(&r)) {
        out[i] = InferResult::fail(err->cls, err->message);
        continue;
      }
      ids[i] = std::get<SequenceId>(r);
      collected[i] = std::move(c);
    } catch (const std::exception& e) {
      out[i] = InferResult::fail(ErrorClass::Inference, std::string("generation failed: ") + e.what());
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i]->texts.empty()) continue;
    try {
      out[i] = embed(*batch[i]);
    } catch (const std::exception& e) {
      out[i] = InferResult::fail(ErrorClass::Inference, std::string("embedding failed: ") + e.what());
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& c = collected[i];
    if (!c) continue;
    std::unique_lock lock(c->mu);
    if (!c->cv.wait_until(lock, deadline, [&] { return c->done; })) {
      lock.unlock();
      cancel(ids[i]);
      out[i] = InferResult::fail(ErrorClass::Timeout, "the generation did not finish within " +
                                                          std::to_string(timeout_.count()) + " ms");
      continue;
    }
    if (c->last.kind == GenerationEvent::Kind::Error) {
      const InferError err = c->last.error.value_or(InferError{ErrorClass::Inference, "generation failed"});
      out[i] = InferResult::fail(err.cls, err.message);
      continue;
    }
    boost::json::object usage;
    usage["prompt_tokens"] = c->last.prompt_tokens;
    usage["completion_tokens"] = c->last.completion_tokens;
    usage["total_tokens"] = c->last.prompt_tokens + c->last.completion_tokens;
    boost::json::object result;
    result["text"] = c->text;
    result["finish_reason"] = c->last.finish_reason;
    result["usage"] = std::move(usage);
    out[i] = InferResult::ok(InferResponse{.json = std::move(result)});
  }
}

InferResult LlamaRuntime::embed(const InferRequest& request) {
  if (!embedder_)
    return InferResult::fail(ErrorClass::Client, "this model serves no embeddings (parameters.embeddings is false)");
  boost::json::array vectors;
  vectors.reserve(request.texts.size());
  for (std::size_t j = 0; j < request.texts.size(); ++j) {
    auto r = embedder_->embed(request.texts[j]);
    if (auto* err = std::get_if<InferError>(&r))
      return InferResult::fail(err->cls, "texts[" + std::to_string(j) + "]: " + err->message);
    const auto& v = std::get<std::vector<float>>(r);
    boost::json::array row;
    row.reserve(v.size());
    for (float x : v) row.emplace_back(static_cast<double>(x));
    vectors.emplace_back(std::move(row));
  }
  boost::json::object result;
  result["dim"] = embedder_->dim();
  result["vectors"] = std::move(vectors);
  return InferResult::ok(InferResponse{.json = std::move(result)});
}

std::string LlamaRuntime::meta(const char* key) const {
  std::string buf(256, '\0');
  int n = llama_model_meta_val_str(model_.get(), key, buf.data(), buf.size());
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) >= buf.size()) {
    buf.resize(static_cast<std::size_t>(n) + 1);
    n = llama_model_meta_val_str(model_.get(), key, buf.data(), buf.size());
    if (n < 0) return {};
  }
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

boost::json::object LlamaRuntime::describe() const {
  boost::json::object d;
  d["format"] = "gguf";
  d["name"] = meta("general.name");
  d["architecture"] = meta("general.architecture");
  d["description"] = meta("general.description");
  d["n_params"] = llama_model_n_params(model_.get());
  d["n_embd"] = llama_model_n_embd(model_.get());
  d["n_layer"] = llama_model_n_layer(model_.get());
  d["n_vocab"] = llama_vocab_n_tokens(vocab_);
  d["context_length"] = n_ctx_;
  d["context_length_train"] = llama_model_n_ctx_train(model_.get());
  d["n_parallel"] = options_.n_parallel;
  d["chat_template"] = !chat_template_.empty();
  d["embeddings"] = embedder_ != nullptr;
  if (embedder_) d["embedding_dim"] = embedder_->dim();
  d["file"] = options_.file.filename().string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(options_.file, ec);
  d["file_bytes"] = ec ? std::uint64_t{0} : static_cast<std::uint64_t>(size);
  return d;
}

std::unique_ptr<serving::Runtime> make_llama_runtime(const serving::LoadContext& load) {
  return std::make_unique<LlamaRuntime>(load);
}

}  // namespace serval::runtimes::llama
