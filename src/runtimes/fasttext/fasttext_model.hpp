// FastTextModel: one loaded fastText file (.bin or quantized .ftz), shared read-only by every
// runtime instance that uses it, and FastTextSession, the per-instance scratch space that predicts
// and embeds without allocating on the hot path.
//
// fastText 0.9.2's inference is read-only on the model: FastText::predict is const and keeps its
// state (Model::State) on the caller's side; getSentenceVector is not marked const but only reads
// (Dictionary::getLine and getWordVector are const). So one model serves any number of threads,
// each with its own session. load() caches models process-wide by canonical path, size and mtime
// (weak references): two instances of a model share one copy in memory, and the memory goes when
// the last instance does.
//
//   auto model = FastTextModel::load("models/langid/1/lid.176.ftz");
//   FastTextSession s(*model);
//   auto& top = s.predict("Bonjour tout le monde", 3, 0.0f);   // [(log-prob, label index), ...]
//   model->raw_label(top[0].second);                            // "__label__fr"
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <streambuf>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <fasttext/fasttext.h>

namespace serval::runtimes::fasttext {

class FastTextModel {
 public:
  // Loads `file` or returns the copy already loaded. Throws std::runtime_error with the path when
  // the file is missing or not a fastText model.
  static std::shared_ptr<const FastTextModel> load(const std::filesystem::path& file);

  bool supervised() const noexcept { return supervised_; }
  bool quantized() const noexcept { return quantized_; }
  int dim() const noexcept { return dim_; }
  int label_count() const noexcept { return static_cast<int>(raw_labels_.size()); }
  int word_count() const noexcept { return words_; }
  std::string_view model_kind() const noexcept;  // "supervised", "skipgram", "cbow"
  const std::string& raw_label(int i) const { return raw_labels_[static_cast<std::size_t>(i)]; }
  const std::vector<std::string>& raw_labels() const noexcept { return raw_labels_; }
  const std::string& label_prefix() const noexcept { return label_prefix_; }  // the model's own, "__label__"
  const std::filesystem::path& path() const noexcept { return path_; }
  std::uintmax_t file_bytes() const noexcept { return file_bytes_; }

 private:
  friend class FastTextSession;
  // FastText keeps the pieces inference needs protected; this opens them, read-only.
  class Loaded : public ::fasttext::FastText {
   public:
    const ::fasttext::Model& model() const { return *model_; }
    const ::fasttext::Dictionary& dict() const { return *dict_; }
    void add_input_vector(::fasttext::Vector& v, std::int32_t id) const { addInputVector(v, id); }
  };

  FastTextModel() = default;

  Loaded ft_;
  bool supervised_ = false;
  bool quantized_ = false;
  int dim_ = 0;
  int words_ = 0;
  std::vector<std::string> raw_labels_;
  std::string label_prefix_;
  std::filesystem::path path_;
  std::uintmax_t file_bytes_ = 0;
};

// Scratch space for one thread: reused buffers, so a prediction on a warm session allocates
// nothing but fastText's own per-token strings.
class FastTextSession {
 public:
  explicit FastTextSession(const FastTextModel& model);

  // The k most likely labels with probability >= threshold, best first: (log-probability, label
  // index). `text` is one line: newlines are read as spaces. Supervised models only. Valid until the
  // next call.
  const ::fasttext::Predictions& predict(std::string_view text, int k, float threshold);

  // The sentence vector (dim() floats) as fastText computes it: for a supervised model the mean of
  // the input rows of the words and n-grams; otherwise the mean of the unit-length word vectors.
  void sentence_vector(std::string_view text, std::span<float> out);

 private:
  // An istream over the line buffer, rewound for each call (fastText reads words from a stream).
  struct LineBuf : std::streambuf {
    void reset(char* begin, std::size_t n) { setg(begin, begin, begin + n); }
  };
  void load_line(std::string_view text);

  const FastTextModel& model_;
  ::fasttext::Model::State state_;
  ::fasttext::Predictions predictions_;
  std::vector<std::int32_t> words_, labels_;
  ::fasttext::Vector word_vec_, sentence_vec_;
  std::string line_, word_;
  LineBuf buf_;
  std::istream in_{&buf_};
};

}  // namespace serval::runtimes::fasttext
