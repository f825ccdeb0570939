// parse_model_spec: model.yaml text -> ModelSpec (the format is in serval/serving/model_spec.hpp).
//
// The YAML becomes a JSON value first (serving/model_spec_yaml.hpp: scalar typing, size, depth and
// alias limits, line numbers), then every field is checked here: unknown keys are refused with a
// "did you mean" (typo protection), numbers must be integers in range, lists must hold the right
// things. Every error names the line and the field:
//
//   model.yaml:4: batching.max_batch_size must be between 1 and 4096 (got 0)
#include "serval/serving/model_spec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "serving/model_spec_yaml.hpp"

namespace serval::serving {

namespace json = boost::json;

namespace {

constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();

template <class Range>
std::string join(const Range& items) {
  std::string out;
  for (auto s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string number_text(double x) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string describe(const json::value& v) {
  std::string s = v.is_double() ? number_text(v.as_double()) : json::serialize(v);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, std::size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

// Typed access to the JSON document with errors that carry the line and the field.
class Reader {
 public:
  explicit Reader(const detail::YamlDocument& doc) : doc_(doc) {}

  [[noreturn]] void fail(std::string_view path, std::string_view what) const {
    std::string msg = "model.yaml:";
    if (int line = doc_.line_of(path); line > 0) msg += std::to_string(line) + ":";
    msg += " ";
    msg += path.empty() ? std::string_view("the document") : path;
    msg += " ";
    msg += what;
    throw ConfigError(msg);
  }

  // A mapping; null (the key with no value) reads as an empty one.
  const json::object& mapping(const json::value& v, std::string_view path) const {
    static const json::object kEmpty;
    if (v.is_null()) return kEmpty;
    if (!v.is_object()) fail(path, "must be a mapping (got " + describe(v) + ")");
    return v.as_object();
  }

  const json::array& list(const json::value& v, std::string_view path) const {
    static const json::array kEmpty;
    if (v.is_null()) return kEmpty;
    if (!v.is_array()) fail(path, "must be a list (got " + describe(v) + ")");
    return v.as_array();
  }

  void only_keys(const json::object& o, std::string_view path, std::initializer_list<std::string_view> keys) const {
    for (const auto& kv : o) {
      std::string_view k = kv.key();
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
      std::string what = "unknown key '" + std::string(k) + "'";
      std::string_view best;
      std::size_t best_d = 3;
      for (auto candidate : keys) {
        std::size_t d = edit_distance(k, candidate);
        if (d < best_d) best_d = d, best = candidate;
      }
      if (!best.empty()) what += " (did you mean '" + std::string(best) + "'?)";
      what += "; expected one of: " + join(keys);
      std::string at = join_path(path, k);
      // The message names the key itself; fail() would repeat the path.
      std::string msg = "model.yaml:";
      if (int line = doc_.line_of(at); line > 0) msg += std::to_string(line) + ":";
      msg += " " + what + (path.empty() ? "" : " in " + std::string(path));
      throw ConfigError(msg);
    }
  }

  std::string string(const json::value& v, std::string_view path) const {
    if (!v.is_string()) fail(path, "must be a string (got " + describe(v) + ")");
    return std::string(v.as_string());
  }

  // Free text: any scalar, numbers and bools as written.
  std::string text(const json::value& v, std::string_view path) const {
    if (v.is_string()) return std::string(v.as_string());
    if (v.is_object() || v.is_array()) fail(path, "must be text (got " + describe(v) + ")");
    return json::serialize(v);
  }

  std::int64_t integer(const json::value& v, std::string_view path, std::int64_t lo, std::int64_t hi) const {
    std::string range = hi == std::numeric_limits<std::int64_t>::max()
                            ? ">= " + std::to_string(lo)
                            : "between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (!v.is_int64()) fail(path, "must be an integer " + range + " (got " + describe(v) + ")");
    std::int64_t x = v.as_int64();
    if (x < lo || x > hi) fail(path, "must be " + range + " (got " + std::to_string(x) + ")");
    return x;
  }

  double number(const json::value& v, std::string_view path, double lo, double hi) const {
    std::string range = "between " + number_text(lo) + " and " + number_text(hi);
    double x = 0;
    if (v.is_int64()) {
      x = static_cast<double>(v.as_int64());
    } else if (v.is_uint64()) {
      x = static_cast<double>(v.as_uint64());
    } else if (v.is_double()) {
      x = v.as_double();
    } else {
      fail(path, "must be a number " + range + " (got " + describe(v) + ")");
    }
    if (!(x >= lo && x <= hi)) fail(path, "must be " + range + " (got " + describe(v) + ")");
    return x;
  }

 private:
  const detail::YamlDocument& doc_;
};

const json::value& member(const json::object& o, std::string_view key) {
  static const json::value kNull;
  auto it = o.find(key);
  return it == o.end() ? kNull : it->value();
}

std::string default_task(std::string_view runtime) {
  if (runtime == "fasttext") return "classify";
  if (runtime == "onnx") return "tensor";
  if (runtime == "ocr") return "ocr";
  if (runtime == "vad") return "vad";
  if (runtime == "llama") return "generate";
  return {};
}

constexpr std::array<std::string_view, 6> kTasks = {"classify", "embed", "ocr", "vad", "generate", "tensor"};

void read_versions(const Reader& r, const json::value& v, ModelSpec& spec) {
  if (v.is_null()) return;
  if (v.is_string()) {
    std::string_view s = v.as_string();
    if (s != "latest" && s != "all") r.fail("versions", "must be latest, all or a list of version numbers (got " + describe(v) + ")");
    spec.version_policy = std::string(s);
    return;
  }
  if (!v.is_array()) r.fail("versions", "must be latest, all or a list of version numbers (got " + describe(v) + ")");
  const auto& arr = v.as_array();
  if (arr.empty()) r.fail("versions", "must list at least one version");
  std::set<int> seen;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string path = index_path("versions", i);
    int n = static_cast<int>(r.integer(arr[i], path, 1, kIntMax));
    if (!seen.insert(n).second) r.fail(path, "repeats version " + std::to_string(n));
  }
  spec.version_policy = "specific";
  spec.versions.assign(seen.begin(), seen.end());
}

void read_batching(const Reader& r, const json::value& v, BatchingSpec& b) {
  const auto& o = r.mapping(v, "batching");
  r.only_keys(o, "batching", {"max_batch_size", "max_queue_delay_ms", "preferred_batch_sizes", "max_queue"});
  if (const auto& x = member(o, "max_batch_size"); !x.is_null())
    b.max_batch_size = static_cast<int>(r.integer(x, "batching.max_batch_size", 1, 4096));
  if (const auto& x = member(o, "max_queue_delay_ms"); !x.is_null()) {
    double ms = r.number(x, "batching.max_queue_delay_ms", 0, 10000);
    b.max_queue_delay = std::chrono::microseconds(std::llround(ms * 1000.0));
  }
  if (const auto& x = member(o, "max_queue"); !x.is_null())
    b.max_queue = static_cast<int>(r.integer(x, "batching.max_queue", 1, kIntMax));
  const auto& pref = r.list(member(o, "preferred_batch_sizes"), "batching.preferred_batch_sizes");
  b.preferred_batch_sizes.clear();
  for (std::size_t i = 0; i < pref.size(); ++i) {
    std::string path = index_path("batching.preferred_batch_sizes", i);
    int n = static_cast<int>(r.integer(pref[i], path, 1, b.max_batch_size));
    if (!b.preferred_batch_sizes.empty() && n <= b.preferred_batch_sizes.back())
      r.fail(path, "must be larger than the size before it (the list is ascending)");
    b.preferred_batch_sizes.push_back(n);
  }
}

void read_limits(const Reader& r, const json::value& v, ModelSpec& spec) {
  const auto& o = r.mapping(v, "limits");
  r.only_keys(o, "limits", {"timeout_ms", "max_input_bytes"});
  if (const auto& x = member(o, "timeout_ms"); !x.is_null())
    spec.default_timeout = std::chrono::milliseconds(r.integer(x, "limits.timeout_ms", 1, kIntMax));
  if (const auto& x = member(o, "max_input_bytes"); !x.is_null())
    spec.max_input_bytes = r.integer(x, "limits.max_input_bytes", 1, std::numeric_limits<std::int64_t>::max());
}

std::vector<TensorSpec> read_tensors(const Reader& r, const json::value& v, std::string_view field) {
  std::vector<TensorSpec> out;
  const auto& arr = r.list(v, field);
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string path = index_path(field, i);
    const auto& o = r.mapping(arr[i], path);
    r.only_keys(o, path, {"name", "dtype", "shape"});
    TensorSpec t;
    const auto& name = member(o, "name");
    if (name.is_null()) r.fail(path, "needs a name");
    t.name = r.string(name, path + ".name");
    if (t.name.empty()) r.fail(path + ".name", "must not be empty");
    if (!names.insert(t.name).second) r.fail(path + ".name", "repeats the tensor name '" + t.name + "'");
    const auto& dtype = member(o, "dtype");
    if (dtype.is_null()) r.fail(path, "needs a dtype");
    std::string dt = r.string(dtype, path + ".dtype");
    auto parsed = dtype_from_name(dt);
    if (!parsed)
      r.fail(path + ".dtype",
             "is not a known dtype: '" + dt + "' (BOOL, INT8..INT64, UINT8..UINT64, FP16, FP32, FP64, BYTES)");
    t.dtype = *parsed;
    const auto& shape = member(o, "shape");
    if (shape.is_null()) r.fail(path, "needs a shape (a list of sizes, -1 for any)");
    const auto& dims = r.list(shape, path + ".shape");
    if (dims.size() > 32) r.fail(path + ".shape", "has more than 32 dimensions");
    for (std::size_t d = 0; d < dims.size(); ++d)
      t.shape.push_back(r.integer(dims[d], index_path(path + ".shape", d), -1, std::numeric_limits<std::int64_t>::max()));
    out.push_back(std::move(t));
  }
  return out;
}

void read_labels(const Reader& r, const json::object& top, ModelSpec& spec) {
  const auto& labels = member(top, "labels");
  const auto& file = member(top, "labels_file");
  if (!labels.is_null() && !file.is_null()) r.fail("labels_file", "cannot be given together with labels");
  const auto& arr = r.list(labels, "labels");
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const auto& x = arr[i];
    if (x.is_string()) {
      spec.labels.emplace_back(x.as_string());
    } else if (x.is_int64()) {
      spec.labels.push_back(std::to_string(x.as_int64()));  // `labels: [0, 1]`
    } else {
      r.fail(index_path("labels", i), "must be a string (got " + describe(x) + ")");
    }
  }
  if (!file.is_null()) {
    spec.labels_file = r.string(file, "labels_file");
    std::string_view f = spec.labels_file;
    if (f.empty()) r.fail("labels_file", "must not be empty");
    bool escapes = f.front() == '/' || f == ".." || f.starts_with("../") || f.ends_with("/..") ||
                   f.find("/../") != std::string_view::npos;
    if (escapes) r.fail("labels_file", "must be a path inside the version folder (got '" + spec.labels_file + "')");
  }
}

}  // namespace

ModelSpec parse_model_spec(std::string_view yaml_text, std::string_view default_name) {
  detail::YamlDocument doc = detail::parse_yaml_json(yaml_text);
  Reader r(doc);
  const auto& top = r.mapping(doc.root, "");
  r.only_keys(top, "",
              {"runtime", "task", "description", "versions", "instances", "batching", "limits", "inputs", "outputs",
               "labels", "labels_file", "parameters", "card"});

  ModelSpec spec;
  spec.name = std::string(default_name);

  const auto& runtime = member(top, "runtime");
  if (runtime.is_null()) r.fail("runtime", "is required (onnx, fasttext, ocr, vad or llama)");
  spec.runtime = r.string(runtime, "runtime");
  if (spec.runtime.empty()) r.fail("runtime", "must not be empty");

  if (const auto& task = member(top, "task"); !task.is_null()) {
    spec.task = r.string(task, "task");
    if (std::find(kTasks.begin(), kTasks.end(), spec.task) == kTasks.end())
      r.fail("task", "must be one of " + join(kTasks) + " (got '" + spec.task + "')");
  } else {
    spec.task = default_task(spec.runtime);
    if (spec.task.empty()) r.fail("task", "is required for runtime '" + spec.runtime + "' (one of " + join(kTasks) + ")");
  }

  if (const auto& d = member(top, "description"); !d.is_null()) spec.description = r.text(d, "description");
  read_versions(r, member(top, "versions"), spec);
  if (const auto& x = member(top, "instances"); !x.is_null())
    spec.instances = static_cast<int>(r.integer(x, "instances", 1, 64));
  read_batching(r, member(top, "batching"), spec.batching);
  read_limits(r, member(top, "limits"), spec);
  spec.inputs = read_tensors(r, member(top, "inputs"), "inputs");
  spec.outputs = read_tensors(r, member(top, "outputs"), "outputs");
  read_labels(r, top, spec);
  spec.parameters = r.mapping(member(top, "parameters"), "parameters");
  spec.card = r.mapping(member(top, "card"), "card");
  return spec;
}

}  // namespace serval::serving
