#include "serval/observe/metrics_route.hpp"

#include <boost/json/value.hpp>

#include "serval/app/app.hpp"

namespace serval::observe {

void add_metrics_route(serval::App& app, MetricsRegistry& registry) {
  RouteDoc doc;
  doc.method = http::Method::kGet;
  doc.path = "/metrics";
  doc.info.summary = "Metrics in the Prometheus text format";
  doc.info.description =
      "Counters, gauges and histograms of the server and its models, plus process metrics, in the Prometheus "
      "text exposition format 0.0.4.";
  doc.info.tags = {"ops"};
  doc.response_content_type = std::string(kMetricsContentType);
  doc.response_schema = [](SchemaRegistry&) { return boost::json::value{{"type", "string"}}; };
  app.add_route(std::move(doc), [&registry](http::Request&) -> http::HandlerOutcome {
    return http::Response::text(200, registry.render(), std::string(kMetricsContentType));
  });
}

}  // namespace serval::observe
