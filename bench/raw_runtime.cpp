// serval_raw_bench: drives one model's runtime directly — no HTTP, no queue, no batcher — in a
// loop at a fixed batch size, on one thread: the "raw" side of bench/models_bench.sh's served-vs-raw
// comparison. The model is built exactly as `serval serve` builds it (model.yaml + factory).
//
//   serval_raw_bench --models-dir models --model langid --inputs sentences.txt --batch 16 --seconds 10
//   serval_raw_bench --models-dir models --model ocr --images lines/ --param mode=recognize --batch 8
//
// Prints one JSON line: {"model","batch","requests","seconds","throughput","batch_ms_p50","batch_ms_p99"}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "serval/serving/model_spec.hpp"
#include "serval/serving/runtime.hpp"

namespace fs = std::filesystem;
using namespace serval::serving;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int usage() {
  std::fputs("usage: serval_raw_bench --models-dir DIR --model NAME [--version N] (--inputs FILE | --images DIR)\n"
             "                        [--batch N] [--seconds S] [--param key=value]...\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string models_dir = "models", model, inputs, images;
  int version = 1, batch = 1;
  double seconds = 10;
  boost::json::object params;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--models-dir") models_dir = next();
    else if (a == "--model") model = next();
    else if (a == "--version") version = std::stoi(next());
    else if (a == "--inputs") inputs = next();
    else if (a == "--images") images = next();
    else if (a == "--batch") batch = std::stoi(next());
    else if (a == "--seconds") seconds = std::stod(next());
    else if (a == "--param") {
      std::string kv = next();
      auto eq = kv.find('=');
      if (eq == std::string::npos) return usage();
      params[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else return usage();
  }
  if (model.empty() || (inputs.empty() && images.empty()) || batch < 1) return usage();

  const fs::path dir = fs::path(models_dir) / model;
  ModelSpec spec = parse_model_spec(slurp(dir / "model.yaml"), model);
  register_builtin_runtimes();
  const RuntimeFactory* factory = find_runtime(spec.runtime);
  if (!factory) {
    std::fprintf(stderr, "unknown runtime %s\n", spec.runtime.c_str());
    return 1;
  }
  LoadContext ctx{spec, dir / std::to_string(version), version};
  auto runtime = (*factory)(ctx);

  std::vector<InferRequest> pool;
  if (!inputs.empty()) {
    std::ifstream in(inputs);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      InferRequest r;
      if (spec.task == "embed") r.texts = {line};
      else r.text = line;
      r.params = params;
      pool.push_back(std::move(r));
    }
  } else {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(images)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      InferRequest r;
      r.bytes = slurp(f);
      r.params = params;
      pool.push_back(std::move(r));
    }
  }
  if (pool.empty()) {
    std::fputs("no inputs\n", stderr);
    return 1;
  }

  std::vector<InferRequest> work(static_cast<std::size_t>(batch));
  std::vector<InferRequest*> ptrs(static_cast<std::size_t>(batch));
  std::vector<InferResult> results(static_cast<std::size_t>(batch));
  std::vector<double> batch_ms;
  std::size_t next_input = 0, done = 0, failed = 0;
  auto run_one = [&] {
    for (int i = 0; i < batch; ++i) {
      work[static_cast<std::size_t>(i)] = pool[next_input++ % pool.size()];  // a copy, as a request would be
      ptrs[static_cast<std::size_t>(i)] = &work[static_cast<std::size_t>(i)];
    }
    const auto t0 = std::chrono::steady_clock::now();
    runtime->execute(std::span<InferRequest* const>(ptrs), std::span<InferResult>(results));
    const auto t1 = std::chrono::steady_clock::now();
    for (auto& r : results) failed += r ? 0 : 1;
    done += static_cast<std::size_t>(batch);
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
  };
  // Warm-up, then the timed loop.
  const auto warm_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(std::min(2.0, seconds / 5) * 1000));
  while (std::chrono::steady_clock::now() < warm_until) run_one();
  done = failed = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::microseconds(static_cast<long long>(seconds * 1e6));
  while (std::chrono::steady_clock::now() < end) batch_ms.push_back(run_one());
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(batch_ms.begin(), batch_ms.end());
  auto pct = [&](double q) { return batch_ms[std::min(batch_ms.size() - 1, static_cast<std::size_t>(q * batch_ms.size()))]; };
  boost::json::object out{{"model", model},          {"batch", batch},
                          {"requests", done},        {"failed", failed},
                          {"seconds", elapsed},      {"throughput", static_cast<double>(done) / elapsed},
                          {"batch_ms_p50", pct(0.5)}, {"batch_ms_p99", pct(0.99)}};
  std::puts(boost::json::serialize(out).c_str());
  return failed ? 1 : 0;
}
