#include "serval/app/stream.hpp"

namespace serval {

namespace {
void append_field(std::string& out, std::string_view name, std::string_view value) {
  // A field value cannot hold a line break; each line of it becomes its own field line.
  std::size_t start = 0;
  while (true) {
    std::size_t nl = value.find_first_of("\r\n", start);
    std::string_view line = value.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out.append(name).append(": ").append(line);
    out.push_back('\n');
    if (nl == std::string_view::npos) break;
    start = nl + ((value[nl] == '\r' && nl + 1 < value.size() && value[nl + 1] == '\n') ? 2 : 1);
  }
}

AsyncGenerator<std::string> sse_chunks(AsyncGenerator<Event> events) {
  // Written without a declaration in the loop condition: GCC 12 miscompiles `while (auto e = co_await ...)`.
  while (true) {
    std::optional<Event> e = co_await events.next();
    if (!e) break;
    std::string chunk = format_event(*e);
    co_yield std::move(chunk);
  }
}
}  // namespace

std::string format_event(const Event& e) {
  std::string out;
  out.reserve(e.data.size() + 16);
  if (!e.comment.empty()) append_field(out, "", e.comment);
  if (!e.event.empty()) append_field(out, "event", e.event);
  if (!e.id.empty()) append_field(out, "id", e.id);
  if (e.retry) out.append("retry: ").append(std::to_string(*e.retry)).push_back('\n');
  if (!e.data.empty() || (e.comment.empty() && e.event.empty() && e.id.empty() && !e.retry)) append_field(out, "data", e.data);
  out.push_back('\n');
  return out;
}

http::Response EventStream::into_response() && {
  auto r = http::Response::streaming(sse_chunks(std::move(events_)), "text/event-stream");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  return r;
}

}  // namespace serval
