#include "runtimes/fasttext/fasttext_runtime.hpp"

#include <gtest/gtest.h>

#include <time.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>

#include "runtimes/fasttext/fasttext_model.hpp"
#include "serval/serving/model_spec.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using serval::runtimes::fasttext::fasttext_model_of;
using serval::runtimes::fasttext::FastTextModel;
using serval::runtimes::fasttext::FastTextSession;
using serval::runtimes::fasttext::make_fasttext_runtime;
using serval::serving::ErrorClass;
using serval::serving::InferRequest;
using serval::serving::InferResult;
using serval::serving::ModelSpec;
using serval::serving::Runtime;

const fs::path kLangidDir = SERVAL_SOURCE_DIR "/models/langid/1";

ModelSpec langid_spec() {
  ModelSpec s;
  s.name = "langid";
  s.runtime = "fasttext";
  s.task = "classify";
  s.max_input_bytes = 4096;
  return s;
}

std::vector<InferResult> run(Runtime& rt, std::vector<InferRequest>& requests) {
  std::vector<InferRequest*> ptrs;
  for (auto& r : requests) ptrs.push_back(&r);
  std::vector<InferResult> out(requests.size());
  rt.execute(ptrs, out);
  return out;
}

InferRequest text_request(std::string text, json::object params = {}) {
  InferRequest r;
  r.text = std::move(text);
  r.params = std::move(params);
  return r;
}

const json::array& labels_of(const InferResult& r) { return r.value().json.at("labels").as_array(); }

TEST(FastTextClassify, Lid176FindsTheLanguage) {
  ModelSpec spec = langid_spec();
  auto rt = make_fasttext_runtime({spec, kLangidDir, 1});
  struct Case {
    const char* text;
    const char* lang;
    double reference;  // the python fasttext binding's score for the same text
  };
  const Case cases[] = {
      {"The quick brown fox jumps over the lazy dog and runs into the forest.", "en", 0.89061242},
      {"Bonjour, je voudrais réserver une table pour deux personnes ce soir.", "fr", 0.998894274},
      {"Ich möchte heute Abend einen Tisch für zwei Personen reservieren.", "de", 0.998056173},
      {"今日はとても良い天気ですね。散歩に行きましょう。", "ja", 0.996327579},
      {"Me gustaría reservar una mesa para dos personas esta noche, por favor.", "es", 0.95682126},
  };
  std::vector<InferRequest> reqs;
  for (const auto& c : cases) reqs.push_back(text_request(c.text));
  auto out = run(*rt, reqs);
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    ASSERT_TRUE(out[i].has_value()) << out[i].error().message;
    const auto& labels = labels_of(out[i]);
    ASSERT_EQ(labels.size(), 1u);
    EXPECT_EQ(labels[0].at("label").as_string(), cases[i].lang) << cases[i].text;
    double score = labels[0].at("score").as_double();
    EXPECT_GT(score, 0.5) << cases[i].text;
    EXPECT_NEAR(score, cases[i].reference, 1e-5) << cases[i].text;
  }
}

TEST(FastTextClassify, TopKSortedAndThreshold) {
  ModelSpec spec = langid_spec();
  auto rt = make_fasttext_runtime({spec, kLangidDir, 1});
  std::vector<InferRequest> reqs;
  reqs.push_back(text_request("The quick brown fox jumps over the lazy dog and runs into the forest.", {{"top_k", 3}}));
  reqs.push_back(text_request("The quick brown fox jumps\nover the lazy dog\nand runs into the forest.", {{"top_k", 3}}));
  reqs.push_back(text_request("The quick brown fox jumps over the lazy dog.", {{"top_k", 176}, {"threshold", 0.05}}));
  auto out = run(*rt, reqs);
  ASSERT_TRUE(out[0].has_value());
  const auto& labels = labels_of(out[0]);
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0].at("label").as_string(), "en");
  EXPECT_EQ(labels[1].at("label").as_string(), "de");  // as the python binding ranks them
  EXPECT_EQ(labels[2].at("label").as_string(), "nl");
  for (std::size_t i = 1; i < labels.size(); ++i)
    EXPECT_GE(labels[i - 1].at("score").as_double(), labels[i].at("score").as_double());
  // Newlines are read as spaces: the same answer.
  ASSERT_TRUE(out[1].has_value());
  EXPECT_EQ(json::serialize(out[1].value().json), json::serialize(out[0].value().json));
  // threshold drops the unlikely labels even with a large top_k.
  ASSERT_TRUE(out[2].has_value());
  EXPECT_GE(labels_of(out[2]).size(), 1u);
  EXPECT_LT(labels_of(out[2]).size(), 10u);
  for (const auto& l : labels_of(out[2])) EXPECT_GE(l.at("score").as_double(), 0.05);
}

