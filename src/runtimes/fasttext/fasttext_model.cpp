#include "runtimes/fasttext/fasttext_model.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace serval::runtimes::fasttext {

namespace fs = std::filesystem;

namespace {

struct CacheKey {
  std::string path;
  std::uintmax_t bytes;
  fs::file_time_type::rep mtime;
  auto operator<=>(const CacheKey&) const = default;
};

struct Cache {
  std::mutex mu;  // held while loading: a second instance waits for the first and shares its model
  std::map<CacheKey, std::weak_ptr<const FastTextModel>> models;
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: runtimes may be released during exit
  return *c;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

}  // namespace

std::shared_ptr<const FastTextModel> FastTextModel::load(const fs::path& file) {
  std::error_code ec;
  fs::path canonical = fs::canonical(file, ec);
  if (ec || !fs::is_regular_file(canonical, ec))
    throw std::runtime_error("fastText model file not found: " + file.string());
  CacheKey key{canonical.string(), fs::file_size(canonical, ec), fs::last_write_time(canonical, ec).time_since_epoch().count()};

  auto& c = cache();
  std::lock_guard lock(c.mu);
  if (auto it = c.models.find(key); it != c.models.end()) {
    if (auto alive = it->second.lock()) return alive;
  }
  std::erase_if(c.models, [](const auto& kv) { return kv.second.expired(); });

  std::shared_ptr<FastTextModel> m(new FastTextModel());
  try {
    m->ft_.loadModel(canonical.string());
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot load fastText model " + file.string() + ": " + e.what());
  }
  const ::fasttext::Args args = m->ft_.getArgs();
  const auto& dict = m->ft_.dict();
  m->supervised_ = args.model == ::fasttext::model_name::sup;
  m->quantized_ = m->ft_.isQuant();
  m->dim_ = m->ft_.getDimension();
  m->words_ = dict.nwords();
  m->label_prefix_ = args.label;
  m->raw_labels_.reserve(static_cast<std::size_t>(dict.nlabels()));
  for (std::int32_t i = 0; i < dict.nlabels(); ++i) m->raw_labels_.push_back(dict.getLabel(i));
  m->path_ = canonical;
  m->file_bytes_ = key.bytes;
  c.models[key] = m;
  return m;
}

std::string_view FastTextModel::model_kind() const noexcept {
  switch (ft_.getArgs().model) {
    case ::fasttext::model_name::sup: return "supervised";
    case ::fasttext::model_name::sg: return "skipgram";
    case ::fasttext::model_name::cbow: return "cbow";
  }
  return "unknown";
}

FastTextSession::FastTextSession(const FastTextModel& model)
    : model_(model),
      state_(model.dim(), std::max(model.label_count(), 1), 0),
      word_vec_(model.dim()),
      sentence_vec_(model.dim()) {
  line_.reserve(4096);
  word_.reserve(64);
  words_.reserve(1024);
}

void FastTextSession::load_line(std::string_view text) {
  // One line, as fastText wants it, ending in the newline that makes its end-of-sentence token
  // (the python binding and the CLI read lines the same way).
  line_.assign(text);
  std::replace(line_.begin(), line_.end(), '\n', ' ');
  line_.push_back('\n');
  buf_.reset(line_.data(), line_.size());
  in_.clear();
}

const ::fasttext::Predictions& FastTextSession::predict(std::string_view text, int k, float threshold) {
  predictions_.clear();
  load_line(text);
  model_.ft_.dict().getLine(in_, words_, labels_);
  if (words_.empty()) return predictions_;
  model_.ft_.model().predict(words_, k, threshold, predictions_, state_);
  return predictions_;
}

void FastTextSession::sentence_vector(std::string_view text, std::span<float> out) {
  sentence_vec_.zero();
  if (model_.supervised()) {
    load_line(text);
    model_.ft_.dict().getLine(in_, words_, labels_);
    for (std::int32_t id : words_) model_.ft_.add_input_vector(sentence_vec_, id);
    if (!words_.empty()) sentence_vec_.mul(1.0f / static_cast<float>(words_.size()));
  } else {
    int count = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && is_space(text[i])) ++i;
      std::size_t start = i;
      while (i < text.size() && !is_space(text[i])) ++i;
      if (i == start) break;
      word_.assign(text.substr(start, i - start));
      model_.ft_.getWordVector(word_vec_, word_);
      float norm = word_vec_.norm();
      if (norm > 0) {
        word_vec_.mul(1.0f / norm);
        sentence_vec_.addVector(word_vec_);
        ++count;
      }
    }
    if (count > 0) sentence_vec_.mul(1.0f / static_cast<float>(count));
  }
  std::copy_n(sentence_vec_.data(), std::min<std::size_t>(out.size(), static_cast<std::size_t>(model_.dim())), out.begin());
}

}  // namespace serval::runtimes::fasttext
