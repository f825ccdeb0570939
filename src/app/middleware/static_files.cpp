#include "serval/app/middleware/static_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "app/middleware/header_util.hpp"
#include "serval/app/app.hpp"
#include "serval/net/event_loop.hpp"

namespace serval {

namespace {

constexpr std::size_t kChunkSize = 64 * 1024;
constexpr std::size_t kYieldEvery = 1024 * 1024;  // bytes a stream reads before letting its loop breathe
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;  // O_NONBLOCK: a FIFO never hangs us

// -1: openat2 is unavailable here (old kernel, seccomp); checked once, then the fallback is used.
std::atomic<int> g_openat2{0};

class FileHandle {
 public:
  explicit FileHandle(int fd = -1) noexcept : fd_(fd) {}
  FileHandle(FileHandle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileHandle& operator=(FileHandle&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~FileHandle() { reset(); }
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

struct MimeType {
  std::string_view ext;
  std::string_view type;
};
constexpr MimeType kMimeTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"tsv", "text/tab-separated-values; charset=utf-8"},
    {"xml", "application/xml"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"jsonl", "application/x-ndjson"},
    {"ndjson", "application/x-ndjson"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"bmp", "image/bmp"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"},
    {"ogg", "audio/ogg"},
    {"flac", "audio/flac"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"onnx", "application/octet-stream"},
    {"gguf", "application/octet-stream"},
};

http::Response not_found() { return http::Response::error(404, "Not Found"); }

void append_hex(std::string& out, std::uint64_t v) {
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append(buf, r.ptr);
}

// --- HTTP dates (IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT") ------------------------------------

constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string http_date_of(std::int64_t seconds_since_epoch) {
  using namespace std::chrono;
  sys_seconds s{seconds{seconds_since_epoch}};
  auto day = floor<days>(s);
  year_month_day ymd{day};
  hh_mm_ss<seconds> hms{s - day};
  auto two = [](std::string& out, long v) {
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
  };
  std::string out;
  out.reserve(29);
  out += kDays[weekday{day}.c_encoding()];
  out += ", ";
  two(out, static_cast<long>(static_cast<unsigned>(ymd.day())));
  out.push_back(' ');
  out += kMonths[static_cast<unsigned>(ymd.month()) - 1];
  out.push_back(' ');
  out += std::to_string(static_cast<int>(ymd.year()));
  out.push_back(' ');
  two(out, static_cast<long>(hms.hours().count()));
  out.push_back(':');
  two(out, static_cast<long>(hms.minutes().count()));
  out.push_back(':');
  two(out, static_cast<long>(hms.seconds().count()));
  out += " GMT";
  return out;
}

// IMF-fixdate only; the obsolete RFC 850 and asctime forms are ignored (the answer is then simply
// the full 200, never a wrong 304).
std::optional<std::int64_t> parse_http_date(std::string_view s) {
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s.substr(25) != " GMT") return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + pos + len;
  };
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (!num(5, 2, day) || s[7] != ' ' || s[11] != ' ' || !num(12, 4, year) || s[16] != ' ' || !num(17, 2, hh) ||
      s[19] != ':' || !num(20, 2, mm) || s[22] != ':' || !num(23, 2, ss))
    return std::nullopt;
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i)
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  if (month == 0 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count() * 86400LL + hh * 3600 + mm * 60 + ss;
}

// --- validators -----------------------------------------------------------------------------------

std::string_view strip_weak(std::string_view tag) noexcept { return tag.starts_with("W/") ? tag.substr(2) : tag; }

// If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
bool none_match(std::string_view header, std::string_view etag) {
  return detail::any_token(header, [&](std::string_view t) { return t == "*" || strip_weak(t) == strip_weak(etag); });
}

// If-Range: a strong ETag match or the exact Last-Modified date; otherwise the Range is ignored.
bool if_range_holds(std::string_view if_range, std::string_view etag, std::int64_t mtime) {
  if_range = detail::trim_ows(if_range);
  if (if_range.empty()) return true;
  if (if_range.starts_with('"')) return if_range == etag;
  if (if_range.starts_with("W/")) return false;
  auto date = parse_http_date(if_range);
  return date && *date == mtime;
}

struct ByteRange {
  enum class Kind : std::uint8_t { kNone, kSatisfiable, kUnsatisfiable } kind = Kind::kNone;
  std::uint64_t first = 0, length = 0;
};

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// One "bytes=" range against a file of `size` bytes. Several ranges, other units and malformed
// specs give kNone: the Range is ignored and the whole file is sent (RFC 9110 14.2 allows it).
ByteRange parse_range(std::string_view header, std::uint64_t size) {
  ByteRange r;
  header = detail::trim_ows(header);
  if (header.size() < 6 || !http::iequals(header.substr(0, 6), "bytes=")) return r;
  std::string_view spec = detail::trim_ows(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return r;
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return r;
  std::string_view a = detail::trim_ows(spec.substr(0, dash)), b = detail::trim_ows(spec.substr(dash + 1));
  std::uint64_t first = 0, last = 0;
  if (a.empty()) {  // "-n": the last n bytes
    if (!parse_u64(b, last)) return r;
    if (last == 0 || size == 0) {
      r.kind = ByteRange::Kind::kUnsatisfiable;
      return r;
    }
    r.kind = ByteRange::Kind::kSatisfiable;
    r.length = std::min(last, size);
    r.first = size - r.length;
    return r;
  }
  if (!parse_u64(a, first)) return r;
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!parse_u64(b, last) || last < first) {
    return r;
  }
  if (first >= size) {
    r.kind = ByteRange::Kind::kUnsatisfiable;
    return r;
  }
  last = std::min(last, size - 1);
  r.kind = ByteRange::Kind::kSatisfiable;
  r.first = first;
  r.length = last - first + 1;
  return r;
}

// --- reading ----------------------------------------------------------------------------------------

// Reads up to `length` bytes at `offset`; fewer when the file shrank meanwhile.
std::string read_range(int fd, std::uint64_t offset, std::size_t length) {
  std::string out(length, '\0');
  std::size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "static file read");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

AsyncGenerator<std::string> read_chunks(FileHandle file, std::uint64_t offset, std::uint64_t length) {
  std::size_t since_yield = 0;
  while (length > 0) {
    std::string chunk = read_range(file.get(), offset, static_cast<std::size_t>(std::min<std::uint64_t>(length, kChunkSize)));
    // Headers announced this length already: a shorter file can only cut the stream.
    if (chunk.empty()) throw std::runtime_error("static file shrank while being sent");
    offset += chunk.size();
    length -= chunk.size();
    since_yield += chunk.size();
    co_yield std::move(chunk);
    if (since_yield >= kYieldEvery && length > 0 && net::EventLoop::current() != nullptr) {
      since_yield = 0;
      co_await sleep_for(std::chrono::microseconds(1));  // let the loop serve its other connections
    }
  }
}

}  // namespace

namespace detail {
// Test seam: exercise the realpath fallback used where openat2 is unavailable.
void force_openat2_fallback_for_testing(bool on) { g_openat2.store(on ? -1 : 0, std::memory_order_relaxed); }
}  // namespace detail

StaticFiles::StaticFiles(const std::string& directory, StaticFilesOptions options) : options_(std::move(options)) {
  root_fd_ = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::system_error(errno, std::generic_category(), "static files directory " + directory);
  char* real = ::realpath(directory.c_str(), nullptr);
  if (real == nullptr) {
    int err = errno;
    ::close(root_fd_);
    throw std::system_error(err, std::generic_category(), "static files directory " + directory);
  }
  root_real_ = real;
  std::free(real);
}

StaticFiles::~StaticFiles() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::string_view StaticFiles::content_type_for(std::string_view file_name) noexcept {
  auto slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  auto dot = file_name.rfind('.');
  if (dot != std::string_view::npos && dot + 1 < file_name.size()) {
    std::string_view ext = file_name.substr(dot + 1);
    for (const auto& m : kMimeTypes)
      if (http::iequals(m.ext, ext)) return m.type;
  }
  return "application/octet-stream";
}

int StaticFiles::open_beneath(const std::string& relative) const {
  if (g_openat2.load(std::memory_order_relaxed) >= 0) {
    open_how how{};
    how.flags = kOpenFlags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root_fd_, relative.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != ENOSYS && errno != EPERM) return -1;  // absent, or escaping the root (EXDEV)
    g_openat2.store(-1, std::memory_order_relaxed);
  }
  // Fallback: resolve every symlink, check the result is under the root, open what was checked.
  std::string full = root_real_;
  if (full.back() != '/') full += '/';
  full += relative;
  char* resolved = ::realpath(full.c_str(), nullptr);
  if (resolved == nullptr) return -1;
  std::string_view r(resolved);
  bool inside = root_real_ == "/" || r == root_real_ ||
                (r.starts_with(root_real_) && r.size() > root_real_.size() && r[root_real_.size()] == '/');
  int fd = inside ? ::open(resolved, kOpenFlags | O_NOFOLLOW) : -1;
  std::free(resolved);
  return fd;
}

