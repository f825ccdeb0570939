#include "serval/app/middleware/access_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>

namespace serval {

namespace {

using SinkPtr = std::shared_ptr<const std::function<void(std::string_view)>>;

void write_stderr(std::string_view line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to report a failing log
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void emit(const SinkPtr& sink, std::string_view line) noexcept {
  try {
    (*sink)(line);
  } catch (...) {
    // A failing log sink must not fail the request it describes.
  }
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_2(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// "2026-03-01T12:34:56.789Z". The part up to the seconds is formatted once a second per thread.
void append_timestamp(std::string& out, std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  thread_local std::int64_t t_second = INT64_MIN;
  thread_local std::string t_prefix;
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  if (second != t_second) {
    sys_seconds s{seconds{second}};
    auto day = floor<days>(s);
    year_month_day ymd{day};
    hh_mm_ss<seconds> hms{s - day};
    t_prefix.clear();
    append_uint(t_prefix, static_cast<std::uint64_t>(static_cast<int>(ymd.year())));
    t_prefix.push_back('-');
    append_2(t_prefix, static_cast<unsigned>(ymd.month()));
    t_prefix.push_back('-');
    append_2(t_prefix, static_cast<unsigned>(ymd.day()));
    t_prefix.push_back('T');
    append_2(t_prefix, static_cast<unsigned>(hms.hours().count()));
    t_prefix.push_back(':');
    append_2(t_prefix, static_cast<unsigned>(hms.minutes().count()));
    t_prefix.push_back(':');
    append_2(t_prefix, static_cast<unsigned>(hms.seconds().count()));
    t_second = second;
  }
  out += t_prefix;
  auto milli = static_cast<unsigned>(ms - second * 1000);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + milli / 100));
  append_2(out, milli % 100);
  out.push_back('Z');
}

// Length of the valid UTF-8 sequence at the start of `s`, or 0 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s) noexcept {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;
    if (c == 0xED && b(1) > 0x9F) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t run = i;
    while (run < s.size()) {
      auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      ++i;
    } else if (std::size_t n = utf8_sequence(s.substr(i)); n > 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out.push_back('"');
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  out.push_back('"');
  out += key;
  out += "\":";
  append_json_string(out, value);
}

void append_duration(std::string& out, std::chrono::steady_clock::time_point started) {
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (ms < 0) ms = 0;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
  out += ",\"duration_ms\":";
  out.append(buf, r.ptr);
}

bool has_body(const http::Request& request, int status) {
  return request.method != http::Method::kHead && status >= 200 && status != 204 && status != 304;
}

// The line of a streamed response, finished when the stream ends or is dropped.
class PendingLine {
 public:
  PendingLine(std::string prefix, std::chrono::steady_clock::time_point started, SinkPtr sink)
      : line_(std::move(prefix)), started_(started), sink_(std::move(sink)) {}
  PendingLine(const PendingLine&) = delete;
  PendingLine& operator=(const PendingLine&) = delete;
  ~PendingLine() { finish(false); }

  void count(std::size_t n) noexcept { bytes_ += n; }
  void finish(bool complete) noexcept {
    if (done_) return;
    done_ = true;
    try {
      append_duration(line_, started_);
      line_ += ",\"bytes\":";
      append_uint(line_, bytes_);
      line_ += ",\"stream\":true";
      if (!complete) line_ += ",\"complete\":false";
      line_ += "}\n";
    } catch (...) {
      return;
    }
    emit(sink_, line_);
  }

 private:
  std::string line_;
  std::chrono::steady_clock::time_point started_;
  SinkPtr sink_;
  std::uint64_t bytes_ = 0;
  bool done_ = false;
};

// Passes the chunks through, counting them. `line` is a parameter so that it lives in the frame
// even if the stream is dropped before it starts: its destructor then still writes the line.
AsyncGenerator<std::string> counted(AsyncGenerator<std::string> source, std::unique_ptr<PendingLine> line) {
  while (true) {
    std::optional<std::string> chunk = co_await source.next();
    if (!chunk) break;
    line->count(chunk->size());
    co_yield std::move(*chunk);
  }
  line->finish(true);
}

}  // namespace

AccessLog::AccessLog(AccessLogOptions options)
    : sink_(std::make_shared<const std::function<void(std::string_view)>>(
          options.sink ? std::move(options.sink) : std::function<void(std::string_view)>(write_stderr))),
      skip_paths_(std::move(options.skip_paths)) {}

void AccessLog::after(const http::Request& request, Context& ctx, http::Response& response) {
  for (const auto& p : skip_paths_)
    if (p == request.path) return;

  std::string line;
  line.reserve(256 + request.path.size());
  line += "{\"ts\":\"";
  append_timestamp(line, std::chrono::system_clock::now());
  line.push_back('"');
  append_field(line, "method", request.method_name);
  append_field(line, "path", request.path);
  if (request.route.empty()) {
    line += ",\"route\":null";
  } else {
    append_field(line, "route", request.route);
  }
  line += ",\"status\":";
  append_uint(line, static_cast<std::uint64_t>(response.status < 0 ? 0 : response.status));
  append_field(line, "remote", request.remote_address);
  append_field(line, "request_id", ctx.request_id());
  append_field(line, "user_agent", request.header("user-agent"));

  bool body = has_body(request, response.status);
  if (response.stream && body && !response.upgrade) {
    auto pending = std::make_unique<PendingLine>(std::move(line), ctx.started(), sink_);
    auto wrapped = counted(std::move(*response.stream), std::move(pending));
    response.stream = std::move(wrapped);
    return;
  }
  append_duration(line, ctx.started());
  line += ",\"bytes\":";
  append_uint(line, body && !response.stream ? response.body.size() : 0);
  line += "}\n";
  emit(sink_, line);
}

}  // namespace serval
