// Builds the OpenAPI 3.1 document from the routes' RouteDocs (see route_doc.hpp).
#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "serval/app/app.hpp"

namespace serval {

namespace json = boost::json;

namespace {

std::string words_from_path(http::Method method, const std::string& path) {
  // "/v2/models/{name}/infer" with POST -> "Post V2 Models Name Infer", like FastAPI's titles.
  std::string out(http::to_string(method));
  for (std::size_t i = 1; i < out.size(); ++i) out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  bool start = true;
  for (char c : path) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      if (start) {
        out.push_back(' ');
        out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      } else {
        out.push_back(c);
      }
      start = false;
    } else {
      start = true;
    }
  }
  return out;
}

std::string operation_id(http::Method method, const std::string& path) {
  std::string id;
  for (char c : path) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      id.push_back(c);
    } else if (!id.empty() && id.back() != '_') {
      id.push_back('_');
    }
  }
  if (!id.empty() && id.back() != '_') id.push_back('_');
  std::string m(http::to_string(method));
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return id + m;
}

json::object validation_error_schemas() {
  json::object loc_item{{"anyOf", json::array{json::object{{"type", "string"}}, json::object{{"type", "integer"}}}}};
  json::object validation_error{
      {"title", "ValidationError"},
      {"type", "object"},
      {"required", json::array{"loc", "msg", "type"}},
      {"properties",
       json::object{{"loc", json::object{{"title", "Location"}, {"type", "array"}, {"items", loc_item}}},
                    {"msg", json::object{{"title", "Message"}, {"type", "string"}}},
                    {"type", json::object{{"title", "Error Type"}, {"type", "string"}}},
                    {"input", json::object{{"title", "Input"}}},
                    {"ctx", json::object{{"title", "Context"}, {"type", "object"}}}}}};
  json::object http_validation_error{
      {"title", "HTTPValidationError"},
      {"type", "object"},
      {"properties", json::object{{"detail", json::object{{"title", "Detail"},
                                                          {"type", "array"},
                                                          {"items", json::object{{"$ref", "#/components/schemas/ValidationError"}}}}}}}};
  json::object http_error{{"title", "HTTPError"},
                          {"type", "object"},
                          {"required", json::array{"detail"}},
                          {"properties", json::object{{"detail", json::object{{"title", "Detail"}}}}}};
  return json::object{{"ValidationError", validation_error},
                      {"HTTPValidationError", http_validation_error},
                      {"HTTPError", http_error}};
}

// True when one of the operation's responses uses the {"detail": ...} error schema.
bool refers_to_http_error(const json::object& op) {
  const json::value* responses = op.if_contains("responses");
  if (responses == nullptr || !responses->is_object()) return false;
  for (const auto& [status, response] : responses->as_object()) {
    const json::value* ref = nullptr;
    if (const auto* r = response.if_object(); r != nullptr)
      if (const auto* c = r->if_contains("content"); c != nullptr && c->is_object())
        if (const auto* j = c->as_object().if_contains("application/json"); j != nullptr && j->is_object())
          if (const auto* sc = j->as_object().if_contains("schema"); sc != nullptr && sc->is_object())
            ref = sc->as_object().if_contains("$ref");
    if (ref != nullptr && ref->is_string() && ref->get_string() == "#/components/schemas/HTTPError") return true;
  }
  return false;
}

json::object content(const std::string& type, json::value schema) {
  return json::object{{type, json::object{{"schema", std::move(schema)}}}};
}

// File<>/Form<> parameters: one object schema, as FastAPI documents UploadFile and Form fields
// (files as {type: string, format: binary}, which Swagger UI shows as a file picker).
json::object form_request_body(const RouteDoc& doc, const std::string& op_id, SchemaRegistry& registry) {
  json::object properties;
  json::array required;
  bool files = false;
  for (const FormFieldDoc& f : doc.form_fields) {
    json::value schema = f.schema ? f.schema(registry) : json::value(json::object{});
    if (schema.is_object()) {
      json::object& o = schema.as_object();
      if (!o.contains("title") && !o.contains("$ref")) o["title"] = detail::title_case(f.name);
      if (!f.description.empty()) o["description"] = f.description;
      if (f.deprecated) o["deprecated"] = true;
    }
    properties[f.name] = std::move(schema);
    if (f.required) required.emplace_back(f.name);
    files = files || f.is_file;
  }
  json::object schema{{"title", "Body_" + op_id}, {"type", "object"}, {"properties", std::move(properties)}};
  const bool any_required = !required.empty();
  if (any_required) schema["required"] = std::move(required);
  return json::object{
      {"required", any_required},
      {"content", content(files ? "multipart/form-data" : "application/x-www-form-urlencoded", std::move(schema))}};
}

// RawBody<...>: the same binary schema under each accepted media type.
json::object raw_request_body(const RouteDoc& doc) {
  json::object types;
  for (const std::string& m : doc.body_media_types)
    types[m] = json::object{{"schema", json::object{{"type", "string"}, {"format", "binary"}}}};
  return json::object{{"required", true}, {"content", std::move(types)}};
}

}  // namespace

