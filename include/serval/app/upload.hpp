// Handler parameters for form bodies and raw bodies — FastAPI's `UploadFile = File(...)` and
// `Form(...)`. The part name and rules are part of the type, so one declaration drives extraction,
// validation (422) and the OpenAPI requestBody (a file picker in Swagger UI at /docs).
//
//   app.post("/caption", [](serval::File<"image"> img,                                 // required file
//                           serval::Form<std::string, "model", serval::rules().min_length(1)> model,
//                           serval::Form<std::optional<int>, "top_k"> top_k,           // optional field
//                           serval::OptionalFile<"mask"> mask) {                       // std::optional<UploadFile>
//     return img->filename + " " + std::to_string(img->size()) + " bytes via " + *model;
//   });
//   // curl -F image=@cat.png -F model=blip http://localhost:8000/caption
//
//   app.post("/transcribe", [](serval::RawBody<"audio/wav", "application/octet-stream"> audio) {
//     return decode_wav(audio.data);       // curl --data-binary @a.wav -H 'Content-Type: audio/wav' ...
//   });
//
// File<"name"> holds an UploadFile (copied out of the request, so it can be moved into a background
// task); with serval::rules().optional() an absent file leaves it empty (size() == 0, no filename).
// OptionalFile<"name"> holds std::optional<UploadFile>; Files<"name"> every file sent under the name.
// Form<T, "name", rules> is a text field converted to T (bool, integers, float, double, std::string,
// described enums, std::optional of those) and checked against the rules exactly like a Query<>.
// Both read multipart/form-data bodies; Form<> also reads application/x-www-form-urlencoded ones.
// Like FastAPI, an empty text field or an empty file input (filename="" and no bytes, what a
// browser sends when no file was chosen) counts as absent.
//
// Answers: a required part missing, or a body that is not a form at all (wrong Content-Type) ->
// 422 {"detail":[{"type":"missing","loc":["body","image"],"msg":"Field required","input":null}]};
// a text field where a file is expected -> 422 "value_error"; a Form value that does not convert or
// breaks a rule -> 422 as for Query; a multipart/form-data body that does not parse -> 400
// {"detail":"Invalid multipart/form-data body: ..."}; one over the MultipartLimits -> 413. The
// whole body is bounded first by the server's limit (--max-body-bytes, default 16 MiB: 413).
//
// RawBody<"media/type"...> is the request body as it is (views valid until the response is
// produced; copy to keep). With media types declared, a request whose Content-Type matches none
// of them gets 415 ("audio/*" and "*/*" ranges work; no Content-Type at all is accepted); an empty
// body gets 422 missing. It is documented as requestBody {type: string, format: binary} under each
// media type (application/octet-stream for RawBody<>). A handler takes at most one body: a JSON
// body struct, a RawBody, or File/Form parameters.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serval/app/middleware.hpp"
#include "serval/app/multipart.hpp"
#include "serval/app/params.hpp"
#include "serval/app/route_doc.hpp"
#include "serval/app/validation.hpp"

namespace serval {

// One uploaded file. The filename is the client's: do not use it as a path on your disk as it is.
struct UploadFile {
  std::string filename;      // as sent (may be "")
  std::string content_type;  // as sent, e.g. "image/png"; application/octet-stream when absent
  std::string data;          // the file's bytes
  std::vector<std::pair<std::string, std::string>> headers;  // the part's headers, names lower-cased

  std::size_t size() const noexcept { return data.size(); }
  bool empty() const noexcept { return data.empty(); }
};

template <class V, Name N, Rules R>
struct FileParam {
  using value_type = V;
  static constexpr std::string_view kName = N.view();
  static constexpr Rules kRules = R;  // optional(), doc(), deprecated() are used

  V value{};

  const V& operator*() const noexcept { return value; }
  V& operator*() noexcept { return value; }
  const V* operator->() const noexcept { return &value; }
  V* operator->() noexcept { return &value; }
};

template <Name N, Rules R = Rules{}>
using File = FileParam<UploadFile, N, R>;
template <Name N, Rules R = Rules{}>
using OptionalFile = FileParam<std::optional<UploadFile>, N, R>;
// Every file sent under the name (`curl -F img=@a.png -F img=@b.png`); required unless optional().
template <Name N, Rules R = Rules{}>
using Files = FileParam<std::vector<UploadFile>, N, R>;

template <class T, Name N, Rules R>
struct FormParam {
  using value_type = T;
  static constexpr std::string_view kName = N.view();
  static constexpr Rules kRules = R;

  T value{};

  const T& operator*() const noexcept { return value; }
  T& operator*() noexcept { return value; }
  const T* operator->() const noexcept { return &value; }
  T* operator->() noexcept { return &value; }
};

template <class T, Name N, Rules R = Rules{}>
using Form = FormParam<T, N, R>;

template <Name... MediaTypes>
struct RawBody {
  static constexpr std::array<std::string_view, sizeof...(MediaTypes)> kMediaTypes{MediaTypes.view()...};

  std::string_view content_type;  // the request's Content-Type as sent; empty when absent
  std::string_view data;          // the body

  std::size_t size() const noexcept { return data.size(); }
  bool empty() const noexcept { return data.empty(); }
};

// A route step that sets the multipart/urlencoded limits for the routes it is attached to:
//   app.post("/upload", handler, {.middleware = {serval::form_limits({.max_parts = 4, .max_part_bytes = 5 << 20})}});
MiddlewarePtr form_limits(MultipartLimits limits);

namespace detail {

// The request's form body, parsed once per request (kept in its Context): the parts of a
// multipart/form-data body, the fields of an application/x-www-form-urlencoded one (data views
// into `storage`), or nothing for any other Content-Type. Throws HttpError 400 / 413.
struct FormData {
  std::vector<MultipartPart> parts;
  std::vector<std::string> storage;  // sized once before the parts view into it
};
const FormData& form_data(http::Request& req);

// The first part named `name` that is not empty (see above), or nullptr; and all of them.
const MultipartPart* form_find(const FormData& form, std::string_view name);
std::vector<const MultipartPart*> form_find_all(const FormData& form, std::string_view name);

// Copies a file part into `out`; a part without a filename (a text field) is a 422 value_error.
bool read_upload(const MultipartPart& part, std::vector<LocItem> loc, UploadFile& out, ValidationErrors& errs);

// Documentation of a File / Form parameter (schemas: {type: string, format: binary} for files).
FormFieldDoc file_field_doc(std::string_view name, bool required, bool many, bool nullable, const Rules& rules);

// Answers 415 when a declared media type list does not accept the request's Content-Type; adds a
// "missing" issue for an empty body.
void check_raw_body(const http::Request& req, const std::string_view* media_types, std::size_t count,
                    ValidationErrors& errs);

}  // namespace detail

}  // namespace serval
