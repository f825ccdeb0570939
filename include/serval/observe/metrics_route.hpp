// GET /metrics: the registry in the Prometheus text format 0.0.4, for a Prometheus scraper.
//
//   serval::App app;
//   serval::observe::add_metrics_route(app);                 // the global registry
//   serval::observe::add_metrics_route(app, my_registry);    // or another one (tests)
//
// Documented in /openapi.json under the tag "ops", with content type
// `text/plain; version=0.0.4; charset=utf-8`.
#pragma once

#include <string_view>

#include "serval/observe/metrics.hpp"

namespace serval {
class App;
}

namespace serval::observe {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// `registry` must outlive the app.
void add_metrics_route(serval::App& app, MetricsRegistry& registry = MetricsRegistry::global());

}  // namespace serval::observe
