// YAML text -> Boost.JSON value, the first half of parse_model_spec (the second half maps the value
// to a ModelSpec). Scalars resolve by the YAML 1.2 core schema: plain `42` is an int, `4.5` /
// `1e3` / `.inf` a float, `true` / `False` a bool, `~` / `null` / nothing a null, anything else
// (and every quoted scalar) a string.
//
// It is built from yaml-cpp's event stream rather than its node tree, so the limits hold while
// parsing, not after: a document over max_bytes is refused before yaml-cpp sees it, nesting deeper
// than max_depth stops the parse at the offending line, and aliases cannot expand past max_nodes
// (the "billion laughs" document). Every value's line is kept by path ("batching.max_batch_size",
// "inputs[0].shape[1]") so later checks can say where the problem is.
//
//   auto doc = serval::serving::detail::parse_yaml_json("batching: {max_batch_size: 0}\n");
//   doc.root.at("batching").at("max_batch_size").as_int64();   // 0
//   doc.line_of("batching.max_batch_size");                    // 1
//
// Errors throw ConfigError("model.yaml:<line>: <what>").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json/value.hpp>

namespace serval::serving::detail {

struct YamlLimits {
  std::size_t max_bytes = 1 << 20;  // the whole document
  int max_depth = 64;               // nested sequences/mappings
  std::size_t max_nodes = 100000;   // JSON values built, alias copies included
};

struct YamlDocument {
  boost::json::value root;                     // null when the text holds no document
  std::unordered_map<std::string, int> lines;  // path -> 1-based line

  // The line of `path`, else of its nearest recorded parent ("a.b[2].c" -> "a.b[2]" -> "a.b" -> "a");
  // 0 when none is known.
  int line_of(std::string_view path) const;
};

YamlDocument parse_yaml_json(std::string_view text, const YamlLimits& limits = {});

// The value of one plain (unquoted, untagged) scalar by the YAML 1.2 core schema.
boost::json::value resolve_plain_scalar(std::string_view s);

}  // namespace serval::serving::detail
