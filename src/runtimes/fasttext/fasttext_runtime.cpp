#include "runtimes/fasttext/fasttext_runtime.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "runtimes/fasttext/fasttext_model.hpp"

namespace serval::runtimes::fasttext {

namespace fs = std::filesystem;
namespace json = boost::json;
using serval::serving::ErrorClass;
using serval::serving::InferError;
using serval::serving::InferRequest;
using serval::serving::InferResponse;
using serval::serving::InferResult;
using serval::serving::LoadContext;
using serval::serving::ModelSpec;

namespace {

// --- load-time configuration ---------------------------------------------------------------------

[[noreturn]] void config_error(const ModelSpec& spec, const std::string& what) {
  throw std::runtime_error("model " + spec.name + " (fasttext): " + what);
}

const json::value* param(const ModelSpec& spec, std::string_view key) { return spec.parameters.if_contains(key); }

std::string string_param(const ModelSpec& spec, std::string_view key, std::string fallback) {
  const json::value* v = param(spec, key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_string()) config_error(spec, "parameters." + std::string(key) + " must be a string");
  return std::string(v->as_string());
}

std::int64_t int_param(const ModelSpec& spec, std::string_view key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi) {
  const json::value* v = param(spec, key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_int64() || v->as_int64() < lo || v->as_int64() > hi)
    config_error(spec, "parameters." + std::string(key) + " must be an integer between " + std::to_string(lo) +
                           " and " + std::to_string(hi));
  return v->as_int64();
}

bool bool_param(const ModelSpec& spec, std::string_view key, bool fallback) {
  const json::value* v = param(spec, key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) config_error(spec, "parameters." + std::string(key) + " must be true or false");
  return v->as_bool();
}

fs::path model_file(const LoadContext& ctx) {
  std::string name = string_param(ctx.spec, "file", "");
  if (!name.empty()) return ctx.version_dir / name;
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ctx.version_dir, ec)) {
    auto ext = entry.path().extension();
    if ((ext == ".ftz" || ext == ".bin") && entry.is_regular_file(ec)) found.push_back(entry.path());
  }
  if (ec) config_error(ctx.spec, "cannot list " + ctx.version_dir.string() + ": " + ec.message());
  if (found.empty()) config_error(ctx.spec, "no .ftz or .bin file in " + ctx.version_dir.string());
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    config_error(ctx.spec, "several model files in " + ctx.version_dir.string() + " (" +
                               found[0].filename().string() + ", " + found[1].filename().string() +
                               "...): say which in parameters.file");
  }
  return found.front();
}

std::vector<std::string> declared_labels(const LoadContext& ctx) {
  if (!ctx.spec.labels.empty()) return ctx.spec.labels;
  if (ctx.spec.labels_file.empty()) return {};
  fs::path file = ctx.version_dir / ctx.spec.labels_file;
  std::ifstream in(file);
  if (!in) config_error(ctx.spec, "cannot read labels_file " + file.string());
  std::vector<std::string> labels;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) labels.push_back(line);
  }
  return labels;
}

void check_labels(const LoadContext& ctx, const std::vector<std::string>& model_labels) {
  std::vector<std::string> declared = declared_labels(ctx);
  if (declared.empty()) return;
  std::set<std::string> want(declared.begin(), declared.end());
  std::set<std::string> have(model_labels.begin(), model_labels.end());
  if (want == have) return;
  std::string missing, extra;
  for (const auto& l : want)
    if (!have.count(l) && missing.size() < 200) missing += (missing.empty() ? "" : ", ") + l;
  for (const auto& l : have)
    if (!want.count(l) && extra.size() < 200) extra += (extra.empty() ? "" : ", ") + l;
  config_error(ctx.spec, "the labels in model.yaml do not match the model's (" + std::to_string(have.size()) +
                             " labels)" + (missing.empty() ? "" : "; not in the model: " + missing) +
                             (extra.empty() ? "" : "; in the model but not declared: " + extra));
}

// A float as the shortest double that prints like it ("0.1234", not "0.12339999526739120").
double json_float(float f) {
  if (!std::isfinite(f)) return 0.0;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

// --- request parameters --------------------------------------------------------------------------

std::optional<InferError> client_error(std::string message) { return InferError{ErrorClass::Client, std::move(message)}; }

bool all_space(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  });
}

