// Form and raw bodies for handler parameters (see upload.hpp): the per-request parse of a
// multipart/form-data or application/x-www-form-urlencoded body, lookups, and their documentation.
#include "serval/app/upload.hpp"

#include <memory>

#include <boost/json.hpp>

#include "serval/app/context.hpp"
#include "serval/app/errors.hpp"
#include "serval/app/json_schema.hpp"

namespace serval {

namespace {

class FormLimitsStep final : public Middleware {
 public:
  explicit FormLimitsStep(MultipartLimits limits) : limits_(limits) {}
  std::optional<http::Response> before(http::Request&, Context& ctx) override {
    ctx.emplace<MultipartLimits>(limits_);
    return std::nullopt;
  }

 private:
  MultipartLimits limits_;
};

// Client text echoed in an error detail: clipped, and printable ASCII only (valid UTF-8 JSON).
std::string printable(std::string_view s, std::size_t max = 64) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  if (s.size() > max) out += "...";
  return out;
}

std::string_view media_type_of(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return media;
}

void parse_urlencoded(std::string_view body, const MultipartLimits& limits, detail::FormData& form) {
  std::size_t count = 0;
  for (std::size_t i = 0; i <= body.size();) {
    const std::size_t amp = std::min(body.find('&', i), body.size());
    if (amp > i) ++count;
    i = amp + 1;
  }
  if (count > limits.max_parts)
    throw HttpError(413, "Form body has more than " + std::to_string(limits.max_parts) + " fields");
  form.storage.reserve(count);  // never reallocated below: the parts view into these strings
  form.parts.reserve(count);
  std::string name;
  for (std::size_t i = 0; i <= body.size();) {
    const std::size_t amp = std::min(body.find('&', i), body.size());
    const std::string_view pair = body.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::string value;
    if (!http::percent_decode(pair.substr(0, eq), name, true) ||
        !http::percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), value, true))
      throw HttpError(400, "Invalid application/x-www-form-urlencoded body: malformed percent-escape");
    if (value.size() > limits.max_field_bytes)
      throw HttpError(413, "Form field \"" + printable(name) + "\" is larger than the limit of " +
                               std::to_string(limits.max_field_bytes) + " bytes");
    form.storage.push_back(std::move(value));
    MultipartPart part;
    part.name = name;
    part.content_type = "text/plain";
    part.data = form.storage.back();
    form.parts.push_back(std::move(part));
  }
}

// An empty text field, or a file input with no file chosen: absent, as in FastAPI.
bool is_blank_part(const MultipartPart& p) {
  return p.data.empty() && (!p.filename || p.filename->empty());
}

bool media_type_accepts(std::string_view range, std::string_view media) {
  if (range == "*/*") return true;
  if (range.size() >= 2 && range.substr(range.size() - 2) == "/*") {
    const std::string_view type = range.substr(0, range.size() - 1);  // "audio/"
    return media.size() > type.size() && http::iequals(media.substr(0, type.size()), type);
  }
  return http::iequals(range, media);
}

}  // namespace

MiddlewarePtr form_limits(MultipartLimits limits) { return std::make_shared<FormLimitsStep>(limits); }

namespace detail {

const FormData& form_data(http::Request& req) {
  auto* ctx = static_cast<Context*>(req.context);
  if (ctx == nullptr) throw std::logic_error("serval: form parameters need a request dispatched by serval::App");
  if (const FormData* cached = ctx->find<FormData>()) return *cached;
  const MultipartLimits* custom = ctx->find<MultipartLimits>();
  const MultipartLimits limits = custom != nullptr ? *custom : MultipartLimits{};
  auto form = std::make_shared<FormData>();
  const std::string_view content_type = req.header("content-type");
  const std::string_view media = media_type_of(content_type);
  if (http::iequals(media, "multipart/form-data")) {
    const std::optional<std::string> boundary = multipart_boundary(content_type);
    if (!boundary) throw HttpError(400, "Invalid multipart/form-data body: no valid boundary parameter in Content-Type");
    MultipartResult parsed = parse_multipart(req.body, *boundary, limits);
    if (!parsed.ok()) {
      if (parsed.limit_exceeded) throw HttpError(413, "Multipart body over the limits: " + parsed.error);
      throw HttpError(400, "Invalid multipart/form-data body: " + parsed.error);
    }
    form->parts = std::move(parsed.parts);
  } else if (http::iequals(media, "application/x-www-form-urlencoded")) {
    parse_urlencoded(req.body, limits, *form);
  }
  // Any other Content-Type: no form, so every required field is reported missing (422).
  const FormData& ref = *form;
  ctx->put_shared<FormData>(std::move(form));
  return ref;
}

const MultipartPart* form_find(const FormData& form, std::string_view name) {
  for (const auto& p : form.parts)
    if (p.name == name && !is_blank_part(p)) return &p;
  return nullptr;
}

std::vector<const MultipartPart*> form_find_all(const FormData& form, std::string_view name) {
  std::vector<const MultipartPart*> out;
  for (const auto& p : form.parts)
    if (p.name == name && !is_blank_part(p)) out.push_back(&p);
  return out;
}

bool read_upload(const MultipartPart& part, std::vector<LocItem> loc, UploadFile& out, ValidationErrors& errs) {
  if (!part.filename) {
    ValidationIssue issue;
    issue.type = "value_error";
    issue.loc = std::move(loc);
    issue.msg = "Value error, Expected UploadFile, received: <class 'str'>";
    if (part.data.size() <= 1024) {
      issue.input = boost::json::string(part.data);
    } else {
      issue.input = nullptr;
    }
    issue.ctx = boost::json::object{{"error", boost::json::object{}}};
    errs.add(std::move(issue));
    return false;
  }
  out.filename = *part.filename;
  out.content_type = part.content_type;
  out.data.assign(part.data);
  out.headers = part.headers;
  return true;
}

FormFieldDoc file_field_doc(std::string_view name, bool required, bool many, bool nullable, const Rules& rules) {
  FormFieldDoc f;
  f.name = std::string(name);
  f.required = required;
  f.is_file = true;
  f.description = std::string(rules.description.view());
  f.deprecated = rules.is_deprecated;
  f.schema = [many, nullable](SchemaRegistry&) {
    boost::json::value file = boost::json::object{{"type", "string"}, {"format", "binary"}};
    if (many) file = boost::json::object{{"type", "array"}, {"items", file}};
    if (nullable) file = boost::json::object{{"anyOf", boost::json::array{file, boost::json::object{{"type", "null"}}}}};
    return file;
  };
  return f;
}

void check_raw_body(const http::Request& req, const std::string_view* media_types, std::size_t count,
                    ValidationErrors& errs) {
  const std::string_view content_type = req.header("content-type");
  if (count > 0 && !content_type.empty()) {
    const std::string_view media = media_type_of(content_type);
    bool accepted = false;
    for (std::size_t i = 0; i < count && !accepted; ++i) accepted = media_type_accepts(media_types[i], media);
    if (!accepted) {
      std::string expected;
      for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) expected += ", ";
        expected.append(media_types[i]);
      }
      throw HttpError(415, "Unsupported Media Type \"" + printable(media, 100) + "\": expected " + expected);
    }
  }
  if (req.body.empty()) {
    ValidationIssue issue;
    issue.type = "missing";
    issue.loc = {std::string("body")};
    issue.msg = "Field required";
    issue.input = nullptr;
    errs.add(std::move(issue));
  }
}

}  // namespace detail

}  // namespace serval
