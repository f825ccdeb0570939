// Streaming responses: Server-Sent Events and plain chunked streams, produced by a generator.
//
//   app.post("/generate", [](GenerateIn in) -> serval::EventStream {
//     return serval::EventStream([](GenerateIn in) -> serval::AsyncGenerator<serval::Event> {
//       for (int i = 0; i < in.max_tokens; ++i) {
//         serval::Event e{.data = token(i)};
//         co_yield std::move(e);
//       }
//     }(std::move(in)));
//   });
//
// With GCC 12, yield a named variable (`Event e{...}; co_yield std::move(e);`): GCC 12 miscompiles
// `co_yield Aggregate{...}` of a braced temporary with non-trivial members (frees a frame address).
//
// The generator runs on the connection's event loop and is pulled only as fast as the client
// reads. Pass inputs to the generator by value (a coroutine lambda must not capture locals).
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "serval/async/generator.hpp"
#include "serval/http/response.hpp"

namespace serval {

struct Event {
  std::string data;          // split on '\n' into several "data:" lines
  std::string event;         // "event:" field, when not empty
  std::string id;            // "id:" field, when not empty
  std::optional<int> retry;  // "retry:" in milliseconds
  std::string comment;       // ": comment" line (a keep-alive when data is empty)
};

// The wire form of one event, ending with the blank line that dispatches it.
std::string format_event(const Event& e);

class EventStream {
 public:
  explicit EventStream(AsyncGenerator<Event> events) : events_(std::move(events)) {}
  http::Response into_response() &&;

 private:
  AsyncGenerator<Event> events_;
};

// A chunked body of raw pieces with any content type (NDJSON, text, bytes).
class Stream {
 public:
  Stream(AsyncGenerator<std::string> chunks, std::string content_type)
      : chunks_(std::move(chunks)), content_type_(std::move(content_type)) {}
  http::Response into_response() && {
    return http::Response::streaming(std::move(chunks_), std::move(content_type_));
  }

 private:
  AsyncGenerator<std::string> chunks_;
  std::string content_type_;
};

}  // namespace serval
