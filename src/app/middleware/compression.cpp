#include "serval/app/middleware/compression.hpp"

#include <brotli/encode.h>
#include <zlib.h>

#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>

#include "app/middleware/header_util.hpp"

namespace serval {

namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper
// Streams live as long as their connection (an LLM answer, a log tail): smaller windows bound the
// memory each one holds (~100 KiB for gzip; brotli's hash tables keep it at ~500-700 KiB whatever
// the window) at little cost for chunked text.
constexpr int kStreamGzipWindowBits = 13 + 16;
constexpr int kStreamGzipMemLevel = 7;
constexpr int kStreamBrotliWindowBits = 16;
constexpr std::size_t kOutStep = 16 * 1024;
constexpr uInt kMaxZlibInput = 1u << 30;

std::string_view media_type(std::string_view content_type) noexcept {
  return detail::trim_ows(content_type.substr(0, content_type.find(';')));
}

bool starts_with_ci(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}
bool ends_with_ci(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && http::iequals(s.substr(s.size() - suffix.size()), suffix);
}

// A q-value ("1", "0.5", "0.125") in thousandths; -1 when malformed.
int parse_qvalue(std::string_view v) noexcept {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int whole = v[0] - '0';
  if (v.size() == 1) return whole * 1000;
  if (v[1] != '.' || v.size() > 5) return -1;
  int frac = 0, scale = 100;
  for (char c : v.substr(2)) {
    if (c < '0' || c > '9') return -1;
    frac += (c - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && frac != 0) return -1;
  return whole * 1000 + frac;
}

// --- one-shot gzip with a per-thread deflate state (deflateReset instead of ~256 KiB of allocations)

struct ThreadDeflate {
  z_stream zs{};
  int level = -1;
  ~ThreadDeflate() {
    if (level >= 0) deflateEnd(&zs);
  }
  z_stream& get(int wanted) {
    if (level == wanted) {
      deflateReset(&zs);
      return zs;
    }
    if (level >= 0) deflateEnd(&zs);
    level = -1;
    zs = z_stream{};
    if (deflateInit2(&zs, wanted, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::bad_alloc();
    level = wanted;
    return zs;
  }
};

// --- streaming encoders: each chunk is flushed, so the bytes so far decode completely -----------

class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual void write(std::string_view in, std::string& out) = 0;  // compress + flush
  virtual void finish(std::string& out) = 0;                      // the stream's trailer
};

class GzipStream final : public StreamEncoder {
 public:
  explicit GzipStream(int level) {
    if (deflateInit2(&zs_, level, Z_DEFLATED, kStreamGzipWindowBits, kStreamGzipMemLevel, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::bad_alloc();
  }
  ~GzipStream() override { deflateEnd(&zs_); }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  void write(std::string_view in, std::string& out) override {
    while (!in.empty()) {
      auto n = static_cast<uInt>(std::min<std::size_t>(in.size(), kMaxZlibInput));
      run(in.substr(0, n), Z_SYNC_FLUSH, out);
      in.remove_prefix(n);
    }
  }
  void finish(std::string& out) override { run({}, Z_FINISH, out); }

 private:
  void run(std::string_view in, int flush, std::string& out) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    while (true) {
      std::size_t used = out.size();
      out.resize(used + kOutStep);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      zs_.avail_out = static_cast<uInt>(kOutStep);
      int rc = deflate(&zs_, flush);
      out.resize(out.size() - zs_.avail_out);
      if (rc == Z_STREAM_ERROR) throw std::runtime_error("gzip stream failed");
      if (flush == Z_FINISH ? rc == Z_STREAM_END : zs_.avail_out != 0) break;
    }
  }
  z_stream zs_{};
};

class BrotliStream final : public StreamEncoder {
 public:
  explicit BrotliStream(int quality) : state_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {
    if (state_ == nullptr) throw std::bad_alloc();
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, static_cast<std::uint32_t>(quality));
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_LGWIN, kStreamBrotliWindowBits);
  }
  ~BrotliStream() override { BrotliEncoderDestroyInstance(state_); }
  BrotliStream(const BrotliStream&) = delete;
  BrotliStream& operator=(const BrotliStream&) = delete;

  void write(std::string_view in, std::string& out) override { run(in, BROTLI_OPERATION_FLUSH, out); }
  void finish(std::string& out) override { run({}, BROTLI_OPERATION_FINISH, out); }

 private:
  void run(std::string_view in, BrotliEncoderOperation op, std::string& out) {
    std::size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    while (true) {
      std::size_t avail_out = 0;
      if (!BrotliEncoderCompressStream(state_, op, &avail_in, &next_in, &avail_out, nullptr, nullptr))
        throw std::runtime_error("brotli stream failed");
      std::size_t n = 0;
      const std::uint8_t* bytes = BrotliEncoderTakeOutput(state_, &n);
      out.append(reinterpret_cast<const char*>(bytes), n);
      bool done = op == BROTLI_OPERATION_FINISH ? BrotliEncoderIsFinished(state_) != 0
                                                : avail_in == 0 && BrotliEncoderHasMoreOutput(state_) == 0;
      if (done) break;
    }
  }
  BrotliEncoderState* state_;
};

// The source's chunks, compressed; an empty chunk from the source is skipped (a flush of nothing
// would still cost bytes on the wire).
AsyncGenerator<std::string> compress_stream(AsyncGenerator<std::string> source, std::unique_ptr<StreamEncoder> encoder) {
  while (true) {
    std::optional<std::string> chunk = co_await source.next();
    if (!chunk) break;
    if (chunk->empty()) continue;
    std::string out;
    encoder->write(*chunk, out);
    if (!out.empty()) co_yield std::move(out);
  }
  std::string tail;
  encoder->finish(tail);
  if (!tail.empty()) co_yield std::move(tail);
}

}  // namespace

std::string gzip_compress(std::string_view input, int level) {
  thread_local ThreadDeflate t_deflate;
  z_stream& zs = t_deflate.get(level);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(input.size())));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), kMaxZlibInput));
  while (true) {
    if (zs.avail_in == 0 && !input.empty()) {
      std::size_t n = std::min<std::size_t>(input.size(), kMaxZlibInput);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
      zs.avail_in = static_cast<uInt>(n);
      input.remove_prefix(n);
    }
    if (zs.avail_out == 0) {
      std::size_t used = zs.total_out;
      if (out.size() < used + kOutStep) out.resize(used + kOutStep);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - used, kMaxZlibInput));
    }
    int rc = deflate(&zs, input.empty() ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("gzip failed");
  }
  out.resize(zs.total_out);
  return out;
}