const std::string& App::openapi_json() {
  std::call_once(openapi_once_, [this] {
    SchemaRegistry registry;
    json::object paths;
    json::object components;  // what middleware adds (securitySchemes); schemas join below
    bool uses_http_error = false, uses_validation = false;
    for (const RouteDoc& doc : docs_) {
      if (!doc.info.include_in_schema) continue;
      json::object op;
      op["summary"] = doc.info.summary.empty() ? words_from_path(doc.method, doc.path) : doc.info.summary;
      if (!doc.info.description.empty()) op["description"] = doc.info.description;
      op["operationId"] = doc.info.operation_id.empty() ? operation_id(doc.method, doc.path) : doc.info.operation_id;
      if (!doc.info.tags.empty()) {
        json::array tags;
        for (const auto& t : doc.info.tags) tags.emplace_back(t);
        op["tags"] = std::move(tags);
      }
      if (doc.info.deprecated) op["deprecated"] = true;
      // Inputs read by the route's dependencies (transitively) are inputs of the route too.
      std::vector<ParamDoc> all_params = doc.params;
      {
        std::vector<const void*> pending = doc.dependencies, seen;
        while (!pending.empty()) {
          const void* key = pending.back();
          pending.pop_back();
          if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
          seen.push_back(key);
          const Provider* provider = dependencies_.find(key);
          if (provider == nullptr) continue;
          for (const ParamDoc& p : provider->params) {
            bool dup = false;
            for (const ParamDoc& q : all_params) dup = dup || (q.name == p.name && std::string_view(q.in) == p.in);
            if (!dup) all_params.push_back(p);
          }
          pending.insert(pending.end(), provider->deps.begin(), provider->deps.end());
        }
      }
      if (!all_params.empty()) {
        json::array params;
        for (const ParamDoc& p : all_params) {
          json::object param{{"name", p.name}, {"in", p.in}, {"required", p.required}};
          if (!p.description.empty()) param["description"] = p.description;
          if (p.deprecated) param["deprecated"] = true;
          json::value schema = p.schema ? p.schema(registry) : json::value(json::object{});
          if (schema.is_object() && !schema.as_object().contains("title") && !schema.as_object().contains("$ref")) {
            std::string title = p.name;
            bool up = true;
            for (char& c : title) {
              if (c == '_' || c == '-') {
                c = ' ';
                up = true;
              } else if (up) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                up = false;
              }
            }
            schema.as_object()["title"] = title;
          }
          param["schema"] = std::move(schema);
          params.emplace_back(std::move(param));
        }
        op["parameters"] = std::move(params);
      }
      if (doc.body_schema) {
        json::object body{{"required", doc.body_required}, {"content", content("application/json", doc.body_schema(registry))}};
        if (!doc.body_description.empty()) body["description"] = doc.body_description;
        op["requestBody"] = std::move(body);
      } else if (!doc.form_fields.empty() || !doc.body_media_types.empty()) {
        json::object body = doc.form_fields.empty() ? raw_request_body(doc)
                                                    : form_request_body(doc, op["operationId"].as_string().c_str(), registry);
        if (!doc.body_description.empty()) body["description"] = doc.body_description;
        op["requestBody"] = std::move(body);
      }
      json::object responses;
      json::object ok{{"description", doc.info.response_description}};
      if (doc.info.status != 204 && doc.info.status != 304) {
        json::value schema = doc.response_schema ? doc.response_schema(registry) : json::value(json::object{});
        if (doc.response_content_type == "text/event-stream") {
          ok["content"] = content(doc.response_content_type, json::object{{"type", "string"}});
        } else {
          ok["content"] = content(doc.response_content_type, std::move(schema));
        }
      }
      responses[std::to_string(doc.info.status)] = std::move(ok);
      for (const auto& [status, description] : doc.info.responses) {
        responses[std::to_string(status)] =
            json::object{{"description", description},
                         {"content", content("application/json", json::object{{"$ref", "#/components/schemas/HTTPError"}})}};
        uses_http_error = true;
      }
      if (doc.validates) {
        responses["422"] = json::object{
            {"description", "Validation Error"},
            {"content", content("application/json", json::object{{"$ref", "#/components/schemas/HTTPValidationError"}})}};
        uses_validation = true;
      }
      op["responses"] = std::move(responses);
      // Middleware documents itself: security schemes, requirements, the responses it may give.
      for (const auto& mw : middleware_) mw->describe(op, components);
      for (const auto& mw : doc.info.middleware) mw->describe(op, components);
      uses_http_error = uses_http_error || refers_to_http_error(op);
      std::string method(http::to_string(doc.method));
      for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      json::value& item = paths[doc.path];
      if (!item.is_object()) item = json::object{};
      item.as_object()[method] = std::move(op);
    }
    json::object schemas = registry.components();
    json::object errors = validation_error_schemas();
    if (uses_validation) {
      schemas["ValidationError"] = errors["ValidationError"];
      schemas["HTTPValidationError"] = errors["HTTPValidationError"];
    }
    if (uses_http_error) schemas["HTTPError"] = errors["HTTPError"];
    json::object info{{"title", info_.title}, {"version", info_.version}};
    if (!info_.description.empty()) info["description"] = info_.description;
    json::object document{{"openapi", "3.1.0"}, {"info", std::move(info)}, {"paths", std::move(paths)}};
    if (auto* extra = components.if_contains("schemas"); extra != nullptr && extra->is_object())
      for (auto& [name, schema] : extra->as_object())
        if (!schemas.contains(name)) schemas[name] = schema;
    if (!schemas.empty()) components["schemas"] = std::move(schemas);
    if (!components.empty()) document["components"] = std::move(components);
    openapi_ = json::serialize(document);
  });
  return openapi_;
}

}  // namespace serval
