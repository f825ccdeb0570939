#include "runtimes/onnx/onnx_runtime.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <boost/json/array.hpp>

#include "runtimes/onnx/onnx_types.hpp"
#include "runtimes/onnx/ort_env.hpp"
#include "runtimes/onnx/ort_tensor.hpp"
#include "runtimes/onnx/signature.hpp"
#include "runtimes/onnx/tensor_check.hpp"

namespace serval::runtimes::onnx {

using serving::ErrorClass;
using serving::InferError;
using serving::InferRequest;
using serving::InferResponse;
using serving::InferResult;
using serving::Tensor;

namespace {

std::string string_param(const boost::json::object& p, const char* key, std::string fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  const auto* s = it->value().if_string();
  if (!s || s->empty()) throw std::runtime_error(std::string("parameters.") + key + " must be a non-empty string");
  return std::string(*s);
}

bool bool_param(const boost::json::object& p, const char* key, bool fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  if (!it->value().is_bool()) throw std::runtime_error(std::string("parameters.") + key + " must be true or false");
  return it->value().as_bool();
}

boost::json::array sig_json(const std::vector<TensorSig>& sigs) {
  boost::json::array a;
  for (const auto& s : sigs) {
    boost::json::array shape;
    for (auto d : s.shape) shape.push_back(d);
    a.push_back(boost::json::object{{"name", s.name}, {"datatype", serving::dtype_name(s.dtype)}, {"shape", shape}});
  }
  return a;
}

// A session run that cannot be split into per-request results: the group is re-run one by one.
struct Unsplittable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class OnnxRuntime final : public serving::Runtime {
 public:
  explicit OnnxRuntime(const serving::LoadContext& ctx)
      : file_(string_param(ctx.spec.parameters, "file", "model.onnx")),
        path_(ctx.version_dir / file_),
        session_(open(path_, ctx.spec.parameters)) {
    sig_ = read_signature(session_);
    apply_spec(sig_, ctx.spec.inputs, ctx.spec.outputs, file_);
    std::error_code ec;
    bytes_ = std::filesystem::file_size(path_, ec);
    if (ec) bytes_ = 0;
    batch_concat_ = bool_param(ctx.spec.parameters, "batch_concat", true) && !sig_.inputs.empty();
    for (const auto& in : sig_.inputs) {
      if (in.shape.empty() || in.shape[0] != -1) batch_concat_ = false;
    }
    for (const auto& out : sig_.outputs) {
      if (!out.shape.empty() && out.shape[0] != -1) batch_concat_ = false;
    }
    for (const auto& in : sig_.inputs) input_names_.push_back(in.name.c_str());
    Ort::AllocatorWithDefaultOptions allocator;
    try {
      auto meta = session_.GetModelMetadata();
      producer_ = meta.GetProducerNameAllocated(allocator).get();
      graph_ = meta.GetGraphNameAllocated(allocator).get();
      opset_ = session_.GetOpset("");
    } catch (const Ort::Exception&) {
      // Metadata is for the model card only.
    }
  }

  std::optional<InferError> validate(const InferRequest& req) const override {
    return check_request(sig_.inputs, sig_.outputs, req);
  }

  void execute(std::span<InferRequest* const> batch, std::span<InferResult> out) override {
    std::vector<std::size_t> valid;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        if (auto err = validate(*batch[i])) out[i] = InferResult::fail(err->cls, std::move(err->message));
        else valid.push_back(i);
      } catch (const std::exception& e) {
        out[i] = InferResult::fail(ErrorClass::Inference, e.what());
      }
    }
    if (!batch_concat_) {
      for (auto i : valid) run_alone(batch, out, i);
      return;
    }
    // Groups of requests that can be concatenated: same trailing dimensions on every input, and
    // the same (non-zero) row count across one request's inputs.
    std::map<std::vector<std::int64_t>, std::vector<std::size_t>> groups;
    for (auto i : valid) {
      try {
        auto key = group_key(*batch[i]);
        if (key.empty()) run_alone(batch, out, i);
        else groups[std::move(key)].push_back(i);
      } catch (const std::exception& e) {
        out[i] = InferResult::fail(ErrorClass::Inference, e.what());
      }
    }
    for (auto& [key, members] : groups) {
      if (members.size() == 1) {
        run_alone(batch, out, members.front());
        continue;
      }
      try {
        run(batch, out, members, true);
      } catch (const std::exception&) {
        // One request may have made the whole run fail (or the outputs were not per row): give
        // every request its own run, so only a bad one fails.
        for (auto i : members) run_alone(batch, out, i);
      }
    }
  }

  boost::json::object describe() const override {
    boost::json::object o{{"inputs", sig_json(sig_.inputs)},
                           {"outputs", sig_json(sig_.outputs)},
                           {"file", file_},
                           {"bytes", bytes_},
                           {"batch_concat", batch_concat_}};
    if (!producer_.empty()) o["producer"] = producer_;
    if (!graph_.empty()) o["graph"] = graph_;
    if (opset_ > 0) o["opset"] = opset_;
    if (!sig_.ignored.empty()) {
      boost::json::array ignored;
      for (const auto& s : sig_.ignored) ignored.push_back(boost::json::string(s));
      o["ignored_outputs"] = std::move(ignored);
    }
    return o;
  }