std::string brotli_compress(std::string_view input, int quality) {
  std::size_t bound = BrotliEncoderMaxCompressedSize(input.size());
  if (bound == 0) throw std::length_error("brotli: input too large");
  std::string out(bound, '\0');
  std::size_t size = bound;
  if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, input.size(),
                             reinterpret_cast<const std::uint8_t*>(input.data()), &size,
                             reinterpret_cast<std::uint8_t*>(out.data())))
    throw std::runtime_error("brotli failed");
  out.resize(size);
  return out;
}

Compression::Compression(CompressionOptions options) : options_(options) {
  options_.gzip_level = std::clamp(options_.gzip_level, 1, 9);
  options_.brotli_quality = std::clamp(options_.brotli_quality, 0, 11);
}

bool Compression::compressible(std::string_view content_type) noexcept {
  std::string_view media = media_type(content_type);
  if (starts_with_ci(media, "text/")) return !http::iequals(media, "text/event-stream");
  if (http::iequals(media, "image/svg+xml")) return true;
  if (!starts_with_ci(media, "application/")) return false;
  std::string_view sub = media.substr(12);
  for (std::string_view t : {"json", "javascript", "x-javascript", "ecmascript", "xml", "x-ndjson", "ndjson", "wasm"})
    if (http::iequals(sub, t)) return true;
  return ends_with_ci(sub, "+json") || ends_with_ci(sub, "+xml");
}

