#include "runtimes/vad/vad_runtime.hpp"

#include <cmath>
#include <map>
#include <stdexcept>
#include <system_error>

#include <boost/json/array.hpp>

#include "runtimes/vad/resample.hpp"
#include "runtimes/vad/segments.hpp"
#include "runtimes/vad/silero.hpp"
#include "runtimes/vad/vad_params.hpp"
#include "runtimes/vad/wav.hpp"

namespace serval::runtimes::vad {

using serving::ErrorClass;
using serving::InferError;
using serving::InferRequest;
using serving::InferResult;

namespace {

constexpr int kMinRate = 8000, kMaxRate = 48000, kModelRate = 16000;

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string file_param(const boost::json::object& p) {
  auto it = p.find("file");
  if (it == p.end()) return "silero_vad.onnx";
  const auto* s = it->value().if_string();
  if (!s || s->empty()) throw std::runtime_error("parameters.file must be a non-empty string");
  return std::string(*s);
}

// One request, decoded and at the rate the model runs it.
struct Prepared {
  VadOptions options;
  std::vector<float> samples;
  int rate = kModelRate;
  double duration_s = 0;
};

class VadRuntime final : public serving::Runtime {
 public:
  explicit VadRuntime(const serving::LoadContext& ctx)
      : file_(file_param(ctx.spec.parameters)), model_(ctx.version_dir / file_, ctx.spec.parameters) {
    if (auto err = read_vad_params(ctx.spec.parameters, defaults_, "parameters."))
      throw std::runtime_error(*err);
    if (defaults_.pcm) throw std::runtime_error("parameters.format is per request, not a model default");
    std::error_code ec;
    bytes_ = std::filesystem::file_size(ctx.version_dir / file_, ec);
    if (ec) bytes_ = 0;
  }

  std::optional<InferError> validate(const InferRequest& req) const override {
    VadParams p;
    if (auto err = params(req, p)) return err;
    if (p.pcm) {
      if (auto err = check_pcm(req.bytes.size(), *p.pcm, p.sample_rate, p.channels)) return client(*err);
      return check_rate(p.sample_rate);
    }
    auto header = parse_wav_header(req.bytes);
    if (!header) return client(header.error);
    return check_rate(header.value->sample_rate);
  }

  void execute(std::span<InferRequest* const> batch, std::span<InferResult> out) override {
    std::vector<Prepared> prepared(batch.size());
    std::map<int, std::vector<std::size_t>> by_rate;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        if (auto err = prepare(*batch[i], prepared[i])) out[i] = InferResult::fail(err->cls, std::move(err->message));
        else by_rate[prepared[i].rate].push_back(i);
      } catch (const std::exception& e) {
        out[i] = InferResult::fail(ErrorClass::Inference, e.what());
      }
    }
    for (const auto& [rate, members] : by_rate) {
      try {
        run(prepared, members, out);
      } catch (const std::exception&) {
        // Give each request its own run so one that breaks the model fails alone.
        for (auto i : members) {
          try {
            const std::size_t one[] = {i};
            run(prepared, one, out);
          } catch (const std::exception& e) {
            out[i] = InferResult::fail(ErrorClass::Inference, std::string("Silero VAD failed: ") + e.what());
          }
        }
      }
    }
  }

  boost::json::object describe() const override {
    boost::json::array rates;
    if (model_.supports(8000)) rates.push_back(8000);
    rates.push_back(16000);
    boost::json::object windows, contexts;
    for (const auto& r : rates) {
      const int rate = static_cast<int>(r.as_int64());
      windows[std::to_string(rate)] = SileroModel::window_size(rate);
      contexts[std::to_string(rate)] = SileroModel::context_size(rate);
    }
    const auto& o = defaults_.options;
    return {{"model", "silero_vad"},
            {"version", model_.version()},
            {"file", file_},
            {"bytes", bytes_},
            {"sample_rates", rates},
            {"window_samples", windows},
            {"context_samples", contexts},
            {"input_sample_rates", {kMinRate, kMaxRate}},
            {"resampling", "other rates from 8000 to 48000 Hz: polyphase windowed sinc (Blackman) to 16000 Hz"},
            {"formats", {"wav", "pcm_s16le", "pcm_f32le"}},
            {"defaults",
             {{"threshold", o.threshold},
              {"neg_threshold", o.neg_threshold >= 0 ? o.neg_threshold : std::max(o.threshold - 0.15, 0.01)},
              {"min_speech_ms", o.min_speech_ms},
              {"min_silence_ms", o.min_silence_ms},
              {"speech_pad_ms", o.speech_pad_ms}}}};
  }

 private:
  static InferError client(std::string message) { return InferError{ErrorClass::Client, std::move(message)}; }

  static std::optional<InferError> check_rate(int rate) {
    if (rate < kMinRate || rate > kMaxRate)
      return client("sample rate " + std::to_string(rate) + " Hz is not supported (8000 to 48000 Hz)");
    return std::nullopt;
  }

  std::optional<InferError> params(const InferRequest& req, VadParams& p) const {
    p = defaults_;
    if (auto err = read_vad_params(req.params, p)) return client(*err);
    if (req.bytes.empty())
      return client(p.pcm ? "no audio: the request body is empty"
                          : "no audio: send a WAV file (or raw PCM with params.format and params.sample_rate)");
    return std::nullopt;
  }

  std::optional<InferError> prepare(const InferRequest& req, Prepared& out) const {
    VadParams p;
    if (auto err = params(req, p)) return err;
    Parsed<Audio> audio = p.pcm ? parse_pcm(req.bytes, *p.pcm, p.sample_rate, p.channels) : parse_wav(req.bytes);
    if (!audio) return client(audio.error);
    if (auto err = check_rate(audio.value->sample_rate)) return err;
    out.options = p.options;
    const int rate = audio.value->sample_rate;
    out.duration_s = static_cast<double>(audio.value->samples.size()) / rate;
    if (model_.supports(rate)) {
      out.rate = rate;
      out.samples = std::move(audio.value->samples);
    } else {
      out.rate = kModelRate;
      out.samples = resample(audio.value->samples, rate, kModelRate);
    }
    return std::nullopt;
  }

  // One batched model call for `members` (all at one rate), then each request's segments.
  void run(std::vector<Prepared>& prepared, std::span<const std::size_t> members, std::span<InferResult> out) {
    const int rate = prepared[members.front()].rate;
    std::vector<std::span<const float>> streams;
    for (auto i : members) streams.emplace_back(prepared[i].samples);
    auto probs = model_.probabilities(streams, rate);
    for (std::size_t k = 0; k < members.size(); ++k) {
      const Prepared& p = prepared[members[k]];
      auto segments = speech_segments(probs[k], static_cast<std::int64_t>(p.samples.size()), rate,
                                      SileroModel::window_size(rate), p.options);
      boost::json::array segs;
      for (const auto& s : segments) {
        segs.push_back({{"start_s", round3(static_cast<double>(s.start) / rate)},
                        {"end_s", round3(static_cast<double>(s.end) / rate)},
                        {"confidence", round3(s.confidence)}});
      }
      serving::InferResponse response;
      response.json = boost::json::object{{"sample_rate", rate}, {"duration_s", round3(p.duration_s)},
                                          {"segments", std::move(segs)}};
      out[members[k]] = InferResult::ok(std::move(response));
    }
  }

  std::string file_;
  SileroModel model_;
  VadParams defaults_;
  std::uintmax_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<serving::Runtime> make_vad_runtime(const serving::LoadContext& ctx) {
  return std::make_unique<VadRuntime>(ctx);
}

}  // namespace serval::runtimes::vad