TEST(FastTextClassify, BadRequestsFailAloneInABatch) {
  ModelSpec spec = langid_spec();
  spec.parameters = {{"top_k", 2}};
  auto rt = make_fasttext_runtime({spec, kLangidDir, 1});
  std::vector<InferRequest> reqs;
  reqs.push_back(text_request("Bonjour tout le monde, comment allez-vous aujourd'hui ?"));
  reqs.push_back(text_request(""));
  reqs.push_back(text_request("Guten Morgen, wie geht es Ihnen heute?", {{"top_k", 0}}));
  reqs.push_back(text_request(std::string(5000, 'a')));
  reqs.push_back(text_request("Hola", {{"threshold", "high"}}));
  reqs.push_back(text_request("Buongiorno a tutti, come state oggi?"));
  reqs.push_back(text_request("  \n\t "));
  reqs.push_back(text_request("\xff\xfe broken utf-8 \xc3"));  // bytes are fine for fastText
  auto out = run(*rt, reqs);
  ASSERT_EQ(out.size(), reqs.size());
  ASSERT_TRUE(out[0].has_value());
  EXPECT_EQ(labels_of(out[0]).size(), 2u);  // parameters.top_k is the default
  EXPECT_EQ(labels_of(out[0])[0].at("label").as_string(), "fr");
  ASSERT_FALSE(out[1].has_value());
  EXPECT_EQ(out[1].error().cls, ErrorClass::Client);
  EXPECT_EQ(out[1].error().message, "text must not be empty");
  ASSERT_FALSE(out[2].has_value());
  EXPECT_EQ(out[2].error().message, "top_k must be an integer between 1 and 176");
  ASSERT_FALSE(out[3].has_value());
  EXPECT_EQ(out[3].error().message, "input is 5000 bytes; this model accepts at most 4096");
  ASSERT_FALSE(out[4].has_value());
  EXPECT_EQ(out[4].error().message, "threshold must be a number between 0 and 1");
  ASSERT_TRUE(out[5].has_value());
  EXPECT_EQ(labels_of(out[5])[0].at("label").as_string(), "it");
  ASSERT_FALSE(out[6].has_value());
  EXPECT_EQ(out[6].error().cls, ErrorClass::Client);
  ASSERT_TRUE(out[7].has_value());
  // validate() answers the same on the event loop.
  EXPECT_EQ(rt->validate(reqs[1])->message, "text must not be empty");
  EXPECT_FALSE(rt->validate(reqs[0]).has_value());
}

TEST(FastTextClassify, InstancesShareOneModel) {
  ModelSpec spec = langid_spec();
  spec.instances = 2;
  auto a = make_fasttext_runtime({spec, kLangidDir, 1});
  auto b = make_fasttext_runtime({spec, kLangidDir, 1});
  ASSERT_NE(fasttext_model_of(*a), nullptr);
  EXPECT_EQ(fasttext_model_of(*a), fasttext_model_of(*b));
  // ...and both use it from their own threads at once.
  auto work = [](Runtime& rt, int& correct) {
    for (int i = 0; i < 500; ++i) {
      std::vector<InferRequest> reqs;
      reqs.push_back(text_request(i % 2 ? "Das ist ein schöner Tag im Park." : "C'est une belle journée au parc."));
      auto out = run(rt, reqs);
      if (out[0].has_value() && labels_of(out[0])[0].at("label").as_string() == (i % 2 ? "de" : "fr")) ++correct;
    }
  };
  int ca = 0, cb = 0;
  std::thread ta(work, std::ref(*a), std::ref(ca));
  std::thread tb(work, std::ref(*b), std::ref(cb));
  ta.join();
  tb.join();
  EXPECT_EQ(ca, 500);
  EXPECT_EQ(cb, 500);
  // A new file path (even the same file through a symlink) resolves to the same cached model.
  fs::path link = fs::temp_directory_path() / ("serval_ft_link_" + std::to_string(::getpid()) + ".ftz");
  fs::create_symlink(kLangidDir / "lid.176.ftz", link);
  EXPECT_EQ(FastTextModel::load(link).get(), fasttext_model_of(*a));
  fs::remove(link);
}

