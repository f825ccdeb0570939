// The standard process metrics every Prometheus client exports, read from /proc at scrape time:
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds. A value that cannot be read (no
// /proc) is left out rather than reported as 0.
//
//   for (const auto& m : serval::observe::detail::process_metrics()) render(m.name, m.value);
#pragma once

#include <string_view>
#include <vector>

namespace serval::observe::detail {

struct ProcessMetric {
  std::string_view name;
  std::string_view help;
  std::string_view type;  // "counter" or "gauge"
  double value;
};

// Sorted by name.
std::vector<ProcessMetric> process_metrics();

}  // namespace serval::observe::detail
