#include "serval/serving/registry.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#include "serval/observe/log.hpp"

namespace serval::serving {

namespace fs = std::filesystem;

namespace {

std::optional<int> version_number(const std::string& s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

}  // namespace

ModelRegistry::ModelRegistry(fs::path repository) : repository_(std::move(repository)) {}

ModelRegistry::~ModelRegistry() { stop(); }

void ModelRegistry::discover() {
  std::error_code ec;
  if (!fs::is_directory(repository_, ec)) {
    throw ConfigError("model repository " + repository_.string() + " is not a directory");
  }
  std::vector<fs::path> dirs;
  for (const auto& d : fs::directory_iterator(repository_)) {
    if (d.is_directory() && fs::exists(d.path() / "model.yaml")) dirs.push_back(d.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    const std::string name = dir.filename().string();
    if (!only_.empty() && std::find(only_.begin(), only_.end(), name) == only_.end()) continue;
    const fs::path yaml = dir / "model.yaml";
    ModelSpec spec;
    try {
      spec = parse_model_spec(read_file(yaml), name);
    } catch (const ConfigError& e) {
      // parse_model_spec says "model.yaml:LINE: ..."; name the real file.
      std::string msg = e.what();
      if (msg.rfind("model.yaml", 0) == 0) msg = (dir / msg).string();
      else msg = yaml.string() + ": " + msg;
      throw ConfigError(msg);
    }
    // Versions on disk.
    std::vector<int> on_disk;
    for (const auto& v : fs::directory_iterator(dir)) {
      if (!v.is_directory()) continue;
      if (auto n = version_number(v.path().filename().string())) on_disk.push_back(*n);
    }
    std::sort(on_disk.begin(), on_disk.end());
    std::vector<int> chosen;
    if (spec.version_policy == "all") {
      chosen = on_disk;
    } else if (spec.version_policy == "specific") {
      for (int v : spec.versions) {
        if (std::find(on_disk.begin(), on_disk.end(), v) == on_disk.end())
          throw ConfigError(yaml.string() + ": version " + std::to_string(v) + " has no folder " +
                            (dir / std::to_string(v)).string());
        chosen.push_back(v);
      }
    } else if (!on_disk.empty()) {
      chosen.push_back(on_disk.back());
    }
    if (chosen.empty()) {
      throw ConfigError((dir).string() + ": no version folder (models/" + name +
                        "/1/...); run `make setup` to prepare the default models");
    }
    for (int v : chosen) add(spec, v, dir / std::to_string(v));
  }
  if (!only_.empty()) {
    for (const auto& n : only_) {
      std::lock_guard lock(mu_);
      if (models_.find(n) == models_.end())
        throw ConfigError("model '" + n + "' not found in " + repository_.string());
    }
  }
}

void ModelRegistry::add(ModelSpec spec, int version, fs::path version_dir) {
  std::lock_guard lock(mu_);
  auto& e = models_[spec.name];
  if (!e.spec) e.spec = std::make_shared<const ModelSpec>(std::move(spec));
  if (e.versions.count(version)) throw ConfigError("model " + e.spec->name + " version " + std::to_string(version) + " added twice");
  e.versions[version] = std::make_shared<ModelVersion>(e.spec, version, std::move(version_dir));
}

void ModelRegistry::load() {
  std::vector<std::shared_ptr<ModelVersion>> todo;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, e] : models_)
      for (auto& [v, mv] : e.versions)
        if (mv->state() == ModelVersion::State::Loading && mv->runtime() == nullptr) todo.push_back(mv);
  }
  std::vector<std::string> errors(todo.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    threads.emplace_back([&, i] {
      const auto t0 = std::chrono::steady_clock::now();
      try {
        todo[i]->load();
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        log::info("model " + todo[i]->name() + " version " + std::to_string(todo[i]->version()) + " ready (" +
                  todo[i]->spec().runtime + ", loaded in " + std::to_string(ms.count()) + " ms)");
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::string failed;
  for (const auto& e : errors)
    if (!e.empty()) failed += (failed.empty() ? "" : "; ") + e;
  if (!failed.empty()) throw std::runtime_error("model load failed: " + failed);
}

void ModelRegistry::stop() {
  std::vector<std::shared_ptr<ModelVersion>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, e] : models_)
      for (auto& [v, mv] : e.versions) all.push_back(mv);
  }
  for (auto& mv : all) mv->stop();
}

std::shared_ptr<ModelVersion> ModelRegistry::resolve(std::string_view name, std::optional<int> version) const {
  std::lock_guard lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    std::vector<std::string> known;
    for (const auto& [n, e] : models_) known.push_back(n);
    throw HttpError(404, "model '" + std::string(name) + "' not found; available: " + join(known));
  }
  const Entry& e = it->second;
  if (version) {
    auto v = e.versions.find(*version);
    if (v == e.versions.end())
      throw HttpError(404, "model '" + std::string(name) + "' has no version " + std::to_string(*version));
    return v->second;
  }
  for (auto v = e.versions.rbegin(); v != e.versions.rend(); ++v) {
    if (v->second->state() == ModelVersion::State::Ready) return v->second;
  }
  // None ready: answer with the newest one's state (503 from infer()).
  return e.versions.rbegin()->second;
}

std::vector<std::string> ModelRegistry::names(std::string_view task) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [n, e] : models_)
    if (task.empty() || e.spec->task == task) out.push_back(n);
  return out;
}

std::shared_ptr<const ModelSpec> ModelRegistry::spec(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.spec;
}

bool ModelRegistry::all_ready() const {
  std::lock_guard lock(mu_);
  for (const auto& [n, e] : models_)
    for (const auto& [v, mv] : e.versions)
      if (mv->state() != ModelVersion::State::Ready) return false;
  return true;
}

boost::json::object ModelRegistry::card_locked(const Entry& e) const {
  const ModelSpec& s = *e.spec;
  boost::json::object c;
  c["name"] = s.name;
  c["runtime"] = s.runtime;
  c["task"] = s.task;
  c["description"] = s.description;
  boost::json::array versions;
  for (const auto& [v, mv] : e.versions) versions.push_back(mv->card());
  c["versions"] = std::move(versions);
  int latest = 0;
  for (const auto& [v, mv] : e.versions)
    if (mv->state() == ModelVersion::State::Ready) latest = v;
  if (latest) c["default_version"] = latest;
  c["batching"] = {{"max_batch_size", s.batching.max_batch_size},
                   {"max_queue_delay_ms", static_cast<double>(s.batching.max_queue_delay.count()) / 1000.0},
                   {"max_queue", s.batching.max_queue},
                   {"instances", s.instances}};
  boost::json::array pref;
  for (int p : s.batching.preferred_batch_sizes) pref.push_back(p);
  c["batching"].as_object()["preferred_batch_sizes"] = std::move(pref);
  c["limits"] = {{"timeout_ms", s.default_timeout.count()}, {"max_input_bytes", s.max_input_bytes}};
  if (!s.labels.empty()) {
    boost::json::array l;
    for (const auto& x : s.labels) l.push_back(boost::json::string(x));
    c["labels"] = std::move(l);
  }
  c["card"] = s.card;
  return c;
}

boost::json::object ModelRegistry::card(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) throw HttpError(404, "model '" + std::string(name) + "' not found");
  return card_locked(it->second);
}

boost::json::array ModelRegistry::cards() const {
  std::lock_guard lock(mu_);
  boost::json::array out;
  for (const auto& [n, e] : models_) out.push_back(card_locked(e));
  return out;
}

}  // namespace serval::serving