TEST(FastTextClassify, DescribeAndLoadChecks) {
  ModelSpec spec = langid_spec();
  auto rt = make_fasttext_runtime({spec, kLangidDir, 1});
  json::object d = rt->describe();
  EXPECT_EQ(d.at("labels").as_int64(), 176);
  EXPECT_EQ(d.at("dim").as_int64(), 16);
  EXPECT_EQ(d.at("file").as_string(), "lid.176.ftz");
  EXPECT_EQ(d.at("bytes").to_number<std::int64_t>(), static_cast<std::int64_t>(fs::file_size(kLangidDir / "lid.176.ftz")));
  EXPECT_EQ(d.at("quantized").as_bool(), true);
  const auto& names = d.at("label_names").as_array();
  ASSERT_EQ(names.size(), 176u);
  EXPECT_EQ(names[0].as_string(), "en");

  // Declared labels must be exactly the model's.
  ModelSpec all = langid_spec();
  for (const auto& n : names) all.labels.emplace_back(n.as_string());
  EXPECT_NO_THROW(make_fasttext_runtime({all, kLangidDir, 1}));
  ModelSpec few = langid_spec();
  few.labels = {"en", "fr", "klingon"};
  try {
    make_fasttext_runtime({few, kLangidDir, 1});
    ADD_FAILURE() << "mismatched labels were accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not in the model: klingon"), std::string::npos) << e.what();
  }

  ModelSpec missing = langid_spec();
  missing.parameters = {{"file", "nope.ftz"}};
  EXPECT_THROW(make_fasttext_runtime({missing, kLangidDir, 1}), std::runtime_error);
  ModelSpec bad_task = langid_spec();
  bad_task.task = "ocr";
  EXPECT_THROW(make_fasttext_runtime({bad_task, kLangidDir, 1}), std::runtime_error);
  fs::path empty = fs::temp_directory_path() / ("serval_ft_empty_" + std::to_string(::getpid()));
  fs::create_directories(empty);
  EXPECT_THROW(make_fasttext_runtime({langid_spec(), empty, 1}), std::runtime_error);
  // A file that is not a fastText model.
  std::ofstream(empty / "junk.bin") << "definitely not a model";
  try {
    make_fasttext_runtime({langid_spec(), empty, 1});
    ADD_FAILURE() << "junk was loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.bin"), std::string::npos) << e.what();
  }
  fs::remove_all(empty);
}

// CPU time of this thread, so the figure means something on a busy machine too.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

TEST(FastTextClassify, PredictSpeed) {
  auto model = FastTextModel::load(kLangidDir / "lid.176.ftz");
  FastTextSession session(*model);
  const std::string text = "The quick brown fox jumps over the lazy dog and runs into the forest.";
  for (int i = 0; i < 1000; ++i) session.predict(text, 1, 0.0f);
  constexpr int kRuns = 20000;
  auto t0 = std::chrono::steady_clock::now();
  double c0 = thread_cpu_ns();
  for (int i = 0; i < kRuns; ++i) session.predict(text, 1, 0.0f);
  double session_cpu = (thread_cpu_ns() - c0) / kRuns;
  double session_wall = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kRuns;

  ModelSpec spec = langid_spec();
  auto rt = make_fasttext_runtime({spec, kLangidDir, 1});
  std::vector<InferRequest> reqs(1);
  reqs[0].text = text;
  InferRequest* ptr = &reqs[0];
  std::vector<InferResult> out(1);
  t0 = std::chrono::steady_clock::now();
  c0 = thread_cpu_ns();
  for (int i = 0; i < kRuns; ++i) rt->execute({&ptr, 1}, out);
  double runtime_cpu = (thread_cpu_ns() - c0) / kRuns;
  double runtime_wall = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kRuns;
  std::printf("[ timing ] lid.176, %zu-byte sentence, ns per predict (thread CPU / wall): FastTextSession %.0f / %.0f; "
              "Runtime::execute with its JSON result %.0f / %.0f\n",
              text.size(), session_cpu, session_wall, runtime_cpu, runtime_wall);
  ASSERT_TRUE(out[0].has_value());
  EXPECT_LT(runtime_cpu, 200000);  // a loose bound: only catches something badly wrong
}

// --- embed ---------------------------------------------------------------------------------------

class FastTextEmbed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("serval_ft_embed_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "1");
    // A few hundred KB of Moby-Dick, lower-cased; a tiny skipgram model trains in about a second.
    // Hierarchical softmax (-loss hs) keeps loading fast: negative sampling builds a 10M-entry table.
    std::ifstream in(std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") +
                     "/.cache/serval/npm/datasets/moby-dick/data/data.txt");
    std::ofstream corpus(dir_ / "corpus.txt");
    std::string line;
    for (int i = 0; i < 6000 && std::getline(in, line); ++i) {
      for (char& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      corpus << line << '\n';
    }
    corpus.close();
    std::string cmd = "fasttext skipgram -input " + (dir_ / "corpus.txt").string() + " -output " +
                      (dir_ / "1" / "vectors").string() +
                      " -dim 16 -epoch 1 -minCount 1 -bucket 20000 -loss hs -thread 1 -verbose 0 > /dev/null 2>&1";
    trained_ = std::system(cmd.c_str()) == 0 && fs::exists(dir_ / "1" / "vectors.bin");
    fs::remove(dir_ / "1" / "vectors.vec");  // the folder must hold one model file
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override { ASSERT_TRUE(trained_) << "the fasttext CLI could not train the test model"; }

  static ModelSpec spec() {
    ModelSpec s;
    s.name = "embed";
    s.runtime = "fasttext";
    s.task = "embed";
    s.parameters = {{"max_texts", 4}};
    return s;
  }

  static std::vector<double> vec(const json::value& v) {
    std::vector<double> out;
    for (const auto& x : v.as_array()) out.push_back(x.as_double());
    return out;
  }
  static double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return ab / std::sqrt(aa * bb);
  }

  static inline fs::path dir_;
  static inline bool trained_ = false;
};

