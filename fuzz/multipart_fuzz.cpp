// Fuzzes the multipart/form-data parser. The input's first line is a Content-Type (its boundary
// is used, "XyZ" when it has none), the rest the body. Any body either fails with a message and no
// parts, or yields parts that view into the body, respect the limits, and survive a round trip:
// written back canonically (CRLF, filename* for the filename) and parsed again, they are the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "serval/app/multipart.hpp"

namespace {

using serval::fuzz::check;

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string ext_value(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "UTF-8''";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || c == '.' || c == '-' || c == '_') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

std::string write(const serval::MultipartResult& r, std::string_view boundary) {
  std::string body;
  for (const auto& p : r.parts) {
    body.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=").append(quoted(p.name));
    if (p.filename) body.append("; filename*=").append(ext_value(*p.filename));
    body.append("\r\nContent-Type: ").append(p.content_type).append("\r\n\r\n");
    body.append(p.data).append("\r\n");
  }
  body.append("--").append(boundary).append("--\r\n");
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = input.find('\n');
  const std::string_view content_type = nl == std::string_view::npos ? std::string_view{} : input.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? input : input.substr(nl + 1);
  const std::string boundary = serval::multipart_boundary(content_type).value_or("XyZ");
  check(!boundary.empty() && boundary.size() <= 70);

  const serval::MultipartLimits limits{.max_parts = 16, .max_header_bytes = 512, .max_part_bytes = 4096,
                                       .max_field_bytes = 1024};
  const serval::MultipartResult r = serval::parse_multipart(body, boundary, limits);
  if (!r.ok()) {
    check(r.parts.empty());
    for (char c : r.error) check(c >= 0x20 && c < 0x7F);  // echoed in a JSON detail: printable ASCII
    return 0;
  }
  check(!r.limit_exceeded && r.parts.size() <= limits.max_parts);
  for (const auto& p : r.parts) {
    check(p.data.empty() || (p.data.data() >= body.data() && p.data.data() + p.data.size() <= body.data() + body.size()));
    check(p.data.size() <= (p.filename ? limits.max_part_bytes : limits.max_field_bytes));
    check(!p.content_type.empty());
  }

  const std::string again = write(r, boundary);
  serval::MultipartLimits relaxed = limits;  // the canonical headers may be longer (escapes, %XX)
  relaxed.max_header_bytes = 1 << 20;
  const serval::MultipartResult r2 = serval::parse_multipart(again, boundary, relaxed);
  check(r2.ok() && r2.parts.size() == r.parts.size());
  for (std::size_t i = 0; i < r.parts.size(); ++i) {
    check(r2.parts[i].name == r.parts[i].name);
    check(r2.parts[i].filename == r.parts[i].filename);
    check(r2.parts[i].content_type == r.parts[i].content_type);
    check(r2.parts[i].data == r.parts[i].data);
  }
  return 0;
}
