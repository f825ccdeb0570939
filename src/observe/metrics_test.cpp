#include "serval/observe/metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using serval::observe::Counter;
using serval::observe::MetricsRegistry;

TEST(Metrics, RenderGolden) {
  MetricsRegistry reg(false);
  auto& requests = reg.counter("requests_total", "Requests answered.", {"model", "code"});
  requests.with({"spam", "422"}).inc();
  requests.with({"langid", "200"}).inc(3);
  reg.gauge("queue_depth", "Queued requests.").with({}).set(2.5);
  auto& latency = reg.histogram("latency_seconds", "Latency.", {0.1, 0.5, 1}, {"model"});
  auto& h = latency.with({"langid"});
  for (double v : {0.0625, 0.25, 0.25, 2.0}) h.observe(v);
  reg.counter("a_total", "Nothing yet.", {"x"});  // no children: header only
  reg.counter("b_total", "No labels.");           // its single child exists from the start

  EXPECT_EQ(reg.render(),
            "# HELP a_total Nothing yet.\n"
            "# TYPE a_total counter\n"
            "# HELP b_total No labels.\n"
            "# TYPE b_total counter\n"
            "b_total 0\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{model=\"langid\",le=\"0.1\"} 1\n"
            "latency_seconds_bucket{model=\"langid\",le=\"0.5\"} 3\n"
            "latency_seconds_bucket{model=\"langid\",le=\"1\"} 3\n"
            "latency_seconds_bucket{model=\"langid\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{model=\"langid\"} 2.5625\n"
            "latency_seconds_count{model=\"langid\"} 4\n"
            "# HELP queue_depth Queued requests.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth 2.5\n"
            "# HELP requests_total Requests answered.\n"
            "# TYPE requests_total counter\n"
            "requests_total{model=\"langid\",code=\"200\"} 3\n"
            "requests_total{model=\"spam\",code=\"422\"} 1\n");
}