 private:
  static Ort::Session open(const std::filesystem::path& path, const boost::json::object& parameters) {
    if (!std::filesystem::is_regular_file(path))
      throw std::runtime_error("ONNX model file not found: " + path.string());
    Ort::SessionOptions options = session_options(parameters);
    try {
      return Ort::Session(env(), path.c_str(), options);
    } catch (const Ort::Exception& e) {
      throw std::runtime_error("cannot load " + path.string() + ": " + e.what());
    }
  }

  const Tensor* input_of(const InferRequest& req, const TensorSig& sig) const {
    for (const auto& t : req.inputs) {
      if (t.name == sig.name) return &t;
    }
    return nullptr;  // not reached for a validated request
  }

  // Trailing dimensions of every input (in model order); empty when the request runs alone.
  std::vector<std::int64_t> group_key(const InferRequest& req) const {
    std::vector<std::int64_t> key;
    std::int64_t rows = -1;
    for (const auto& sig : sig_.inputs) {
      const Tensor* t = input_of(req, sig);
      if (!t || t->shape.empty() || t->shape[0] == 0) return {};
      if (rows >= 0 && t->shape[0] != rows) return {};
      rows = t->shape[0];
      key.push_back(static_cast<std::int64_t>(t->shape.size()));
      key.insert(key.end(), t->shape.begin() + 1, t->shape.end());
    }
    return key;
  }

  void run_alone(std::span<InferRequest* const> batch, std::span<InferResult> out, std::size_t i) {
    const std::size_t one[] = {i};
    try {
      run(batch, out, one, false);
    } catch (const Ort::Exception& e) {
      const auto cls = e.GetOrtErrorCode() == ORT_INVALID_ARGUMENT ? ErrorClass::Client : ErrorClass::Inference;
      out[i] = InferResult::fail(cls, std::string("the model rejected the input: ") + e.what());
    } catch (const std::exception& e) {
      out[i] = InferResult::fail(ErrorClass::Inference, e.what());
    }
  }

  // One session run for `members`; with `split`, outputs are cut by each request's rows.
  void run(std::span<InferRequest* const> batch, std::span<InferResult> out, std::span<const std::size_t> members,
           bool split) {
    std::vector<Ort::Value> values;
    std::vector<std::vector<std::byte>> storage(sig_.inputs.size());
    std::vector<const Tensor*> parts;
    for (std::size_t k = 0; k < sig_.inputs.size(); ++k) {
      parts.clear();
      for (auto i : members) parts.push_back(input_of(*batch[i], sig_.inputs[k]));
      values.push_back(make_input(sig_.inputs[k], parts, storage[k]));
    }
    // Fetch every output some member asked for (all of them when one asked for none).
    std::vector<const char*> fetch;
    for (const auto& sig : sig_.outputs) {
      bool wanted = std::any_of(members.begin(), members.end(), [&](std::size_t i) {
        const auto& names = batch[i]->outputs;
        return names.empty() || std::find(names.begin(), names.end(), sig.name) != names.end();
      });
      if (wanted) fetch.push_back(sig.name.c_str());
    }
    auto results = session_.Run(Ort::RunOptions{nullptr}, input_names_.data(), values.data(), values.size(),
                                fetch.data(), fetch.size());
    std::int64_t total = 0;
    for (auto i : members) total += input_of(*batch[i], sig_.inputs.front())->shape[0];
    if (split) {
      for (std::size_t j = 0; j < results.size(); ++j) {
        auto shape = results[j].GetTensorTypeAndShapeInfo().GetShape();
        if (shape.empty() || shape[0] != total)
          throw Unsplittable(std::string("output '") + fetch[j] + "' does not have one row per input row");
      }
    }
    // Build every member's response before storing any, so a throw leaves `out` untouched.
    std::vector<InferResult> done;
    std::int64_t offset = 0;
    for (auto i : members) {
      const auto& req = *batch[i];
      const std::int64_t rows = split ? input_of(req, sig_.inputs.front())->shape[0] : -1;
      InferResponse response;
      std::optional<InferError> error;
      for (std::size_t j = 0; j < fetch.size() && !error; ++j) {
        const std::string name = fetch[j];
        const bool wanted = req.outputs.empty() || std::find(req.outputs.begin(), req.outputs.end(), name) != req.outputs.end();
        if (!wanted) continue;
        Tensor t = take_rows(name, results[j], split ? offset : 0, rows);
        if (auto bad = non_finite(t))
          error = InferError{ErrorClass::Inference, "output '" + name + "' contains " + std::string(*bad)};
        response.outputs.push_back(std::move(t));
      }
      if (!req.outputs.empty()) {  // in the order the request named them
        std::vector<Tensor> ordered;
        for (const auto& name : req.outputs) {
          for (auto& t : response.outputs) {
            if (t.name == name) ordered.push_back(std::move(t));
          }
        }
        response.outputs = std::move(ordered);
      }
      done.push_back(error ? InferResult::fail(error->cls, std::move(error->message))
                           : InferResult::ok(std::move(response)));
      offset += rows;
    }
    for (std::size_t k = 0; k < members.size(); ++k) out[members[k]] = std::move(done[k]);
  }

  std::string file_;
  std::filesystem::path path_;
  Ort::Session session_;
  Signature sig_;
  std::vector<const char*> input_names_;
  std::uintmax_t bytes_ = 0;
  bool batch_concat_ = true;
  std::string producer_, graph_;
  std::int64_t opset_ = 0;
};

}  // namespace

std::unique_ptr<serving::Runtime> make_onnx_runtime(const serving::LoadContext& ctx) {
  return std::make_unique<OnnxRuntime>(ctx);
}

}  // namespace serval::runtimes::onnx
