// MetricsRegistry: families by name, the callback gauges, and render() (registered families and the
// process metrics merged in name order).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "observe/metrics_process.hpp"
#include "observe/metrics_text.hpp"
#include "serval/observe/metrics.hpp"

namespace serval::observe {

namespace {

bool valid_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || s.starts_with("__")) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void check_names(const std::string& name, const std::vector<std::string>& label_names) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    if (!valid_label_name(label_names[i]))
      throw std::invalid_argument("invalid label name '" + label_names[i] + "' for metric " + name);
    for (std::size_t j = 0; j < i; ++j)
      if (label_names[j] == label_names[i])
        throw std::invalid_argument("label name '" + label_names[i] + "' repeated for metric " + name);
  }
}

std::string describe(const detail::FamilyBase& f) {
  std::string s = std::string(f.type()) + " with labels [";
  for (std::size_t i = 0; i < f.label_names().size(); ++i) s += (i ? ", " : "") + f.label_names()[i];
  return s + "]";
}

// Gauges computed at scrape time, one function per combination of label values.
class FunctionGaugeFamily : public detail::FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  std::string_view type() const noexcept override { return "gauge"; }

  void set(std::vector<std::string> values, std::function<double()> fn) {
    std::lock_guard lock(mu_);
    fns_[std::move(values)] = std::move(fn);
  }
  bool remove(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    return fns_.erase(values) > 0;
  }

  void render(std::string& out) const override {
    detail::append_header(out, name_, help_, type());
    std::lock_guard lock(mu_);
    for (const auto& [values, fn] : fns_) {
      double v = 0;
      try {
        v = fn();
      } catch (...) {
        continue;  // a failing callback drops its sample, not the scrape
      }
      detail::append_sample(out, name_, {}, label_names_, values, {}, v);
    }
  }

 private:
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::function<double()>> fns_;
};

}  // namespace

MetricsRegistry::MetricsRegistry(bool process_metrics) : process_metrics_(process_metrics) {}
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry& MetricsRegistry::global() {
  static MetricsRegistry* registry = new MetricsRegistry(true);  // never destroyed: used until exit
  return *registry;
}

template <class F, class... A>
F& MetricsRegistry::add(std::string name, std::string help, std::vector<std::string> label_names, A&&... extra) {
  check_names(name, label_names);
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* same = dynamic_cast<F*>(it->second.get());
    bool compatible = same != nullptr && same->label_names() == label_names;
    if constexpr (std::is_same_v<F, Family<Histogram>>) {
      compatible = compatible && ((*same->bounds() == *extra) && ...);
    }
    if (!compatible) {
      throw std::logic_error("metric " + name + " is already registered as a " + describe(*it->second) +
                             "; registering it again needs the same type and labels");
    }
    return *same;
  }
  auto family = std::make_unique<F>(std::move(name), std::move(help), std::move(label_names), std::forward<A>(extra)...);
  F& ref = *family;
  families_.emplace(ref.name(), std::move(family));
  return ref;
}

Family<Counter>& MetricsRegistry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<Family<Counter>>(std::move(name), std::move(help), std::move(label_names));
}

Family<Gauge>& MetricsRegistry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<Family<Gauge>>(std::move(name), std::move(help), std::move(label_names));
}

Family<Histogram>& MetricsRegistry::histogram(std::string name, std::string help, std::vector<double> buckets,
                                              std::vector<std::string> label_names) {
  if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end())
    throw std::invalid_argument("histogram " + name + " cannot have a label named 'le'");
  if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
      throw std::invalid_argument("histogram " + name + ": buckets must be finite and strictly ascending");
  }
  auto bounds = std::make_shared<const std::vector<double>>(std::move(buckets));
  return add<Family<Histogram>>(std::move(name), std::move(help), std::move(label_names), std::move(bounds));
}

void MetricsRegistry::gauge_fn(std::string name, std::string help, Labels labels, std::function<double()> fn) {
  std::vector<std::string> names, values;
  for (auto& [n, v] : labels) {
    names.push_back(n);
    values.push_back(v);
  }
  auto& family = add<FunctionGaugeFamily>(std::move(name), std::move(help), std::move(names));
  family.set(std::move(values), std::move(fn));
}

bool MetricsRegistry::remove_gauge_fn(std::string_view name, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return false;
  auto* family = dynamic_cast<FunctionGaugeFamily*>(it->second.get());
  if (family == nullptr) return false;
  std::vector<std::string> values;
  for (const auto& [n, v] : labels) values.push_back(v);
  return family->remove(values);
}

std::string MetricsRegistry::render() const {
  std::vector<detail::ProcessMetric> process;
  if (process_metrics_) process = detail::process_metrics();
  std::string out;
  out.reserve(4096);
  auto p = process.begin();
  auto emit_process_before = [&](std::string_view limit) {
    for (; p != process.end() && (limit.empty() || p->name < limit); ++p) {
      if (families_.find(p->name) != families_.end()) continue;  // a user family of that name wins
      detail::append_header(out, p->name, p->help, p->type);
      detail::append_sample(out, p->name, {}, {}, {}, {}, p->value);
    }
  };
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    emit_process_before(name);
    family->render(out);
  }
  emit_process_before({});
  return out;
}

}  // namespace serval::observe