TEST(Metrics, EscapingAndValues) {
  MetricsRegistry reg(false);
  reg.gauge("g", "Help with \\ and\nnewline and \"quotes\".", {"path"}).with({"a\\b\"c\nd"}).set(-0.0005);
  EXPECT_EQ(reg.render(),
            "# HELP g Help with \\\\ and\\nnewline and \"quotes\".\n"
            "# TYPE g gauge\n"
            "g{path=\"a\\\\b\\\"c\\nd\"} -0.0005\n");
  using serval::observe::format_value;
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1e-7), "1e-07");
  EXPECT_EQ(format_value(1e300), "1e+300");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  MetricsRegistry reg(false);
  auto& h = reg.histogram("h", "H.", serval::observe::linear_buckets(1, 1, 3)).with({});  // 1, 2, 3
  for (double v : {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 100.0}) h.observe(v);
  h.observe(NAN);  // ignored
  auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 4, 6, 8}));  // le is inclusive: 1.0 counts in le="1"
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(s.sum, 114.0);
  std::string text = reg.render();
  EXPECT_NE(text.find("h_bucket{le=\"2\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_bucket{le=\"+Inf\"} 8\nh_sum 114\nh_count 8\n"), std::string::npos) << text;

  auto lat = serval::observe::latency_buckets();
  EXPECT_EQ(lat.size(), 20u);
  EXPECT_DOUBLE_EQ(lat.front(), 0.0005);
  EXPECT_DOUBLE_EQ(lat.back(), 30);
  EXPECT_TRUE(std::is_sorted(lat.begin(), lat.end()));
  EXPECT_EQ(serval::observe::exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(serval::observe::format_value(serval::observe::exponential_buckets(1e-7, 10, 3)[2]), "1e-05");
  EXPECT_THROW(serval::observe::exponential_buckets(0, 2, 4), std::invalid_argument);
  EXPECT_THROW(serval::observe::linear_buckets(0, 0, 4), std::invalid_argument);
  // A trailing +Inf is implied, so it is accepted and dropped; unsorted bounds are refused.
  EXPECT_EQ(reg.histogram("h2", "H.", {1, INFINITY}).with({}).bounds(), (std::vector<double>{1}));
  EXPECT_THROW(reg.histogram("h3", "H.", {2, 1}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h4", "H.", {1}, {"le"}), std::invalid_argument);
}

TEST(Metrics, RegisteringAgain) {
  MetricsRegistry reg(false);
  auto& a = reg.counter("x_total", "X.", {"m"});
  EXPECT_EQ(&reg.counter("x_total", "other help", {"m"}), &a);
  EXPECT_THROW(reg.counter("x_total", "X.", {"n"}), std::logic_error);
  EXPECT_THROW(reg.counter("x_total", "X."), std::logic_error);
  EXPECT_THROW(reg.gauge("x_total", "X.", {"m"}), std::logic_error);
  auto& h = reg.histogram("h", "H.", {1, 2});
  EXPECT_EQ(&reg.histogram("h", "H.", {1, 2}), &h);
  EXPECT_THROW(reg.histogram("h", "H.", {1, 3}), std::logic_error);
  reg.gauge_fn("f", "F.", {{"m", "a"}}, [] { return 1.0; });
  EXPECT_THROW(reg.gauge("f", "F.", {"m"}), std::logic_error);
  EXPECT_THROW(reg.gauge_fn("f", "F.", {{"other", "a"}}, [] { return 1.0; }), std::logic_error);

  EXPECT_THROW(reg.counter("bad name", "X."), std::invalid_argument);
  EXPECT_THROW(reg.counter("9lives", "X."), std::invalid_argument);
  EXPECT_THROW(reg.counter("ok", "X.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(reg.counter("ok", "X.", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(a.with({"1", "2"}), std::invalid_argument);
  EXPECT_THROW(a.with({}), std::invalid_argument);
  // The same label values give the same child, whichever overload finds it.
  std::vector<std::string> values{"v"};
  EXPECT_EQ(&a.with({"v"}), &a.with(std::span<const std::string>(values)));
}

TEST(Metrics, CallbackGauges) {
  MetricsRegistry reg(false);
  double depth = 3;
  reg.gauge_fn("queue_depth", "Queued.", {{"model", "a"}}, [&] { return depth; });
  reg.gauge_fn("queue_depth", "Queued.", {{"model", "b"}}, [] { return 7.0; });
  depth = 4;
  EXPECT_EQ(reg.render(),
            "# HELP queue_depth Queued.\n# TYPE queue_depth gauge\nqueue_depth{model=\"a\"} 4\nqueue_depth{model=\"b\"} 7\n");
  reg.gauge_fn("queue_depth", "Queued.", {{"model", "a"}}, [] { return 9.0; });  // replaces
  reg.gauge_fn("queue_depth", "Queued.", {{"model", "c"}}, []() -> double { throw std::runtime_error("gone"); });
  EXPECT_TRUE(reg.remove_gauge_fn("queue_depth", {{"model", "b"}}));
  EXPECT_FALSE(reg.remove_gauge_fn("queue_depth", {{"model", "b"}}));
  EXPECT_FALSE(reg.remove_gauge_fn("nothing", {}));
  EXPECT_EQ(reg.render(), "# HELP queue_depth Queued.\n# TYPE queue_depth gauge\nqueue_depth{model=\"a\"} 9\n");
}

TEST(Metrics, ConcurrentUpdatesAreExact) {
  MetricsRegistry reg(false);
  auto& family = reg.counter("c_total", "C.", {"t"});
  auto& hist = reg.histogram("h", "H.", {0.5}).with({});
  std::vector<std::thread> threads;
  std::vector<Counter*> seen(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Counter& c = family.with({"shared"});  // created concurrently: one child for all
      seen[t] = &c;
      for (int i = 0; i < 100000; ++i) {
        c.inc();
        hist.observe(i % 2 ? 1.0 : 0.25);
      }
    });
  }
  std::thread scraper([&] {
    for (int i = 0; i < 50; ++i) (void)reg.render();  // scraping while updating is safe
  });
  for (auto& th : threads) th.join();
  scraper.join();
  EXPECT_EQ(family.with({"shared"}).value(), 400000.0);
  for (auto* c : seen) EXPECT_EQ(c, seen[0]);
  auto s = hist.snapshot();
  EXPECT_EQ(s.count, 400000u);
  EXPECT_EQ(s.cumulative[0], 200000u);
  EXPECT_DOUBLE_EQ(s.sum, 200000 * 1.0 + 200000 * 0.25);
}

TEST(Metrics, ProcessMetrics) {
  MetricsRegistry reg(true);
  reg.counter("zz_total", "Last.");
  reg.counter("aa_total", "First.");
  std::string text = reg.render();
  for (const char* name : {"process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                           "process_resident_memory_bytes", "process_virtual_memory_bytes",
                           "process_start_time_seconds"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name), std::string::npos) << name;
  }
  // Sorted with the registered families.
  EXPECT_LT(text.find("aa_total"), text.find("process_cpu_seconds_total"));
  EXPECT_LT(text.find("process_virtual_memory_bytes"), text.find("zz_total"));
  auto value_of = [&](const std::string& name) {
    auto at = text.find("\n" + name + " ");
    EXPECT_NE(at, std::string::npos) << name;
    return std::stod(text.substr(at + name.size() + 2));
  };
  EXPECT_GT(value_of("process_resident_memory_bytes"), 1e6);
  EXPECT_GE(value_of("process_open_fds"), 3);
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double start = value_of("process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600);  // this test process started recently
  EXPECT_GE(value_of("process_cpu_seconds_total"), 0);
}

}  // namespace
