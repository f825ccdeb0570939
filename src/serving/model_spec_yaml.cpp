#include "serving/model_spec_yaml.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "serval/serving/model_spec.hpp"

namespace serval::serving::detail {

namespace json = boost::json;

namespace {

[[noreturn]] void fail(int line, std::string_view what) {
  std::string msg = "model.yaml:";
  if (line > 0) msg += std::to_string(line) + ":";
  msg += " ";
  msg += what;
  throw ConfigError(msg);
}

int line_of_mark(const YAML::Mark& m) { return m.is_null() || m.line < 0 ? 0 : m.line + 1; }

bool all_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 8    ? (c >= '0' && c <= '7')
              : base == 10 ? (c >= '0' && c <= '9')
                           : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    if (!ok) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_core_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

double parse_double(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  // from_chars rejects ".5" and "-.5" in some libstdc++ versions; give it a leading zero.
  std::string buf;
  bool neg = !s.empty() && s.front() == '-';
  if (neg) s.remove_prefix(1);
  if (!s.empty() && s.front() == '.') buf = "0";
  buf.append(s);
  double v = 0;
  auto [p, ec] = std::from_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // Overflow: the exponent is huge positive (inf) or huge negative (0).
    bool tiny = buf.find("e-") != std::string::npos || buf.find("E-") != std::string::npos;
    v = tiny ? 0.0 : std::numeric_limits<double>::infinity();
  } else if (ec != std::errc() || p != buf.data() + buf.size()) {
    v = std::numeric_limits<double>::quiet_NaN();  // unreachable for validated input
  }
  return neg ? -v : v;
}

json::value integer_value(std::string_view digits, int base, bool negative) {
  std::uint64_t u = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
  if (ec == std::errc() && p == digits.data() + digits.size()) {
    if (!negative && u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return json::value(static_cast<std::int64_t>(u));
    if (negative && u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1)
      return json::value(static_cast<std::int64_t>(0 - u));
    if (!negative) return json::value(u);
  }
  // Too big for 64 bits: keep it as a float, like most YAML loaders.
  if (base == 10) return json::value(negative ? -parse_double(digits) : parse_double(digits));
  double v = 0;
  for (char c : digits) {
    int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    v = v * base + d;
  }
  return json::value(negative ? -v : v);
}

struct Frame {
  json::value value;  // object or array
  std::string path;
  YAML::anchor_t anchor = 0;
  std::size_t nodes_at_start = 0;
  std::string key;
  bool have_key = false;
  int line = 0;
};

class Builder : public YAML::EventHandler {
 public:
  Builder(const YamlLimits& limits, YamlDocument& doc) : limits_(limits), doc_(doc) {}

  int documents() const { return documents_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) fail(line_of_mark(mark), "only one YAML document is allowed");
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    complete(json::value(nullptr), line_of_mark(mark), anchor, 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    int line = line_of_mark(mark);
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail(line, "alias refers to a node that contains it (or to no node)");
    count(it->second.second, line);
    complete(it->second.first, line, 0, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    int line = line_of_mark(mark);
    if (expecting_key()) {
      // Keys stay text whatever they look like: `1: x` has the key "1".
      count(1, line);
      Frame& f = frames_.back();
      f.key = value;
      f.have_key = true;
      if (f.value.as_object().contains(f.key)) fail(line, "duplicate key '" + f.key + "' in " + where(f.path));
      if (anchor != 0) anchors_[anchor] = {json::value(value), 1};
      return;
    }
    complete(scalar_value(tag, value, line), line, anchor, 1);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, json::array());
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, json::object());
  }
  void OnMapEnd() override { close(); }

 private:
  static std::string where(const std::string& path) { return path.empty() ? "the document" : path; }

  bool expecting_key() const {
    return !frames_.empty() && frames_.back().value.is_object() && !frames_.back().have_key;
  }

  void count(std::size_t n, int line) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes)
      fail(line, "document too large: more than " + std::to_string(limits_.max_nodes) + " values (aliases count each time)");
  }

  std::string child_path() const {
    if (frames_.empty()) return {};
    const Frame& f = frames_.back();
    if (f.value.is_array()) return f.path + "[" + std::to_string(f.value.as_array().size()) + "]";
    return f.path.empty() ? f.key : f.path + "." + f.key;
  }

  static void check_container_tag(const std::string& tag, int line) {
    if (tag.empty() || tag == "?" || tag == "!" || tag == "tag:yaml.org,2002:seq" || tag == "tag:yaml.org,2002:map")
      return;
    fail(line, "unsupported YAML tag '" + tag + "'");
  }

  void open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, json::value container) {
    int line = line_of_mark(mark);
    if (expecting_key()) fail(line, "mapping keys must be scalars in " + where(frames_.back().path));
    check_container_tag(tag, line);
    if (static_cast<int>(frames_.size()) >= limits_.max_depth)
      fail(line, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    count(1, line);
    Frame f;
    f.value = std::move(container);
    f.path = child_path();
    f.anchor = anchor;
    f.nodes_at_start = nodes_;
    f.line = line;
    frames_.push_back(std::move(f));
  }

  void close() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    std::size_t nodes = nodes_ - f.nodes_at_start + 1;
    complete(std::move(f.value), f.line, f.anchor, 0, &f.path, nodes);
  }

  // Adds a finished value to its parent (or makes it the root). `counted` values are added to the
  // node budget here; containers were counted as they were built.
  void complete(json::value v, int line, YAML::anchor_t anchor, std::size_t counted,
                const std::string* known_path = nullptr, std::size_t nodes = 1) {
    if (counted != 0) count(counted, line);
    if (expecting_key()) fail(line, "mapping keys must be non-empty scalars in " + where(frames_.back().path));
    std::string path = known_path ? *known_path : child_path();
    if (!path.empty() || frames_.empty()) doc_.lines.emplace(path, line);
    if (anchor != 0) {
      count(nodes, line);  // the stored copy
      anchors_[anchor] = {v, nodes};
    }
    if (frames_.empty()) {
      doc_.root = std::move(v);
      return;
    }
    Frame& parent = frames_.back();
    if (parent.value.is_array()) {
      parent.value.as_array().push_back(std::move(v));
    } else {
      parent.value.as_object().emplace(parent.key, std::move(v));
      parent.have_key = false;
    }
  }

  json::value scalar_value(const std::string& tag, const std::string& text, int line) {
    if (tag == "?") return resolve_plain_scalar(text);
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return json::value(text);
    static constexpr std::string_view kCore = "tag:yaml.org,2002:";
    if (tag.starts_with(kCore)) {
      std::string_view type = std::string_view(tag).substr(kCore.size());
      json::value v = resolve_plain_scalar(text);
      if (type == "int" && v.is_int64()) return v;
      if (type == "int" && v.is_uint64()) return v;
      if (type == "float" && v.is_double()) return v;
      if (type == "float" && v.is_int64()) return json::value(static_cast<double>(v.as_int64()));
      if (type == "bool" && v.is_bool()) return v;
      if (type == "null" && v.is_null()) return v;
      if (type == "int" || type == "float" || type == "bool" || type == "null")
        fail(line, "'" + text + "' is not a valid !!" + std::string(type));
    }
    fail(line, "unsupported YAML tag '" + tag + "'");
  }

  const YamlLimits& limits_;
  YamlDocument& doc_;
  std::vector<Frame> frames_;
  std::unordered_map<YAML::anchor_t, std::pair<json::value, std::size_t>> anchors_;
  std::size_t nodes_ = 0;
  int documents_ = 0;
};

}  // namespace