class FastTextRuntime final : public serval::serving::Runtime {
 public:
  FastTextRuntime(const LoadContext& ctx, std::shared_ptr<const FastTextModel> model)
      : model_(std::move(model)), session_(*model_) {
    const ModelSpec& spec = ctx.spec;
    task_ = spec.task;
    if (task_ != "classify" && task_ != "embed")
      config_error(spec, "task must be classify or embed, not '" + task_ + "'");
    if (task_ == "classify" && !model_->supervised())
      config_error(spec, model_->path().filename().string() + " is a " + std::string(model_->model_kind()) +
                             " model (word vectors): it cannot classify; use task: embed");
    if (task_ == "classify" && model_->label_count() == 0) config_error(spec, "the model has no labels");
    std::string prefix = string_param(spec, "label_prefix", model_->label_prefix());
    labels_.reserve(model_->raw_labels().size());
    for (const auto& raw : model_->raw_labels())
      labels_.push_back(std::string_view(raw).starts_with(prefix) ? raw.substr(prefix.size()) : raw);
    check_labels(ctx, labels_);
    default_top_k_ = static_cast<int>(int_param(spec, "top_k", 1, 1, std::max(1, model_->label_count())));
    max_texts_ = static_cast<std::size_t>(int_param(spec, "max_texts", 256, 1, 1 << 20));
    normalize_ = bool_param(spec, "normalize", true);
    // Preprocessing that must match how the model was trained (the spam model saw lowercased mail
    // text cut at ~2000 characters): ASCII lowercasing, and a cut at the last space before N bytes.
    lowercase_ = bool_param(spec, "lowercase", false);
    truncate_bytes_ = static_cast<std::size_t>(int_param(spec, "truncate_bytes", 0, 0, 1 << 30));
    max_input_bytes_ = spec.max_input_bytes;
    vector_.resize(static_cast<std::size_t>(model_->dim()));
  }

  const FastTextModel& model() const noexcept { return *model_; }

  std::optional<InferError> validate(const InferRequest& req) const override {
    if (task_ == "classify") {
      int k = 0;
      float threshold = 0;
      return check_classify(req, k, threshold);
    }
    bool normalize = false;
    return check_embed(req, normalize);
  }

