// Compression: shrinks text-like responses with brotli or gzip when the client accepts them —
// JSON, HTML, JS, CSS, SVG, NDJSON — which often cuts their size 5-10x on slow links.
//
//   app.use(std::make_shared<serval::Compression>(
//       serval::CompressionOptions{.min_size = 500, .gzip_level = 6, .brotli_quality = 4}));
//
// The coding follows the request's Accept-Encoding (q-values honoured; br wins a tie with gzip;
// "identity;q=0" or "*;q=0" forces a coding even under min_size). A response is compressed when
// its body has at least min_size bytes, its Content-Type is compressible (text/* except
// text/event-stream, application/json, application/*+json, application/*+xml, application/xml,
// application/javascript, application/x-ndjson, application/wasm, image/svg+xml), it has no
// Content-Encoding yet, no Cache-Control: no-transform, no Content-Range (206), and its status
// carries a body (not 1xx, 204, 304). It then gets Content-Encoding, a weak ETag (the bytes
// changed, the meaning did not), and — like every response that could have been compressed —
// Vary: Accept-Encoding.
//
// Streamed bodies (serval::Stream, NDJSON, chunked text) are compressed chunk by chunk with a flush
// after each, so every chunk reaches the client as soon as it is produced. They use gzip whenever
// the client accepts it: flushed per chunk, brotli is no smaller and holds ~7x the memory per open
// stream. Server-Sent Events are left alone: proxies and EventSource clients handle them best
// uncompressed.
//
// Put it last in the middleware list: its after() then runs first, and the steps before it
// (AccessLog) see the compressed size.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "serval/app/middleware.hpp"

namespace serval {

struct CompressionOptions {
  std::size_t min_size = 500;   // smaller bodies are not worth a coding's header
  int gzip_level = 6;           // 1 (fast) .. 9 (small)
  int brotli_quality = 4;       // 0 (fast) .. 11 (small); 4 is about gzip -6's speed, smaller output
  bool gzip = true;             // offer gzip
  bool brotli = true;           // offer br
  bool streams = true;          // compress streamed bodies too (chunk by chunk)
};

enum class ContentCoding : unsigned char { kIdentity, kGzip, kBrotli };

class Compression final : public Middleware {
 public:
  explicit Compression(CompressionOptions options = {});

  void after(const http::Request& request, Context& ctx, http::Response& response) override;

  // The coding to use for a request's Accept-Encoding value (kIdentity when none is acceptable).
  // `identity_refused` is set when the client refused an uncompressed answer.
  ContentCoding negotiate(std::string_view accept_encoding, bool* identity_refused = nullptr) const;

  // Whether a media type is worth compressing ("application/json; charset=utf-8" -> true).
  static bool compressible(std::string_view content_type) noexcept;

 private:
  CompressionOptions options_;
};

// One-shot encoders (the whole input in, a complete gzip member / brotli stream out).
std::string gzip_compress(std::string_view input, int level);
std::string brotli_compress(std::string_view input, int quality);

}  // namespace serval
