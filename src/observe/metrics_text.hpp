// Pieces of the Prometheus text format 0.0.4 shared by the metric families, the registry and the
// process metrics: the # HELP / # TYPE header and one sample line.
//
//   append_header(out, "x_total", "Things.", "counter");          // # HELP x_total Things.\n# TYPE ...
//   append_sample(out, "x", "_bucket", {"model"}, {"a"}, "0.5", 3);  // x_bucket{model="a",le="0.5"} 3
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace serval::observe::detail {

// HELP text: \ -> \\, newline -> \n (quotes stay as they are).
std::string escape_help(std::string_view v);

void append_header(std::string& out, std::string_view name, std::string_view help, std::string_view type);

// `le` non-empty adds the histogram bucket label last.
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& label_names, const std::vector<std::string>& label_values,
                   std::string_view le, double value);

}  // namespace serval::observe::detail
