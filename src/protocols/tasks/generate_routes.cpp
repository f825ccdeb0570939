// POST /v1/generate: a prompt in; the text out as one JSON body, or token by token as Server-Sent
// Events (`stream: true`). Sequences run on the model's continuous-batching engine; a client that
// disconnects mid-stream frees its sequence at once.
//
//   data: {"text":"Hel","token":1234}        one event per token piece
//   event: done
//   data: {"finish_reason":"length","usage":{...}}
#include <chrono>
#include <optional>

#include "protocols/tasks/task_common.hpp"
#include "protocols/tasks/task_dto.hpp"
#include "protocols/tasks/task_routes.hpp"
#include "serval/app/json.hpp"
#include "serval/app/params.hpp"
#include "serval/app/stream.hpp"
#include "serval/serving/generation_stream.hpp"

namespace serval::protocols::tasks {

namespace {

using Registry = std::shared_ptr<serving::ModelRegistry>;
using serving::GenerationEvent;

serving::GenerationParams to_params(const GenerateIn& in) {
  serving::GenerationParams p;
  p.prompt = in.prompt;
  p.max_tokens = in.max_tokens.value_or(128);
  p.temperature = static_cast<float>(in.temperature.value_or(0.8));
  p.top_p = static_cast<float>(in.top_p.value_or(0.95));
  p.top_k = in.top_k.value_or(40);
  if (in.stop) p.stop = *in.stop;
  if (in.seed) p.seed = static_cast<std::uint32_t>(*in.seed);
  return p;
}

// One generation in the model's metrics (/metrics): in flight from admission, then one request with
// its total time — at the last event, or when the client leaves and the stream is destroyed.
class StreamAccount {
 public:
  explicit StreamAccount(std::shared_ptr<serving::ModelVersion> mv) : mv_(std::move(mv)) { mv_->stream_started(); }
  ~StreamAccount() { mv_->stream_finished(std::chrono::steady_clock::now() - start_, error_); }
  StreamAccount(const StreamAccount&) = delete;
  StreamAccount& operator=(const StreamAccount&) = delete;
  void fail(serving::ErrorClass c) { error_ = c; }

 private:
  std::shared_ptr<serving::ModelVersion> mv_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::optional<serving::ErrorClass> error_;
};

AsyncGenerator<Event> token_events(std::shared_ptr<serving::GenerationStream> s,
                                   std::shared_ptr<StreamAccount> account) {
  while (auto ev = co_await s->next()) {
    if (ev->kind == GenerationEvent::Kind::Token) {
      if (ev->text.empty()) continue;
      std::string data = "{\"text\":";
      write_json_string(data, ev->text);
      data += ",\"token\":" + std::to_string(ev->token) + "}";
      Event e;
      e.data = std::move(data);
      co_yield std::move(e);
    } else if (ev->kind == GenerationEvent::Kind::Done) {
      Usage u{ev->prompt_tokens, ev->completion_tokens, ev->prompt_tokens + ev->completion_tokens};
      std::string data = "{\"finish_reason\":";
      write_json_string(data, ev->finish_reason);
      data += ",\"usage\":" + to_json(u) + "}";
      Event e;
      e.event = "done";
      e.data = std::move(data);
      co_yield std::move(e);
    } else {
      account->fail(ev->error ? ev->error->cls : serving::ErrorClass::Inference);
      std::string data = "{\"detail\":";
      write_json_string(data, ev->error ? ev->error->message : std::string("generation failed"));
      data += "}";
      Event e;
      e.event = "error";
      e.data = std::move(data);
      co_yield std::move(e);
    }
  }
}

Task<http::Response> generate(Registry reg, GenerateIn in, std::string deadline_header) {
  auto mv = resolve_for_task(*reg, in.model, in.version, "generate");
  if (mv->state() != serving::ModelVersion::State::Ready)
    throw serving::InferFailure(serving::ErrorClass::Unavailable, "model '" + in.model + "' is not ready", 5);
  serving::GenerationEngine* engine = mv->generation();
  if (engine == nullptr) throw HttpError(500, "model '" + in.model + "' has no generation engine");
  serving::InferOptions options = deadline_options(in.deadline_ms, deadline_header);
  const auto deadline =
      std::chrono::steady_clock::now() + options.timeout.value_or(mv->spec().default_timeout);
  auto account = std::make_shared<StreamAccount>(mv);
  // Submitting before the first byte goes out makes a full queue a real 429, even for streams.
  std::shared_ptr<serving::GenerationStream> stream;
  try {
    stream = serving::GenerationStream::start(*engine, to_params(in));
  } catch (const serving::InferFailure& f) {
    account->fail(f.error_class());
    throw;
  }
  if (in.stream.value_or(false)) {
    EventStream events(token_events(std::move(stream), std::move(account)));
    co_return std::move(events).into_response();
  }
  GenerateOut out;
  out.model = in.model;
  out.version = mv->version();
  while (auto ev = co_await stream->next()) {
    if (ev->kind == GenerationEvent::Kind::Token) {
      out.text += ev->text;
    } else if (ev->kind == GenerationEvent::Kind::Done) {
      out.finish_reason = ev->finish_reason;
      out.usage = Usage{ev->prompt_tokens, ev->completion_tokens, ev->prompt_tokens + ev->completion_tokens};
    } else {
      const serving::InferError err = ev->error.value_or(serving::InferError{});
      account->fail(err.cls);
      throw serving::InferFailure(err.cls, err.message);
    }
    if (std::chrono::steady_clock::now() > deadline && out.finish_reason.empty()) {
      stream->cancel();
      account->fail(serving::ErrorClass::Timeout);
      throw serving::InferFailure(serving::ErrorClass::Timeout, "the deadline passed during generation");
    }
  }
  co_return http::Response::json(200, to_json(out));
}

}  // namespace

void add_generate_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry) {
  app.post(
      "/v1/generate",
      [registry](GenerateIn in, Header<std::optional<std::string>, "x-deadline-ms"> deadline) {
        return generate(registry, std::move(in), deadline->value_or(""));
      },
      {.summary = "Generate text",
       .description = "Runs a prompt through a generate model (llama.cpp, continuous batching). With "
                      "\"stream\": true the answer is text/event-stream: one `data: {\"text\",\"token\"}` event "
                      "per token, then `event: done` with finish_reason and usage. Otherwise one JSON body "
                      "{model, version, text, finish_reason, usage}.",
       .tags = {"tasks"},
       .responses = {{400, "The model does another task"}, {404, "Unknown model"},
                     {422, "The prompt does not fit the context, or invalid parameters"},
                     {429, "Too many sequences waiting (Retry-After)"}, {504, "The deadline passed"}}});
}

}  // namespace serval::protocols::tasks
