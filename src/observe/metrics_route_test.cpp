#include "serval/observe/metrics_route.hpp"

#include <gtest/gtest.h>

#include "serval/app/app.hpp"
#include "serval/app/test_client.hpp"

namespace {

using serval::observe::MetricsRegistry;

TEST(MetricsRoute, ServesTheRegistryAsPrometheusText) {
  MetricsRegistry reg(false);
  auto& hits = reg.counter("hits_total", "Hits.", {"path"});
  serval::App app;
  serval::observe::add_metrics_route(app, reg);
  app.get("/hello", [&hits] {
    hits.with({"/hello"}).inc();
    return std::string("hi");
  });
  serval::TestClient client{app};
  EXPECT_EQ(client.get("/hello").status, 200);
  EXPECT_EQ(client.get("/hello").status, 200);

  auto r = client.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body, "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total{path=\"/hello\"} 2\n");

  auto doc = client.get("/openapi.json").json();
  const auto& op = doc.at("paths").at("/metrics").at("get").as_object();
  EXPECT_EQ(op.at("tags").as_array().at(0).as_string(), "ops");
  EXPECT_TRUE(op.at("responses").at("200").at("content").as_object().contains(
      "text/plain; version=0.0.4; charset=utf-8"));
}

TEST(MetricsRoute, GlobalRegistryIncludesProcessMetrics) {
  serval::App app;
  serval::observe::add_metrics_route(app);
  serval::TestClient client{app};
  auto r = client.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << r.body;
}

}  // namespace
