#include "runtimes/ocr/ocr_runtime.hpp"

#include <exception>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>

#include "runtimes/ocr/image_decode.hpp"
#include "runtimes/ocr/ocr_pipeline.hpp"

namespace serval::runtimes::ocr {

namespace {

using serving::ErrorClass;
using serving::InferError;
using serving::InferRequest;
using serving::InferResponse;
using serving::InferResult;

struct RequestOptions {
  bool recognize_only = false;
  float drop_score = 0;
};

// Checks what can be checked without decoding: the bytes and the params.
std::optional<InferError> check_request(const InferRequest& r, std::int64_t max_input_bytes, RequestOptions* opts,
                                        float default_drop_score) {
  auto client = [](std::string m) { return InferError{ErrorClass::Client, std::move(m)}; };
  if (r.bytes.empty()) return client("the request has no image: expected PNG or JPEG bytes");
  if (static_cast<std::int64_t>(r.bytes.size()) > max_input_bytes)
    return client("the image is " + std::to_string(r.bytes.size()) + " bytes, more than the model's limit of " +
                  std::to_string(max_input_bytes));
  if (!looks_like_png_or_jpeg(r.bytes)) return client("expected a PNG or JPEG image");
  RequestOptions o{false, default_drop_score};
  if (auto it = r.params.find("mode"); it != r.params.end()) {
    const auto* s = it->value().if_string();
    if (!s || (*s != "ocr" && *s != "recognize"))
      return client("params.mode must be \"ocr\" (detect and read lines) or \"recognize\" (the image is one line)");
    o.recognize_only = *s == "recognize";
  }
  if (auto it = r.params.find("drop_score"); it != r.params.end()) {
    const auto& v = it->value();
    double x = v.is_double() ? v.as_double() : v.is_int64() ? static_cast<double>(v.as_int64()) : -1;
    if (!(x >= 0 && x <= 1)) return client("params.drop_score must be a number in [0, 1]");
    o.drop_score = static_cast<float>(x);
  }
  if (opts) *opts = o;
  return std::nullopt;
}

boost::json::array box_json(const Quad& q) {
  boost::json::array a;
  for (const auto& p : q.pts) a.push_back(boost::json::array{std::lround(p.x), std::lround(p.y)});
  return a;
}

class OcrRuntime final : public serving::Runtime {
 public:
  explicit OcrRuntime(const serving::LoadContext& ctx)
      : pipeline_(ctx.version_dir, ctx.spec.parameters), max_input_bytes_(ctx.spec.max_input_bytes) {}

  std::optional<InferError> validate(const InferRequest& r) const override {
    return check_request(r, max_input_bytes_, nullptr, 0);
  }

  boost::json::object describe() const override { return pipeline_.describe(); }

  void execute(std::span<InferRequest* const> batch, std::span<InferResult> out) override {
    try {
      run(batch, out);
    } catch (const std::exception& e) {  // run() isolates failures; this is the last guard
      for (auto& r : out)
        if (!r.has_value() && r.error().cls != ErrorClass::Client)
          r = InferResult::fail(ErrorClass::Inference, std::string("ocr: ") + e.what());
    }
  }

 private:
  struct Job {
    std::size_t request;
    cv::Mat image;
    RequestOptions opts;
    std::vector<Quad> boxes;
    std::vector<std::size_t> lines;  // indices into the shared line list
    bool failed = false;
  };

  void run(std::span<InferRequest* const> batch, std::span<InferResult> out) {
    const auto& o = pipeline_.options();
    std::vector<Job> jobs;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      RequestOptions ro;
      if (auto err = check_request(*batch[i], max_input_bytes_, &ro, o.drop_score)) {
        out[i] = InferResult::fail(err->cls, std::move(err->message));
        continue;
      }
      auto img = decode_image(batch[i]->bytes, o.max_pixels);
      if (auto* msg = std::get_if<std::string>(&img)) {
        out[i] = InferResult::fail(ErrorClass::Client, std::move(*msg));
        continue;
      }
      jobs.push_back(Job{i, std::get<cv::Mat>(std::move(img)), ro, {}, {}, false});
    }
    detect(jobs, out);