TEST_F(FastTextEmbed, VectorsHaveTheDimensionAreUnitLengthAndDeterministic) {
  ModelSpec s = spec();
  auto rt = make_fasttext_runtime({s, dir_ / "1", 1});
  EXPECT_EQ(rt->describe().at("model").as_string(), "skipgram");
  InferRequest req;
  req.texts = {"the whale swam in the deep sea", "the whale swam in the deep ocean",
               "captain ahab ate his breakfast quickly", "the whale swam in the deep sea"};
  std::vector<InferRequest> reqs{req, req};
  auto out = run(*rt, reqs);
  ASSERT_TRUE(out[0].has_value()) << out[0].error().message;
  const auto& j = out[0].value().json.as_object();
  EXPECT_EQ(j.at("dim").as_int64(), 16);
  const auto& vectors = j.at("vectors").as_array();
  ASSERT_EQ(vectors.size(), 4u);
  std::vector<std::vector<double>> v;
  for (const auto& x : vectors) v.push_back(vec(x));
  for (const auto& x : v) {
    ASSERT_EQ(x.size(), 16u);
    double n = 0;
    for (double y : x) n += y * y;
    EXPECT_NEAR(n, 1.0, 1e-5);
  }
  EXPECT_EQ(v[0], v[3]);                                                   // same text, same vector
  EXPECT_EQ(json::serialize(out[1].value().json), json::serialize(out[0].value().json));  // and across calls
  // Sentences sharing most words are closer than unrelated ones (the vector is a mean of word vectors).
  EXPECT_GT(cosine(v[0], v[1]), cosine(v[0], v[2]));
}

TEST_F(FastTextEmbed, NormalizeOffMatchesFastTextSentenceVector) {
  ModelSpec s = spec();
  auto rt = make_fasttext_runtime({s, dir_ / "1", 1});
  InferRequest req;
  req.texts = {"call me ishmael"};
  req.params = {{"normalize", false}};
  std::vector<InferRequest> reqs{req};
  auto out = run(*rt, reqs);
  ASSERT_TRUE(out[0].has_value());
  auto got = vec(out[0].value().json.at("vectors").as_array()[0]);
  // fastText's own getSentenceVector on the same model.
  ::fasttext::FastText ft;
  ft.loadModel((dir_ / "1" / "vectors.bin").string());
  ::fasttext::Vector expected(16);
  std::istringstream in("call me ishmael\n");
  ft.getSentenceVector(in, expected);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(got[i], expected[i], 1e-6);
}

TEST_F(FastTextEmbed, BadRequests) {
  ModelSpec s = spec();
  s.max_input_bytes = 100;
  auto rt = make_fasttext_runtime({s, dir_ / "1", 1});
  std::vector<InferRequest> reqs(5);
  reqs[1].texts = {"a", "b", "c", "d", "e"};
  reqs[2].texts = {std::string(101, 'x')};
  reqs[3].texts = {"fine", ""};  // an empty text embeds as zeros
  reqs[4].texts = {"x"};
  reqs[4].params = {{"normalize", "yes"}};
  auto out = run(*rt, reqs);
  ASSERT_FALSE(out[0].has_value());
  EXPECT_EQ(out[0].error().cls, ErrorClass::Client);
  EXPECT_EQ(out[0].error().message, "texts must not be empty");
  ASSERT_FALSE(out[1].has_value());
  EXPECT_EQ(out[1].error().message, "texts has 5 items; this model takes at most 4 per request");
  ASSERT_FALSE(out[2].has_value());
  EXPECT_EQ(out[2].error().message, "input is 101 bytes; this model accepts at most 100");
  ASSERT_TRUE(out[3].has_value());
  for (const auto& x : out[3].value().json.at("vectors").as_array()[1].as_array()) EXPECT_EQ(x.as_double(), 0.0);
  ASSERT_FALSE(out[4].has_value());
  EXPECT_EQ(out[4].error().message, "normalize must be true or false");

  ModelSpec classify = spec();
  classify.task = "classify";
  try {
    make_fasttext_runtime({classify, dir_ / "1", 1});
    ADD_FAILURE() << "a word-vector model was accepted for classify";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot classify"), std::string::npos) << e.what();
  }
}

}  // namespace
