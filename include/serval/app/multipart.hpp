// multipart/form-data (RFC 7578 on top of RFC 2046): the body a browser form or `curl -F` sends
// when it uploads files. This is the parser; handlers normally take serval::File<"image"> and
// serval::Form<T, "name"> parameters instead (upload.hpp), which use it.
//
//   auto boundary = serval::multipart_boundary(req.header("content-type"));
//   if (!boundary) return 400;                            // not multipart, or no boundary= parameter
//   serval::MultipartResult r = serval::parse_multipart(req.body, *boundary, {});
//   if (!r.ok()) return 400 with r.error;                // r.limit_exceeded: a MultipartLimits hit
//   for (const serval::MultipartPart& p : r.parts)
//     if (p.filename) save(*p.filename, p.data);        // p.data views into req.body
//
// Parts' data are string_views into the body: parsing a 20 MB upload copies nothing, and the
// request body outlives the handler's use of it. Copy (UploadFile does) to keep a part longer.
//
// Accepted: a quoted or unquoted boundary parameter; CRLF line ends, and bare LF ones; a preamble
// before the first delimiter and an epilogue after the last; transport padding (spaces, tabs)
// after a delimiter; name="..." and filename="..." (backslash escapes \" and \\ undone, any other
// backslash kept, as browsers send Windows paths), and filename*=UTF-8''%E2%82%AC.txt (RFC 5987,
// UTF-8 or ISO-8859-1; it wins over filename). Rejected (error): a missing first or closing
// delimiter, a part without `Content-Disposition: form-data; name=...`, unterminated or folded
// part headers, control characters in them, and anything over the limits. Each search for the
// delimiter is a Boyer-Moore-Horspool scan that resumes where the last one stopped: linear time.
// The filename is the client's: never use it as a path on your disk as it is.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace serval {

struct MultipartLimits {
  std::size_t max_parts = 1000;                                          // more parts: error
  std::size_t max_header_bytes = 16 * 1024;                              // per part, headers with their line ends
  std::size_t max_part_bytes = std::numeric_limits<std::size_t>::max();  // any part's data (files too)
  std::size_t max_field_bytes = 1024 * 1024;                             // a part without a filename (a text field)
};

struct MultipartPart {
  std::string name;                     // Content-Disposition name=
  std::optional<std::string> filename;  // set when the part is a file (filename= or filename*=), may be ""
  std::string content_type;             // as sent; default text/plain, or application/octet-stream for files
  std::vector<std::pair<std::string, std::string>> headers;  // every part header; names lower-cased
  std::string_view data;                // the part's bytes, a view into the body

  bool is_file() const noexcept { return filename.has_value(); }
};

struct MultipartResult {
  std::vector<MultipartPart> parts;  // in body order
  std::string error;                 // empty on success: why the body is not acceptable
  bool limit_exceeded = false;       // the error is a MultipartLimits one (answer 413, not 400)

  bool ok() const noexcept { return error.empty(); }
  // The first part named `name`, or nullptr.
  const MultipartPart* find(std::string_view name) const noexcept;
};

// The boundary= parameter of a multipart/* Content-Type (unquoted), or nothing when the media type
// is not multipart or the boundary is missing or invalid (1 to 70 characters, no controls).
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Splits `body` into its parts. Never throws for any input (only std::bad_alloc).
MultipartResult parse_multipart(std::string_view body, std::string_view boundary, const MultipartLimits& limits = {});

}  // namespace serval
