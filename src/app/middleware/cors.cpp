#include "serval/app/middleware/cors.hpp"

#include <algorithm>
#include <memory>
#include <regex>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "app/middleware/header_util.hpp"

namespace serval {

namespace {

constexpr std::string_view kAllMethods[] = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};
// CORS-safelisted request headers (Fetch standard), always allowed, as Starlette does.
constexpr std::string_view kSafelistedHeaders[] = {"Accept", "Accept-Language", "Content-Language", "Content-Type"};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

bool is_preflight(const http::Request& request) {
  return request.method == http::Method::kOptions && request.has_header("access-control-request-method");
}

}  // namespace

Cors::Cors(CorsOptions o) {
  allow_all_origins_ = contains(o.allow_origins, "*");
  allow_all_headers_ = contains(o.allow_headers, "*");
  allow_credentials_ = o.allow_credentials;
  // A browser rejects "*" on a credentialed request, so with credentials the origin is echoed.
  explicit_origin_ = !allow_all_origins_ || allow_credentials_;

  for (auto& origin : o.allow_origins)
    if (origin != "*") origins_.push_back(std::move(origin));
  std::sort(origins_.begin(), origins_.end());
  origins_.erase(std::unique(origins_.begin(), origins_.end()), origins_.end());
  if (!o.allow_origin_regex.empty()) {
    try {
      auto re = std::make_shared<const std::regex>(o.allow_origin_regex, std::regex::ECMAScript);
      origin_matches_ = [re](std::string_view origin) { return std::regex_match(origin.begin(), origin.end(), *re); };
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("Cors: bad allow_origin_regex: " + std::string(e.what()));
    }
  }

  if (contains(o.allow_methods, "*")) {
    for (auto m : kAllMethods) methods_.emplace_back(m);
  } else {
    methods_ = std::move(o.allow_methods);
  }
  methods_value_ = join(methods_);

  // Allowed headers: the safelisted ones plus the configured ones, sorted, without duplicates.
  std::vector<std::string> names(std::begin(kSafelistedHeaders), std::end(kSafelistedHeaders));
  for (auto& h : o.allow_headers)
    if (h != "*") names.push_back(std::move(h));
  std::sort(names.begin(), names.end());
  std::vector<std::string> unique_names;
  for (auto& n : names) {
    std::string l = lower(n);
    if (contains(allowed_headers_, l)) continue;
    allowed_headers_.push_back(std::move(l));
    unique_names.push_back(std::move(n));
  }
  std::sort(allowed_headers_.begin(), allowed_headers_.end());
  if (!allow_all_headers_) headers_value_ = join(unique_names);

  expose_value_ = join(o.expose_headers);
  max_age_value_ = std::to_string(o.max_age);
}

bool Cors::origin_allowed(std::string_view origin) const {
  if (allow_all_origins_) return true;
  if (origins_.size() <= 8) {
    for (const auto& o : origins_)
      if (o.size() == origin.size() && std::string_view(o) == origin) return true;
  } else if (std::binary_search(origins_.begin(), origins_.end(), origin, std::less<>{})) {
    return true;
  }
  return origin_matches_ && origin_matches_(origin);
}

std::optional<http::Response> Cors::before(http::Request& request, Context&) {
  if (request.method != http::Method::kOptions) return std::nullopt;  // the common case: one compare
  std::string_view origin = request.header("origin");
  if (origin.empty() || !is_preflight(request)) return std::nullopt;
  return preflight(request, origin);
}

http::Response Cors::preflight(const http::Request& request, std::string_view origin) const {
  http::Response r;
  std::string failures;
  auto fail = [&](std::string_view what) {
    if (!failures.empty()) failures += ", ";
    failures += what;
  };
  if (explicit_origin_) {
    if (origin_allowed(origin)) r.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    else fail("origin");
    r.headers.emplace_back("Vary", "Origin");
  } else {
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  }

  std::string_view method = request.header("access-control-request-method");
  if (!contains(methods_, method)) fail("method");

  std::string_view requested = request.header("access-control-request-headers");
  if (allow_all_headers_) {
    // Allowing every header means mirroring what was asked for.
    if (!requested.empty()) r.headers.emplace_back("Access-Control-Allow-Headers", std::string(requested));
  } else {
    bool refused = detail::any_token(requested, [&](std::string_view h) {
      return !std::binary_search(allowed_headers_.begin(), allowed_headers_.end(), lower(h));
    });
    if (refused) fail("headers");
    r.headers.emplace_back("Access-Control-Allow-Headers", headers_value_);
  }
  r.headers.emplace_back("Access-Control-Allow-Methods", methods_value_);
  r.headers.emplace_back("Access-Control-Max-Age", max_age_value_);
  if (allow_credentials_) r.headers.emplace_back("Access-Control-Allow-Credentials", "true");

  if (!failures.empty()) {
    // Starlette answers these as text; serval keeps every error a JSON {"detail": ...}.
    http::Response bad = http::Response::error(400, "Disallowed CORS " + failures);
    bad.headers = std::move(r.headers);
    return bad;
  }
  r.status = 200;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "OK";
  return r;
}

void Cors::after(const http::Request& request, Context&, http::Response& response) {
  std::string_view origin = request.header("origin");
  if (origin.empty() || is_preflight(request)) return;  // not CORS, or our own preflight answer
  auto& headers = response.headers;
  if (!origin_allowed(origin)) {
    if (explicit_origin_) detail::add_vary(headers, "Origin");  // the answer depended on it
    return;
  }
  // A handler that set CORS headers itself is overridden (as Starlette does); otherwise append
  // without a lookup per header. Up to four headers here and usually one more from a later step
  // (RequestId): one allocation for the list.
  bool handler_set = false;
  for (const auto& header : headers)
    handler_set = handler_set || (header.first.size() > 15 && http::iequals(std::string_view(header.first).substr(0, 15),
                                                                            "access-control-"));
  headers.reserve(headers.size() + 5);
  auto put = [&](std::string_view name, std::string_view value) {
    if (handler_set) detail::set_header(headers, name, std::string(value));
    else headers.emplace_back(std::piecewise_construct, std::forward_as_tuple(name), std::forward_as_tuple(value));
  };
  if (explicit_origin_) {
    put("Access-Control-Allow-Origin", origin);
    detail::add_vary(headers, "Origin");
  } else {
    put("Access-Control-Allow-Origin", "*");
  }
  if (allow_credentials_) put("Access-Control-Allow-Credentials", "true");
  if (!expose_value_.empty()) put("Access-Control-Expose-Headers", expose_value_);
}

}  // namespace serval
