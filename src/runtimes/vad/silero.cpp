#include "runtimes/vad/silero.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "runtimes/onnx/ort_env.hpp"

namespace serval::runtimes::vad {

namespace {
constexpr std::int64_t kStateSize = 128;

Ort::Session open(const std::filesystem::path& file, const boost::json::object& parameters) {
  if (!std::filesystem::is_regular_file(file)) throw std::runtime_error("Silero VAD model not found: " + file.string());
  Ort::SessionOptions options = onnx::session_options(parameters);
  // The v5 export carries a few unused initializers; ONNX Runtime warns about each at every load.
  options.SetLogSeverityLevel(ORT_LOGGING_LEVEL_ERROR);
  try {
    return Ort::Session(onnx::env(), file.c_str(), options);
  } catch (const Ort::Exception& e) {
    throw std::runtime_error("cannot load " + file.string() + ": " + e.what());
  }
}
}  // namespace

SileroModel::SileroModel(const std::filesystem::path& file, const boost::json::object& parameters)
    : session_(open(file, parameters)) {
  Ort::AllocatorWithDefaultOptions allocator;
  for (std::size_t i = 0; i < session_.GetInputCount(); ++i)
    input_names_.emplace_back(session_.GetInputNameAllocated(i, allocator).get());
  for (std::size_t i = 0; i < session_.GetOutputCount(); ++i)
    output_names_.emplace_back(session_.GetOutputNameAllocated(i, allocator).get());
  auto has = [](const std::vector<std::string>& v, const char* name) {
    return std::find(v.begin(), v.end(), name) != v.end();
  };
  std::string inputs;
  for (const auto& n : input_names_) inputs += (inputs.empty() ? "" : ", ") + n;
  if (has(input_names_, "h") && has(input_names_, "c"))
    throw std::runtime_error(file.filename().string() + " looks like Silero VAD v4 (inputs " + inputs +
                             "); only v5 models (input, state, sr) are supported");
  const bool v5 = has(input_names_, "input") && has(input_names_, "state") && output_names_.size() == 2 &&
                  input_names_.size() <= 3;
  has_sr_ = has(input_names_, "sr");
  if (!v5 || (input_names_.size() == 3 && !has_sr_))
    throw std::runtime_error(file.filename().string() + " is not a Silero VAD v5 model (inputs " + inputs +
                             "; expected input, state and optionally sr)");
  for (std::size_t i = 0; i < session_.GetInputCount(); ++i) {
    if (input_names_[i] != "state") continue;
    auto shape = session_.GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
    if (shape.size() != 3 || shape[0] != 2 || shape[2] != kStateSize)
      throw std::runtime_error(file.filename().string() + ": state input is not [2, batch, 128]");
  }
  // The probability is the [B, 1] output; the other one is the next state.
  auto shape0 = session_.GetOutputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape();
  if (shape0.size() != 2) std::swap(prob_output_, state_output_);
}

std::vector<std::vector<float>> SileroModel::probabilities(std::span<const std::span<const float>> streams,
                                                           int sample_rate) {
  if (!supports(sample_rate))
    throw std::invalid_argument("Silero VAD: unsupported sample rate " + std::to_string(sample_rate));
  const std::int64_t window = window_size(sample_rate), context = context_size(sample_rate);
  const std::int64_t row = context + window;
  std::vector<std::vector<float>> probs(streams.size());
  // Longest first, so the streams still running at step t are a prefix.
  std::vector<std::size_t> order(streams.size());
  std::iota(order.begin(), order.end(), 0);
  auto windows = [&](std::size_t s) { return (static_cast<std::int64_t>(streams[s].size()) + window - 1) / window; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return windows(a) > windows(b); });
  for (std::size_t s = 0; s < streams.size(); ++s) probs[s].reserve(static_cast<std::size_t>(windows(s)));
  if (order.empty() || windows(order.front()) == 0) return probs;

  std::int64_t batch = 0;
  while (batch < static_cast<std::int64_t>(order.size()) && windows(order[static_cast<std::size_t>(batch)]) > 0) ++batch;
  std::vector<float> state(static_cast<std::size_t>(2 * batch * kStateSize), 0.f);
  std::vector<float> input(static_cast<std::size_t>(batch * row), 0.f);  // context of each row starts at zero
  std::int64_t sr_value = sample_rate;
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<const char*> in_names, out_names;
  for (const auto& n : input_names_) in_names.push_back(n.c_str());
  for (const auto& n : output_names_) out_names.push_back(n.c_str());

  const std::int64_t steps = windows(order.front());
  for (std::int64_t t = 0; t < steps; ++t) {
    std::int64_t active = batch;
    while (active > 0 && windows(order[static_cast<std::size_t>(active - 1)]) <= t) --active;
    if (active < batch) {  // drop the ended streams: state [2, batch, 128] -> [2, active, 128]
      std::memmove(state.data() + active * kStateSize, state.data() + batch * kStateSize,
                   static_cast<std::size_t>(active * kStateSize) * sizeof(float));
      batch = active;
      state.resize(static_cast<std::size_t>(2 * batch * kStateSize));
    }
    for (std::int64_t b = 0; b < batch; ++b) {
      float* r = input.data() + b * row;
      if (t > 0) std::memmove(r, r + row - context, static_cast<std::size_t>(context) * sizeof(float));
      const auto& s = streams[order[static_cast<std::size_t>(b)]];
      const std::int64_t begin = t * window;
      const std::int64_t n = std::min<std::int64_t>(window, static_cast<std::int64_t>(s.size()) - begin);
      std::memcpy(r + context, s.data() + begin, static_cast<std::size_t>(n) * sizeof(float));
      std::fill(r + context + n, r + row, 0.f);
    }
    const std::int64_t input_shape[] = {batch, row};
    const std::int64_t state_shape[] = {2, batch, kStateSize};
    std::vector<Ort::Value> values;
    for (const auto& name : input_names_) {
      if (name == "input")
        values.push_back(Ort::Value::CreateTensor<float>(memory, input.data(), static_cast<std::size_t>(batch * row),
                                                         input_shape, 2));
      else if (name == "state")
        values.push_back(Ort::Value::CreateTensor<float>(memory, state.data(), state.size(), state_shape, 3));
      else
        values.push_back(Ort::Value::CreateTensor<std::int64_t>(memory, &sr_value, 1, nullptr, 0));
    }
    auto out = session_.Run(Ort::RunOptions{nullptr}, in_names.data(), values.data(), values.size(),
                            out_names.data(), out_names.size());
    const float* p = out[prob_output_].GetTensorData<float>();
    const auto next_count = out[state_output_].GetTensorTypeAndShapeInfo().GetElementCount();
    if (out[prob_output_].GetTensorTypeAndShapeInfo().GetElementCount() != static_cast<std::size_t>(batch) ||
        next_count != state.size())
      throw std::runtime_error("Silero VAD returned outputs of unexpected sizes");
    for (std::int64_t b = 0; b < batch; ++b) probs[order[static_cast<std::size_t>(b)]].push_back(p[b]);
    std::memcpy(state.data(), out[state_output_].GetTensorData<float>(), state.size() * sizeof(float));
  }
  return probs;
}

}  // namespace serval::runtimes::vad

