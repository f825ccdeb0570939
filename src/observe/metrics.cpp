// The metric types (Histogram), Family<M> and the text-format pieces: value formatting, label
// escaping, sample lines. The registry itself is in metrics_registry.cpp.
#include "serval/observe/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "observe/metrics_text.hpp"

namespace serval::observe {

// --- Histogram -----------------------------------------------------------------------------------

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<std::uint64_t>[bounds_->size() + 1]) {
  for (std::size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) noexcept {
  if (std::isnan(v)) return;  // would poison the sum forever
  const auto& b = *bounds_;
  std::size_t i = static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());  // first bound >= v
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_->size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_->size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// --- text format -----------------------------------------------------------------------------------

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  } else {
    // Shortest round-trip digits, positional like Go's %g between 1e-4 and 1e21 ("0.0005"), else
    // with an exponent ("1e-07").
    double a = std::fabs(v);
    auto fmt = a >= 1e-4 && a < 1e21 ? std::chars_format::fixed : std::chars_format::scientific;
    r = std::to_chars(buf, buf + sizeof buf, v, fmt);
  }
  return std::string(buf, r.ptr);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace detail {

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append_header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& label_names, const std::vector<std::string>& label_values,
                   std::string_view le, double value) {
  out += name;
  out += suffix;
  if (!label_names.empty() || !le.empty()) {
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (!first) out += ',';
      first = false;
      out += label_names[i];
      out += "=\"";
      out += escape_label_value(label_values[i]);
      out += '"';
    }
    if (!le.empty()) {
      if (!first) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

}  // namespace detail

// --- Family ----------------------------------------------------------------------------------------

template <class M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::shared_ptr<const std::vector<double>> bounds)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)), bounds_(std::move(bounds)) {
  if (label_names_.empty()) with(std::span<const std::string_view>{});
}

template <class M>
template <class Values>
M& Family<M>::find_or_create(const Values& values) {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                                " label value(s), got " + std::to_string(values.size()));
  std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<M> child;
  if constexpr (std::is_same_v<M, Histogram>) {
    child = std::make_unique<Histogram>(bounds_);
  } else {
    child = std::make_unique<M>();
  }
  M& ref = *child;
  children_.emplace(std::vector<std::string>(values.begin(), values.end()), std::move(child));
  return ref;
}

template <class M>
M& Family<M>::with(std::span<const std::string_view> label_values) {
  return find_or_create(label_values);
}

template <class M>
M& Family<M>::with(std::span<const std::string> label_values) {
  return find_or_create(label_values);
}

template <class M>
std::string_view Family<M>::type() const noexcept {
  if constexpr (std::is_same_v<M, Counter>) return "counter";
  if constexpr (std::is_same_v<M, Gauge>) return "gauge";
  return "histogram";
}

template <class M>
void Family<M>::render(std::string& out) const {
  detail::append_header(out, name_, help_, type());
  std::lock_guard lock(mu_);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<M, Histogram>) {
      Histogram::Snapshot s = child->snapshot();
      const auto& b = child->bounds();
      for (std::size_t i = 0; i < b.size(); ++i)
        detail::append_sample(out, name_, "_bucket", label_names_, values, format_value(b[i]),
                              static_cast<double>(s.cumulative[i]));
      detail::append_sample(out, name_, "_bucket", label_names_, values, "+Inf", static_cast<double>(s.count));
      detail::append_sample(out, name_, "_sum", label_names_, values, {}, s.sum);
      detail::append_sample(out, name_, "_count", label_names_, values, {}, static_cast<double>(s.count));
    } else {
      detail::append_sample(out, name_, {}, label_names_, values, {}, child->value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- buckets ---------------------------------------------------------------------------------------

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1,
          0.25,   0.5,   0.75,   1,     2.5,    5,    7.5,   10,   20,    30};
}

std::vector<double> linear_buckets(double start, double width, int count) {
  if (!(width > 0) || count < 1) throw std::invalid_argument("linear_buckets needs width > 0 and count >= 1");
  std::vector<double> b;
  for (int i = 0; i < count; ++i) b.push_back(start + width * i);
  return b;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1)
    throw std::invalid_argument("exponential_buckets needs start > 0, factor > 1 and count >= 1");
  std::vector<double> b;
  for (int i = 0; i < count; ++i) {
    // Rounded to 15 significant digits, so 1e-7 * 10 * 10 renders as 1e-05, not 9.999999999999999e-06.
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", start * std::pow(factor, i));
    b.push_back(std::strtod(buf, nullptr));
  }
  return b;
}

}  // namespace serval::observe
