// RequestParser: an incremental, zero-copy HTTP/1.1 request parser that never trusts its input.
//
// The connection appends bytes to its read buffer and calls parse() with the unconsumed part,
// which always starts at the first byte of the current request. The parser remembers how far it
// has looked, so a request that arrives one byte at a time costs linear work. Offsets, not
// pointers, are kept between calls, so the buffer may move (grow) between them. Chunked bodies
// are decoded in place inside the buffer, so the finished body is one contiguous view.
//
//   RequestParser p{limits};
//   switch (p.parse(buf)) {
//     case ParseStatus::kNeedMore:     read more; break;
//     case ParseStatus::kHeadComplete: maybe send "100 Continue"; call parse(buf) again; break;
//     case ParseStatus::kComplete:     handle p.request(); erase p.consumed() bytes; p.reset(); break;
//     case ParseStatus::kError:        answer p.error_status() with p.error_message(); close.
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "serval/http/request.hpp"

namespace serval::http {

struct ParserLimits {
  std::size_t max_request_line = 8 * 1024;     // longer: 414 URI Too Long
  std::size_t max_header_bytes = 16 * 1024;    // whole head larger: 431
  std::size_t max_headers = 100;               // more header fields: 431
  std::size_t max_body = 16 * 1024 * 1024;     // larger body (declared or received): 413
};

enum class ParseStatus : std::uint8_t {
  kNeedMore,      // the buffer ends inside the request
  kHeadComplete,  // returned once per request, when the head is parsed and a body is expected
  kComplete,      // request() is ready; consumed() bytes belong to it
  kError,         // error_status() / error_message() say why; the connection must close
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

  // `buf` is the unconsumed part of the read buffer, starting at this request. It may be modified
  // (in-place chunked decoding). Call again with the same (possibly longer, possibly moved) buffer.
  ParseStatus parse(std::span<char> buf);

  // Valid after kHeadComplete (head fields only) and after kComplete (head and body); views point
  // into the buffer passed to the last parse() call.
  const Request& request() const noexcept { return request_; }
  Request& request() noexcept { return request_; }

  bool expects_continue() const noexcept { return expect_continue_; }  // "Expect: 100-continue"
  bool has_body() const noexcept;
  std::size_t content_length() const noexcept { return content_length_; }  // when not chunked
  bool chunked() const noexcept { return chunked_; }
  std::size_t consumed() const noexcept { return consumed_; }  // bytes of the completed request

  int error_status() const noexcept { return error_status_; }          // 400, 413, 414, 431, 501, 505
  std::string_view error_message() const noexcept { return error_message_; }

  // Forget the current request; the next parse() starts a new one at buf[0].
  void reset() noexcept;

 private:
  // Implementation state: offsets into the buffer, never pointers (the buffer may move).
  ParserLimits limits_;
  Request request_;
  enum class Stage : std::uint8_t { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone, kError };
  Stage stage_ = Stage::kHead;
  std::size_t line_start_ = 0;    // first byte of the request line (leading empty lines skipped)
  std::size_t line_end_ = 0;      // the CR ending the request line; 0 until seen (the line is never empty)
  std::size_t scanned_ = 0;       // how far the head terminator search has looked
  std::size_t header_lines_ = 0;  // header lines seen so far, to fail early on too many
  std::size_t head_len_ = 0;      // bytes of request line + headers + CRLFCRLF
  std::size_t content_length_ = 0;
  bool chunked_ = false;
  bool expect_continue_ = false;
  bool head_reported_ = false;
  // chunked decoding: read position (raw) and write position (decoded) relative to buf start
  std::size_t chunk_read_ = 0;
  std::size_t chunk_write_ = 0;
  std::size_t chunk_remaining_ = 0;
  std::size_t line_scan_ = 0;      // where the search for the current chunk/trailer line's LF resumes
  std::size_t trailer_start_ = 0;  // first byte of the trailer section
  std::size_t consumed_ = 0;
  int error_status_ = 0;
  std::string_view error_message_;
  // offsets of head fields, turned into views over the current buffer
  struct Span { std::uint32_t off = 0, len = 0; };
  Span method_, target_, path_, query_;
  std::vector<std::pair<Span, Span>> header_spans_;

  ParseStatus scan_head(const char* base, std::size_t size);
  ParseStatus head_need_more(std::size_t size);
  std::size_t line_limit() const noexcept;
  ParseStatus parse_head(const char* base);
  ParseStatus parse_request_line(const char* base);
  ParseStatus parse_target(const char* base, std::size_t begin, std::size_t end);
  ParseStatus decode_chunked(char* base, std::size_t size);
  ParseStatus chunk_size_line(const char* base, std::size_t lf);
  ParseStatus trailer_line(const char* base, std::size_t lf);
  std::size_t find_line_end(const char* base, std::size_t size, std::size_t limit);
  std::size_t max_head() const noexcept;
  void materialize(const char* base);
  ParseStatus fail(int status, std::string_view message) noexcept;
};

}  // namespace serval::http
