// StaticFiles: serves a directory tree over GET/HEAD — a demo page, a front-end build, model
// cards — with the caching and partial-content behaviour browsers and download tools expect.
//
//   app.mount_static("/static", "/srv/www", {.cache_control = "public, max-age=3600", .html = true});
//   // GET /static/css/site.css  -> /srv/www/css/site.css
//
// On the wire: Content-Type from the extension; ETag (size + mtime) and Last-Modified, with
// If-None-Match / If-Modified-Since answered 304; Accept-Ranges: bytes, and a single
// "Range: bytes=a-b" / "a-" / "-n" answered 206 with Content-Range (unsatisfiable: 416 with
// "Content-Range: bytes */size"; several ranges: 200 with the whole file; If-Range honoured);
// Cache-Control as configured.
//
// Safety: the path is percent-decoded once and split on '/'; "." and ".." segments, NUL and
// backslashes are refused, dot-files too unless allowed. Files are opened relative to the root
// with openat2(RESOLVE_BENEATH), so no symlink can lead outside the root (symlinks that stay
// inside work); only regular files are served. Every refusal is a plain 404.
//
// Event loop: a file up to max_buffered_size is read with pread in one go (page-cache fast); a
// larger file, or range, streams in 64 KiB chunks and yields to the loop every MiB, so one big
// download never stalls the other connections of its thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "serval/http/request.hpp"
#include "serval/http/response.hpp"

namespace serval {

struct StaticFilesOptions {
  std::string cache_control = "no-cache";     // revalidate each time (cheap: 304); "" sends none
  bool html = false;                          // "dir/" serves dir/index.html; "dir" redirects to "dir/"
  bool allow_hidden = false;                  // serve ".well-known/...", ".env", ... (dot-files)
  std::size_t max_buffered_size = 1 << 20;    // larger bodies are streamed in 64 KiB chunks
};

class StaticFiles {
 public:
  // Throws std::system_error when `directory` cannot be opened as a directory.
  explicit StaticFiles(const std::string& directory, StaticFilesOptions options = {});
  ~StaticFiles();
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;

  // Answers a GET/HEAD for `relative_path` (raw, still percent-encoded, relative to the root).
  http::Response serve(const http::Request& request, std::string_view relative_path) const;

  // The Content-Type for a file name, by extension ("a.css" -> "text/css; charset=utf-8").
  static std::string_view content_type_for(std::string_view file_name) noexcept;

 private:
  int open_beneath(const std::string& relative) const;  // -1 when refused or absent

  int root_fd_ = -1;
  std::string root_real_;  // canonical root, for the fallback without openat2
  StaticFilesOptions options_;
};

}  // namespace serval