json::value resolve_plain_scalar(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s.substr(2), 8)) return integer_value(s.substr(2), 8, false);
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && all_digits(s.substr(2), 16)) return integer_value(s.substr(2), 16, false);
  {
    std::string_view d = s;
    bool neg = false;
    if (d.front() == '+' || d.front() == '-') {
      neg = d.front() == '-';
      d.remove_prefix(1);
    }
    if (all_digits(d, 10)) return integer_value(d, 10, neg);
    if (d == ".inf" || d == ".Inf" || d == ".INF")
      return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  if (is_core_float(s)) return parse_double(s);
  return json::value(s);
}

int YamlDocument::line_of(std::string_view path) const {
  // The document's own line ("") answers only for itself: a missing top-level key has no line.
  std::string p(path);
  while (true) {
    if (auto it = lines.find(p); it != lines.end() && it->second > 0) return it->second;
    std::size_t cut = p.find_last_of(".[");
    if (p.empty() || cut == std::string::npos) return 0;
    p.resize(cut);
  }
}

YamlDocument parse_yaml_json(std::string_view text, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    fail(0, "file too large (" + std::to_string(text.size()) + " bytes; at most " + std::to_string(limits.max_bytes) + ")");
  YamlDocument doc;
  Builder builder(limits, doc);
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const YAML::Exception& e) {
    fail(line_of_mark(e.mark), "YAML syntax error: " + e.msg);
  }
  return doc;
}

}  // namespace serval::serving::detail
