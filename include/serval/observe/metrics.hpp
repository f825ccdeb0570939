// Metrics: counters, gauges and histograms in a thread-safe registry that renders the Prometheus
// text exposition format 0.0.4 (what GET /metrics answers; see metrics_route.hpp).
//
// A metric is a family (name, help, label names) of children, one per combination of label values.
// with() finds or creates a child under a lock and returns a reference that stays valid for the
// registry's lifetime; updating a child is lock-free (atomics), so the hot path keeps the reference:
//
//   auto& requests = serval::observe::MetricsRegistry::global().counter(
//       "serval_requests_total", "Requests answered.", {"model", "status"});
//   auto& ok = requests.with({"langid", "200"});   // once
//   ok.inc();                                       // per request: one atomic add
//
//   auto& latency = registry.histogram("serval_request_seconds", "Request latency.",
//                                      serval::observe::latency_buckets(), {"model"});
//   latency.with({"langid"}).observe(0.0031);
//
//   registry.gauge_fn("serval_queue_depth", "Queued requests.", {{"model", "langid"}},
//                     [&q] { return double(q.size()); });   // read at scrape time
//
// Registering a name again returns the same family when the type, label names (and buckets) are the
// same, and throws std::logic_error when they are not. The registry also reports the process
// (process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, ... from /proc).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace serval::observe {

// A value that only goes up (requests served, errors). inc() with a negative value is ignored.
class Counter {
 public:
  void inc(double v = 1) noexcept {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (queue depth, models loaded).
class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1) noexcept { value_.fetch_add(-v, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets by upper bound (rendered cumulative, with +Inf), plus their sum.
class Histogram {
 public:
  // `bounds`: ascending upper bounds, +Inf implied (see MetricsRegistry::histogram).
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  void observe(double v) noexcept;

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const noexcept { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

namespace detail {

// Label values as a map key, found without building a vector (transparent comparison).
struct LabelValuesLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

// What the registry keeps of every family, whatever its type.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  virtual std::string_view type() const noexcept = 0;  // "counter", "gauge", "histogram"
  // Appends the HELP and TYPE lines and one sample line per child (several for a histogram).
  virtual void render(std::string& out) const = 0;

 protected:
  std::string name_, help_;
  std::vector<std::string> label_names_;
};

}  // namespace detail

template <class M>
class Family : public detail::FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::shared_ptr<const std::vector<double>> bounds = nullptr);

  // The child for these label values (one per label name, in order), created on first use.
  // Throws std::invalid_argument when the count does not match the label names.
  M& with(std::initializer_list<std::string_view> label_values) {
    return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  M& with(std::span<const std::string_view> label_values);
  M& with(std::span<const std::string> label_values);

  std::string_view type() const noexcept override;
  void render(std::string& out) const override;
  const std::vector<double>* bounds() const noexcept { return bounds_.get(); }

 private:
  template <class Values>
  M& find_or_create(const Values& values);

  std::shared_ptr<const std::vector<double>> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>, detail::LabelValuesLess> children_;
};

using Labels = std::vector<std::pair<std::string, std::string>>;  // name -> value

class MetricsRegistry {
 public:
  // `process_metrics`: also render process_* metrics read from /proc at scrape time.
  explicit MetricsRegistry(bool process_metrics = true);
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The process-wide registry (with process metrics); what GET /metrics shows by default.
  static MetricsRegistry& global();

  // Names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (not "__..."), else
  // std::invalid_argument. A family without labels has its single child from the start (it renders 0).
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `buckets`: strictly ascending upper bounds; a trailing +Inf is dropped (it is always there).
  // Label "le" is reserved.
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<double> buckets,
                               std::vector<std::string> label_names = {});

  // A gauge whose value `fn` computes at each scrape (on the scraping thread; keep it cheap and
  // thread-safe). The same name with the same label values replaces the function; the label names
  // must match the first registration's.
  void gauge_fn(std::string name, std::string help, Labels labels, std::function<double()> fn);
  // Forgets a gauge_fn (call it before whatever `fn` reads goes away). Returns whether it existed.
  bool remove_gauge_fn(std::string_view name, const Labels& labels);

  // Prometheus text format 0.0.4: families sorted by name, each with # HELP and # TYPE lines.
  std::string render() const;

 private:
  template <class F, class... A>
  F& add(std::string name, std::string help, std::vector<std::string> label_names, A&&... extra);

  bool process_metrics_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<detail::FamilyBase>, std::less<>> families_;
};

// Upper bounds in seconds for request latencies: 0.0005 .. 30, 20 buckets.
std::vector<double> latency_buckets();
// start, start + width, ... (`count` bounds; width > 0, count >= 1).
std::vector<double> linear_buckets(double start, double width, int count);
// start, start * factor, ... (`count` bounds; start > 0, factor > 1, count >= 1).
std::vector<double> exponential_buckets(double start, double factor, int count);

// How the text format writes a sample value: integers without a decimal point ("42"), others in the
// shortest form that reads back exactly ("0.0005", "1e-07"), "+Inf", "-Inf", "NaN".
std::string format_value(double v);
// A label value inside its quotes: \ -> \\, " -> \", newline -> \n.
std::string escape_label_value(std::string_view v);

}  // namespace serval::observe
