// ModelRegistry: the model repository on disk and the versions loaded from it.
//
//   models/<name>/model.yaml          what the model is (see model_spec.hpp)
//   models/<name>/<version>/<files>   one folder per version (integers); several load side by side
//
// discover() reads every model.yaml (a bad one is an error naming the file and line); load()
// builds the versions each model's policy selects — each model on its own thread, so a slow model
// does not hold up the others — and readiness waits for it. resolve() picks a version for a
// request: the one asked for, else the highest version that is ready.
//
//   serving::ModelRegistry models("models");
//   models.discover();
//   models.load();                                   // at start-up, off the event loops
//   auto v = models.resolve("langid");               // throws 404 when unknown
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "serval/serving/model_spec.hpp"
#include "serval/serving/model_version.hpp"

namespace serval::serving {

class ModelRegistry {
 public:
  explicit ModelRegistry(std::filesystem::path repository = "models");
  ~ModelRegistry();

  void set_repository(std::filesystem::path repository) { repository_ = std::move(repository); }
  // Only these models are discovered (empty = all).
  void only(std::vector<std::string> names) { only_ = std::move(names); }

  // Reads models/*/model.yaml. Throws ConfigError ("models/spam/model.yaml:3: ...").
  void discover();
  // Adds a model that is not in the repository folder (e.g. `serve --model my.gguf`).
  void add(ModelSpec spec, int version, std::filesystem::path version_dir);
  // Loads every discovered version (blocking). Throws when a version fails to load.
  void load();
  void stop();

  // The version to serve: `version` if given, else the highest ready one. Throws HttpError 404
  // (unknown model or version) or InferFailure 503 (known but not ready).
  std::shared_ptr<ModelVersion> resolve(std::string_view name, std::optional<int> version = {}) const;
  // The models whose task is `task` (for docs and errors).
  std::vector<std::string> names(std::string_view task = {}) const;
  std::shared_ptr<const ModelSpec> spec(std::string_view name) const;
  bool all_ready() const;

  // Model cards: {"name","runtime","task","description","versions":[...],...}.
  boost::json::object card(std::string_view name) const;
  boost::json::array cards() const;

  const std::filesystem::path& repository() const noexcept { return repository_; }

 private:
  struct Entry {
    std::shared_ptr<const ModelSpec> spec;
    std::map<int, std::shared_ptr<ModelVersion>> versions;
  };
  boost::json::object card_locked(const Entry& e) const;

  std::filesystem::path repository_;
  std::vector<std::string> only_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> models_;
};

}  // namespace serval::serving
