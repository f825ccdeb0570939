// ModelMetrics: the Prometheus series of one model version, resolved once so the hot path only
// touches atomics.
//
//   serval_model_requests_total{model,version}                 answered requests
//   serval_model_errors_total{model,version,class}             client|inference|timeout|overload|unavailable
//   serval_model_request_duration_seconds{model,version}       admitted -> answered (histogram)
//   serval_model_queue_duration_seconds{model,version}         queued -> taken into a batch
//   serval_model_compute_duration_seconds{model,version}       one batch's execution
//   serval_model_batch_size{model,version}                     requests per executed batch
//   serval_model_queue_depth{model,version}                    gauge
//   serval_model_in_flight{model,version}                      gauge: admitted, not yet answered
#pragma once

#include <array>
#include <string>

#include "serval/observe/metrics.hpp"
#include "serval/serving/runtime.hpp"

namespace serval::serving {

struct ModelMetrics {
  ModelMetrics(const std::string& model, int version);

  observe::Counter& requests;
  std::array<observe::Counter*, 5> errors{};  // by ErrorClass
  observe::Histogram& request_seconds;
  observe::Histogram& queue_seconds;
  observe::Histogram& compute_seconds;
  observe::Histogram& batch_size;
  observe::Gauge& queue_depth;
  observe::Gauge& in_flight;

  observe::Counter& error(ErrorClass c) { return *errors[static_cast<std::size_t>(c)]; }
};

}  // namespace serval::serving
