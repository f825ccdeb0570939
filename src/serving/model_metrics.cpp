#include "serving/model_metrics.hpp"

#include <vector>

namespace serval::serving {

namespace {
using observe::MetricsRegistry;
const std::vector<std::string> kLabels{"model", "version"};

// One bucket layout for every model (a family has one layout): powers of two up to 4096.
std::vector<double> batch_buckets() {
  std::vector<double> b;
  for (int s = 1; s <= 4096; s *= 2) b.push_back(s);
  return b;
}
}  // namespace

ModelMetrics::ModelMetrics(const std::string& model, int version)
    : requests(MetricsRegistry::global()
                   .counter("serval_model_requests_total", "Requests answered by a model version", kLabels)
                   .with({model, std::to_string(version)})),
      request_seconds(MetricsRegistry::global()
                          .histogram("serval_model_request_duration_seconds",
                                     "Time from admission to answer", observe::latency_buckets(), kLabels)
                          .with({model, std::to_string(version)})),
      queue_seconds(MetricsRegistry::global()
                        .histogram("serval_model_queue_duration_seconds",
                                   "Time a request waited in the model queue", observe::latency_buckets(), kLabels)
                        .with({model, std::to_string(version)})),
      compute_seconds(MetricsRegistry::global()
                          .histogram("serval_model_compute_duration_seconds", "Time one batch took to execute",
                                     observe::latency_buckets(), kLabels)
                          .with({model, std::to_string(version)})),
      batch_size(MetricsRegistry::global()
                     .histogram("serval_model_batch_size", "Requests per executed batch",
                                batch_buckets(), kLabels)
                     .with({model, std::to_string(version)})),
      queue_depth(MetricsRegistry::global()
                      .gauge("serval_model_queue_depth", "Requests waiting in the model queue", kLabels)
                      .with({model, std::to_string(version)})),
      in_flight(MetricsRegistry::global()
                    .gauge("serval_model_in_flight", "Requests admitted and not yet answered", kLabels)
                    .with({model, std::to_string(version)})) {
  auto& family = MetricsRegistry::global().counter("serval_model_errors_total", "Failed requests by class",
                                                   {"model", "version", "class"});
  for (ErrorClass c : {ErrorClass::Client, ErrorClass::Inference, ErrorClass::Timeout, ErrorClass::Overload,
                       ErrorClass::Unavailable}) {
    errors[static_cast<std::size_t>(c)] = &family.with({model, std::to_string(version), error_class_name(c)});
  }
}

}  // namespace serval::serving
