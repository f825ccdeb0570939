// RouteInfo (what a user says about an operation) and RouteDoc (what serval learns from the
// handler's signature); together they become one operation in /openapi.json.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "serval/app/middleware.hpp"
#include "serval/http/request.hpp"

namespace serval {

class SchemaRegistry;

struct RouteInfo {
  std::string summary;                  // default: derived from the path
  std::string description;
  std::vector<std::string> tags;
  int status = 200;                     // status of a successful response
  std::string response_description = "Successful Response";
  std::string operation_id;             // default: derived from method and path
  bool deprecated = false;
  bool include_in_schema = true;
  // Further documented responses, e.g. {{404, "Item not found"}}: {"detail": string} bodies.
  std::vector<std::pair<int, std::string>> responses;
  // Middleware for this route only, run after the app's global list (see middleware.hpp).
  std::vector<MiddlewarePtr> middleware;
};

using SchemaFn = std::function<boost::json::value(SchemaRegistry&)>;

struct ParamDoc {
  const char* in;  // "path", "query", "header"
  std::string name;
  bool required = true;
  std::string description;
  bool deprecated = false;
  SchemaFn schema;
};

// One field of a form body (a File<> or Form<> parameter, see upload.hpp): a property of the
// requestBody's multipart/form-data (or application/x-www-form-urlencoded) object schema.
struct FormFieldDoc {
  std::string name;
  bool required = true;
  bool is_file = false;  // any File<>: the body is documented as multipart/form-data
  std::string description;
  bool deprecated = false;
  SchemaFn schema;
};

struct RouteDoc {
  http::Method method = http::Method::kGet;
  std::string path;
  RouteInfo info;
  std::vector<ParamDoc> params;
  SchemaFn body_schema;                    // empty: no request body
  bool body_required = true;
  std::string body_description;
  std::vector<FormFieldDoc> form_fields;   // File<>/Form<> parameters: a form body instead of JSON
  std::vector<std::string> body_media_types;  // RawBody<...>: a binary body of these media types
  SchemaFn response_schema;                // empty: no JSON schema (raw or streaming response)
  std::string response_content_type = "application/json";
  bool validates = false;                  // has inputs, so 422 is a possible answer
  std::vector<const void*> dependencies;   // Dep<T> keys; their providers' inputs are documented too
};

}  // namespace serval