    // Every line of every image in one list: cls and rec batch across requests.
    std::vector<cv::Mat> lines;
    std::vector<cv::Mat> to_orient;
    std::vector<std::size_t> oriented_at;
    for (auto& job : jobs) {
      if (job.failed) continue;
      if (job.opts.recognize_only) {
        job.lines.push_back(lines.size());
        lines.push_back(job.image);
        continue;
      }
      for (auto& crop : OcrPipeline::crop_lines(job.image, job.boxes)) {
        job.lines.push_back(lines.size());
        lines.push_back(std::move(crop));
      }
    }
    std::vector<DecodedText> texts;
    try {
      if (o.use_angle_cls) {
        for (const auto& job : jobs)
          if (!job.opts.recognize_only)
            for (auto at : job.lines) {
              oriented_at.push_back(at);
              to_orient.push_back(lines[at]);
            }
        pipeline_.orient(to_orient);
        for (std::size_t k = 0; k < oriented_at.size(); ++k) lines[oriented_at[k]] = to_orient[k];
      }
      texts = pipeline_.recognize(lines);
    } catch (const std::exception& e) {
      for (auto& job : jobs)
        if (!job.lines.empty()) {
          job.failed = true;
          out[job.request] = InferResult::fail(ErrorClass::Inference, std::string("ocr: recognition failed: ") + e.what());
        }
    }

    for (auto& job : jobs) {
      if (job.failed) continue;
      boost::json::array out_lines;
      if (job.opts.recognize_only) {
        const auto& t = texts[job.lines.front()];
        const float w = static_cast<float>(job.image.cols - 1), h = static_cast<float>(job.image.rows - 1);
        Quad whole{{cv::Point2f(0, 0), cv::Point2f(w, 0), cv::Point2f(w, h), cv::Point2f(0, h)}, 1.0f};
        out_lines.push_back(line_json(t.text, t.confidence, whole));
      } else {
        for (std::size_t k = 0; k < job.lines.size(); ++k) {
          const auto& t = texts[job.lines[k]];
          if (t.confidence < job.opts.drop_score) continue;
          out_lines.push_back(line_json(t.text, t.confidence, job.boxes[k]));
        }
      }
      boost::json::object doc{{"width", job.image.cols}, {"height", job.image.rows}, {"lines", std::move(out_lines)}};
      out[job.request] = InferResult::ok(InferResponse{std::move(doc), {}});
    }
  }

  // Detection for the jobs that need it, all together; when that fails, image by image so only the
  // image that fails gets the error.
  void detect(std::vector<Job>& jobs, std::span<InferResult> out) {
    std::vector<cv::Mat> images;
    std::vector<Job*> owners;
    for (auto& job : jobs)
      if (!job.opts.recognize_only) {
        images.push_back(job.image);
        owners.push_back(&job);
      }
    if (images.empty()) return;
    try {
      auto boxes = pipeline_.detect(images);
      for (std::size_t k = 0; k < owners.size(); ++k) owners[k]->boxes = std::move(boxes[k]);
      return;
    } catch (const std::exception&) {
    }
    for (std::size_t k = 0; k < owners.size(); ++k) {
      try {
        owners[k]->boxes = std::move(pipeline_.detect(std::span<const cv::Mat>(&images[k], 1)).front());
      } catch (const std::exception& e) {
        owners[k]->failed = true;
        out[owners[k]->request] = InferResult::fail(ErrorClass::Inference, std::string("ocr: detection failed: ") + e.what());
      }
    }
  }

  static boost::json::object line_json(const std::string& text, float confidence, const Quad& box) {
    return {{"text", text}, {"confidence", static_cast<double>(confidence)}, {"box", box_json(box)}};
  }

  OcrPipeline pipeline_;
  std::int64_t max_input_bytes_;
};

}  // namespace

std::unique_ptr<serving::Runtime> make_ocr_runtime(const serving::LoadContext& ctx) {
  return std::make_unique<OcrRuntime>(ctx);
}

}  // namespace serval::runtimes::ocr