  void execute(std::span<InferRequest* const> batch, std::span<InferResult> out) override {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        out[i] = task_ == "classify" ? classify(*batch[i]) : embed(*batch[i]);
      } catch (const std::exception& e) {
        out[i] = InferResult::fail(ErrorClass::Inference, std::string("fastText failed: ") + e.what());
      }
    }
  }

  json::object describe() const override {
    json::array names;
    for (std::size_t i = 0; i < labels_.size() && i < 200; ++i) names.emplace_back(labels_[i]);
    return json::object{{"labels", model_->label_count()},
                        {"dim", model_->dim()},
                        {"file", model_->path().filename().string()},
                        {"bytes", model_->file_bytes()},
                        {"quantized", model_->quantized()},
                        {"model", model_->model_kind()},
                        {"words", model_->word_count()},
                        {"label_names", std::move(names)}};
  }

 private:
  std::optional<InferError> check_size(std::size_t bytes) const {
    if (static_cast<std::int64_t>(bytes) > max_input_bytes_)
      return client_error("input is " + std::to_string(bytes) + " bytes; this model accepts at most " +
                          std::to_string(max_input_bytes_));
    return std::nullopt;
  }

  std::optional<InferError> check_classify(const InferRequest& req, int& k, float& threshold) const {
    if (req.text.empty() || all_space(req.text)) return client_error("text must not be empty");
    if (auto e = check_size(req.text.size())) return e;
    k = default_top_k_;
    if (const json::value* v = req.params.if_contains("top_k"); v != nullptr && !v->is_null()) {
      if (!v->is_int64() || v->as_int64() < 1 || v->as_int64() > model_->label_count())
        return client_error("top_k must be an integer between 1 and " + std::to_string(model_->label_count()));
      k = static_cast<int>(v->as_int64());
    }
    threshold = 0;
    if (const json::value* v = req.params.if_contains("threshold"); v != nullptr && !v->is_null()) {
      double t = v->is_double() ? v->as_double() : v->is_int64() ? static_cast<double>(v->as_int64()) : -1;
      if (!(t >= 0 && t <= 1)) return client_error("threshold must be a number between 0 and 1");
      threshold = static_cast<float>(t);
    }
    return std::nullopt;
  }

  std::optional<InferError> check_embed(const InferRequest& req, bool& normalize) const {
    if (req.texts.empty()) return client_error("texts must not be empty");
    if (req.texts.size() > max_texts_)
      return client_error("texts has " + std::to_string(req.texts.size()) + " items; this model takes at most " +
                          std::to_string(max_texts_) + " per request");
    std::size_t total = 0;
    for (const auto& t : req.texts) total += t.size();
    if (auto e = check_size(total)) return e;
    normalize = normalize_;
    if (const json::value* v = req.params.if_contains("normalize"); v != nullptr && !v->is_null()) {
      if (!v->is_bool()) return client_error("normalize must be true or false");
      normalize = v->as_bool();
    }
    return std::nullopt;
  }

  InferResult classify(const InferRequest& req) {
    int k = 1;
    float threshold = 0;
    if (auto e = check_classify(req, k, threshold)) return InferResult::fail(e->cls, std::move(e->message));
    std::string_view text = req.text;
    if (lowercase_ || truncate_bytes_ > 0) text = prepare(text);
    const auto& predictions = session_.predict(text, k, threshold);
    json::array labels;
    labels.reserve(predictions.size());
    for (const auto& [log_prob, index] : predictions) {
      double score = std::min(1.0, std::exp(static_cast<double>(log_prob)));
      labels.push_back(json::object{{"label", labels_[static_cast<std::size_t>(index)]}, {"score", score}});
    }
    InferResponse r;
    r.json = json::object{{"labels", std::move(labels)}};
    return InferResult::ok(std::move(r));
  }

  std::string_view prepare(std::string_view text) {
    if (truncate_bytes_ > 0 && text.size() > truncate_bytes_) {
      auto cut = text.substr(0, truncate_bytes_).rfind(' ');
      text = text.substr(0, cut == std::string_view::npos || cut == 0 ? truncate_bytes_ : cut);
    }
    prepared_.assign(text);
    if (lowercase_)
      for (auto& c : prepared_)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return prepared_;
  }

  InferResult embed(const InferRequest& req) {
    bool normalize = true;
    if (auto e = check_embed(req, normalize)) return InferResult::fail(e->cls, std::move(e->message));
    json::array vectors;
    vectors.reserve(req.texts.size());
    for (const auto& text : req.texts) {
      session_.sentence_vector(text, vector_);
      float scale = 1.0f;
      if (normalize) {
        double sq = 0;
        for (float x : vector_) sq += static_cast<double>(x) * x;
        if (sq > 0) scale = static_cast<float>(1.0 / std::sqrt(sq));
      }
      json::array v;
      v.reserve(vector_.size());
      for (float x : vector_) v.emplace_back(json_float(x * scale));
      vectors.emplace_back(std::move(v));
    }
    InferResponse r;
    r.json = json::object{{"dim", model_->dim()}, {"vectors", std::move(vectors)}};
    return InferResult::ok(std::move(r));
  }

  std::shared_ptr<const FastTextModel> model_;
  FastTextSession session_;
  std::string task_;
  std::vector<std::string> labels_;  // prefix stripped, by label index
  int default_top_k_ = 1;
  std::size_t max_texts_ = 256;
  bool normalize_ = true;
  bool lowercase_ = false;
  std::size_t truncate_bytes_ = 0;
  std::string prepared_;
  std::int64_t max_input_bytes_ = 0;
  std::vector<float> vector_;
};

}  // namespace

std::unique_ptr<serval::serving::Runtime> make_fasttext_runtime(const LoadContext& ctx) {
  auto model = FastTextModel::load(model_file(ctx));
  return std::make_unique<FastTextRuntime>(ctx, std::move(model));
}

const FastTextModel* fasttext_model_of(const serval::serving::Runtime& runtime) {
  auto* rt = dynamic_cast<const FastTextRuntime*>(&runtime);
  return rt ? &rt->model() : nullptr;
}

}  // namespace serval::runtimes::fasttext
