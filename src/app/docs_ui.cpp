// /openapi.json and /docs: Swagger UI served from assets embedded in the binary at build time
// (npm swagger-ui-dist, unpacked by scripts/setup.sh), so the page works with no network.
#include <string>

#include "serval/app/app.hpp"

#if SERVAL_HAVE_SWAGGER
extern "C" {
extern const char serval_swagger_bundle_js[];
extern const char serval_swagger_bundle_js_end[];
extern const char serval_swagger_css[];
extern const char serval_swagger_css_end[];
}
#endif

namespace serval {

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string js_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '<') {
      out += "\\u003c";  // never close the <script> element from inside a string
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

http::Response asset(std::string_view body, const char* type) {
  http::Response r = http::Response::text(200, std::string(body), type);
  r.headers.emplace_back("Cache-Control", "public, max-age=86400");
  return r;
}

}  // namespace

void App::add_builtin_routes() {
  if (info_.openapi_url.empty()) return;
  RouteDoc openapi;
  openapi.method = http::Method::kGet;
  openapi.path = info_.openapi_url;
  openapi.info.include_in_schema = false;
  add_route(std::move(openapi), [this](http::Request&) -> http::HandlerOutcome {
    return http::Response::json(200, openapi_json());
  });
  if (info_.docs_url.empty()) return;

  RouteDoc docs;
  docs.method = http::Method::kGet;
  docs.path = info_.docs_url;
  docs.info.include_in_schema = false;
  std::string base = info_.docs_url + "/assets/";
  std::string page = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
                     html_escape(info_.title) + " - Swagger UI</title>\n<link rel=\"stylesheet\" href=\"" + base +
                     "swagger-ui.css\">\n</head><body>\n<div id=\"swagger-ui\"></div>\n<script src=\"" + base +
                     "swagger-ui-bundle.js\"></script>\n<script>\nwindow.ui = SwaggerUIBundle({url: " +
                     js_string(info_.openapi_url) +
                     ", dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, persistAuthorization: true,"
                     " presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout'});\n</script>\n</body></html>\n";
  add_route(std::move(docs), [page](http::Request&) -> http::HandlerOutcome {
    return http::Response::text(200, page, "text/html; charset=utf-8");
  });

  RouteDoc assets;
  assets.method = http::Method::kGet;
  assets.path = info_.docs_url + "/assets/{file}";
  assets.info.include_in_schema = false;
  add_route(std::move(assets), [](http::Request& req) -> http::HandlerOutcome {
    std::string_view file = req.path_param("file");
#if SERVAL_HAVE_SWAGGER
    if (file == "swagger-ui-bundle.js")
      return asset({serval_swagger_bundle_js, static_cast<std::size_t>(serval_swagger_bundle_js_end - serval_swagger_bundle_js)},
                   "application/javascript; charset=utf-8");
    if (file == "swagger-ui.css")
      return asset({serval_swagger_css, static_cast<std::size_t>(serval_swagger_css_end - serval_swagger_css)},
                   "text/css; charset=utf-8");
    return http::Response::error(404, "Not Found");
#else
    (void)file;
    return http::Response::error(503, "Swagger UI assets were not built in: run `make setup` and rebuild");
#endif
  });
}

}  // namespace serval
