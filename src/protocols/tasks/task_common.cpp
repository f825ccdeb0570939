#include "protocols/tasks/task_common.hpp"

#include <charconv>

#include "serval/app/errors.hpp"

namespace serval::protocols::tasks {

std::shared_ptr<serving::ModelVersion> resolve_for_task(const serving::ModelRegistry& registry,
                                                        std::string_view model, std::optional<int> version,
                                                        std::string_view task) {
  auto spec = registry.spec(model);
  if (spec && spec->task != task) {
    std::string others;
    for (const auto& n : registry.names(task)) others += (others.empty() ? "" : ", ") + n;
    throw HttpError(400, "model '" + std::string(model) + "' does " + spec->task + ", not " + std::string(task) +
                             "; models for " + std::string(task) + ": " + (others.empty() ? "none" : others));
  }
  return registry.resolve(model, version);
}

serving::InferOptions deadline_options(std::optional<int> body_deadline_ms, std::string_view header_value) {
  serving::InferOptions o;
  if (body_deadline_ms) {
    if (*body_deadline_ms <= 0) throw HttpError(422, "deadline_ms must be a positive number of milliseconds");
    o.timeout = std::chrono::milliseconds(*body_deadline_ms);
    return o;
  }
  if (!header_value.empty()) {
    long long ms = 0;
    auto [p, ec] = std::from_chars(header_value.data(), header_value.data() + header_value.size(), ms);
    if (ec != std::errc() || p != header_value.data() + header_value.size() || ms <= 0 || ms > 86'400'000)
      throw HttpError(422, "X-Deadline-Ms must be a positive integer number of milliseconds");
    o.timeout = std::chrono::milliseconds(ms);
  }
  return o;
}

boost::json::object run_task_json(const serving::ModelVersion& mv, std::string_view model,
                                  serving::InferResponse&& r) {
  boost::json::object o;
  if (r.json.is_object()) o = std::move(r.json.as_object());
  o["model"] = model;
  o["version"] = mv.version();
  return o;
}

bool base64_decode(std::string_view in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  out.clear();
  out.reserve(in.size() / 4 * 3);
  unsigned acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    if (padding) return false;  // data after padding
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;  // a lone trailing 6-bit group is not valid base64
}

}  // namespace serval::protocols::tasks