http::Response StaticFiles::serve(const http::Request& request, std::string_view raw) const {
  std::string decoded;
  if (!http::percent_decode(raw, decoded)) return not_found();
  bool wants_directory = decoded.empty() || decoded.back() == '/';

  // Rebuild the path from checked segments: nothing but plain names reaches the file system.
  std::string relative;
  std::string_view rest = decoded;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (seg.empty()) continue;
    if (seg == "." || seg == ".." || seg.find('\0') != std::string_view::npos ||
        seg.find('\\') != std::string_view::npos)
      return not_found();
    if (seg.front() == '.' && !options_.allow_hidden) return not_found();
    if (!relative.empty()) relative += '/';
    relative += seg;
  }
  if (relative.empty()) relative = ".";

  FileHandle file(open_beneath(relative));
  if (!file) return not_found();
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return not_found();
  std::string_view name = relative;
  bool is_index = false;
  if (S_ISDIR(st.st_mode)) {
    if (!options_.html) return not_found();
    if (!wants_directory) {
      // "dir" -> "dir/", so that the page's relative links resolve inside it (as Starlette does).
      std::string_view path = request.path;
      while (path.starts_with("//")) path.remove_prefix(1);  // never a scheme-relative Location
      std::string location(path);
      location += '/';
      if (!request.query.empty()) {
        location += '?';
        location += request.query;
      }
      http::Response r = http::Response::error(307, "Temporary Redirect");
      r.headers.emplace_back("Location", std::move(location));
      return r;
    }
    relative = relative == "." ? "index.html" : relative + "/index.html";
    file = FileHandle(open_beneath(relative));
    if (!file || ::fstat(file.get(), &st) != 0) return not_found();
    name = relative;
    is_index = true;
  }
  if (!S_ISREG(st.st_mode)) return not_found();
  if (wants_directory && !is_index) return not_found();  // "file.txt/" names no directory

  auto size = static_cast<std::uint64_t>(st.st_size);
  std::int64_t mtime = st.st_mtim.tv_sec;
  std::string etag = "\"";
  append_hex(etag, size);
  etag += '-';
  append_hex(etag, static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                       static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  etag += '"';

  http::Response r;
  r.headers.reserve(6);
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Last-Modified", http_date_of(mtime));
  if (!options_.cache_control.empty()) r.headers.emplace_back("Cache-Control", options_.cache_control);

  // Conditional GET: If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  std::string_view inm = request.header("if-none-match");
  bool unchanged = false;
  if (!inm.empty()) {
    unchanged = none_match(inm, etag);
  } else if (std::string_view ims = request.header("if-modified-since"); !ims.empty()) {
    auto since = parse_http_date(detail::trim_ows(ims));
    unchanged = since && mtime <= *since;
  }
  if (unchanged) {
    r.status = 304;
    return r;
  }

  r.headers.emplace_back("Accept-Ranges", "bytes");
  std::uint64_t first = 0, length = size;
  if (std::string_view range = request.header("range");
      !range.empty() && request.method == http::Method::kGet && if_range_holds(request.header("if-range"), etag, mtime)) {
    ByteRange br = parse_range(range, size);
    if (br.kind == ByteRange::Kind::kUnsatisfiable) {
      http::Response bad = http::Response::error(416, "Range Not Satisfiable");
      bad.headers = std::move(r.headers);
      std::string cr = "bytes */";
      cr += std::to_string(size);
      bad.headers.emplace_back("Content-Range", std::move(cr));
      return bad;
    }
    if (br.kind == ByteRange::Kind::kSatisfiable) {
      first = br.first;
      length = br.length;
      r.status = 206;
      std::string cr = "bytes ";
      cr += std::to_string(first);
      cr += '-';
      cr += std::to_string(first + length - 1);
      cr += '/';
      cr += std::to_string(size);
      r.headers.emplace_back("Content-Range", std::move(cr));
    }
  }

  r.content_type = std::string(content_type_for(name));
  if (length <= options_.max_buffered_size) {
    r.body = read_range(file.get(), first, static_cast<std::size_t>(length));
  } else {
    r.stream.emplace(read_chunks(std::move(file), first, length));
  }
  return r;
}

// --- App::mount_static ------------------------------------------------------------------------------

App& App::mount_static(std::string_view prefix, const std::string& directory) {
  return mount_static(prefix, directory, StaticFilesOptions{});
}

App& App::mount_static(std::string_view prefix, const std::string& directory, const StaticFilesOptions& options) {
  std::string base(prefix);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!base.empty() && base.front() != '/') throw std::invalid_argument("mount_static: prefix must start with '/'");
  if (base.find_first_of("{}") != std::string::npos)
    throw std::invalid_argument("mount_static: prefix cannot hold path parameters: " + base);
  auto files = std::make_shared<const StaticFiles>(directory, options);

  RouteDoc doc;
  doc.method = http::Method::kGet;
  doc.path = base + "/{path...}";
  doc.info.include_in_schema = false;
  add_route(std::move(doc), [files](http::Request& req) -> http::HandlerOutcome {
    return files->serve(req, req.path_param("path"));
  });
  if (options.html) {
    RouteDoc index;
    index.method = http::Method::kGet;
    index.path = base + "/";
    index.info.include_in_schema = false;
    add_route(std::move(index), [files](http::Request& req) -> http::HandlerOutcome { return files->serve(req, ""); });
  }
  return *this;
}

}  // namespace serval