namespace {

struct Accepted {
  int br = 0, gzip = 0;  // q-values in thousandths; 0 = not acceptable
  bool identity_refused = false;
};

Accepted parse_accept_encoding(std::string_view accept_encoding) {
  int q_br = -1, q_gzip = -1, q_identity = -1, q_any = -1;
  detail::any_token(accept_encoding, [&](std::string_view entry) {
    auto semi = entry.find(';');
    std::string_view coding = detail::trim_ows(entry.substr(0, semi));
    int q = 1000;
    if (semi != std::string_view::npos) {
      std::string_view params = entry.substr(semi + 1);
      while (!params.empty()) {
        auto next = params.find(';');
        std::string_view p = detail::trim_ows(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') q = parse_qvalue(detail::trim_ows(p.substr(2)));
      }
      if (q < 0) return false;  // a malformed entry is ignored
    }
    if (http::iequals(coding, "br")) q_br = q;
    else if (http::iequals(coding, "gzip") || http::iequals(coding, "x-gzip")) q_gzip = q;
    else if (http::iequals(coding, "identity")) q_identity = q;
    else if (coding == "*") q_any = q;
    return false;
  });
  // "*" covers every coding not named (RFC 9110 12.5.3), identity included.
  Accepted a;
  a.br = q_br >= 0 ? q_br : std::max(q_any, 0);
  a.gzip = q_gzip >= 0 ? q_gzip : std::max(q_any, 0);
  a.identity_refused = q_identity == 0 || (q_identity < 0 && q_any == 0);
  return a;
}

}  // namespace

ContentCoding Compression::negotiate(std::string_view accept_encoding, bool* identity_refused) const {
  Accepted a = parse_accept_encoding(accept_encoding);
  if (identity_refused != nullptr) *identity_refused = a.identity_refused;
  if (!options_.brotli) a.br = 0;
  if (!options_.gzip) a.gzip = 0;
  if (a.br == 0 && a.gzip == 0) return ContentCoding::kIdentity;
  return a.br >= a.gzip ? ContentCoding::kBrotli : ContentCoding::kGzip;
}

void Compression::after(const http::Request& request, Context&, http::Response& response) {
  int status = response.status;
  if (status < 200 || status == 204 || status == 206 || status == 304 || response.upgrade) return;
  if (detail::find_header(response.headers, "Content-Encoding") != nullptr ||
      detail::find_header(response.headers, "Content-Range") != nullptr)
    return;
  if (const std::string* cc = detail::find_header(response.headers, "Cache-Control");
      cc != nullptr && detail::has_token(*cc, "no-transform"))
    return;

  bool type_ok = compressible(response.content_type);
  bool stream = response.stream.has_value();
  if (stream && (!options_.streams || !type_ok)) return;
  if (!stream && response.body.empty()) return;

  std::string_view accept = request.header("accept-encoding");
  bool identity_refused = false;
  ContentCoding coding = accept.empty() ? ContentCoding::kIdentity : negotiate(accept, &identity_refused);
  bool worth_it = stream || (type_ok && response.body.size() >= options_.min_size);
  if (!worth_it && !(identity_refused && coding != ContentCoding::kIdentity)) return;
  // From here the answer depends on Accept-Encoding, whatever this client asked for.
  detail::add_vary(response.headers, "Accept-Encoding");
  if (coding == ContentCoding::kIdentity) return;

  if (stream && request.method == http::Method::kHead) {
    // The stream is never pulled for HEAD: announce the coding without building an encoder.
    if (coding == ContentCoding::kBrotli && options_.gzip && parse_accept_encoding(accept).gzip > 0)
      coding = ContentCoding::kGzip;
  } else if (stream) {
    // Flushed after every small chunk, brotli's edge over gzip vanishes (a token stream: gzip 18 KB,
    // brotli q4 20 KB) while its state is ~7x larger (~700 KiB vs ~100 KiB per open stream): streams
    // take gzip whenever the client accepts it at all.
    if (coding == ContentCoding::kBrotli && options_.gzip && parse_accept_encoding(accept).gzip > 0)
      coding = ContentCoding::kGzip;
    std::unique_ptr<StreamEncoder> encoder;
    if (coding == ContentCoding::kGzip) encoder = std::make_unique<GzipStream>(options_.gzip_level);
    else encoder = std::make_unique<BrotliStream>(options_.brotli_quality);
    auto wrapped = compress_stream(std::move(*response.stream), std::move(encoder));
    response.stream = std::move(wrapped);
  } else {
    std::string out = coding == ContentCoding::kGzip ? gzip_compress(response.body, options_.gzip_level)
                                                      : brotli_compress(response.body, options_.brotli_quality);
    if (out.size() >= response.body.size() && !identity_refused) return;  // incompressible after all
    response.body = std::move(out);
  }
  response.headers.emplace_back("Content-Encoding", coding == ContentCoding::kGzip ? "gzip" : "br");
  if (std::string* etag = detail::find_header(response.headers, "ETag"); etag != nullptr && etag->starts_with('"'))
    etag->insert(0, "W/");
}

}  // namespace serval
