// Tests of the generic ONNX tensor runtime on real models: the PP-OCR direction classifier
// (models/ocr/1/cls.onnx) and small Identity models written by the test itself (one per ONNX
// element type), all run by ONNX Runtime.
#include "runtimes/onnx/onnx_runtime.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

namespace serval::runtimes::onnx {
namespace {

using serving::DType;
using serving::ErrorClass;
using serving::InferRequest;
using serving::InferResult;
using serving::LoadContext;
using serving::ModelSpec;
using serving::Tensor;

const std::filesystem::path kOcrDir = SERVAL_SOURCE_DIR "/models/ocr/1";
const std::string kSoftmax = "softmax_0.tmp_0";

ModelSpec cls_spec() {
  ModelSpec spec;
  spec.name = "cls";
  spec.runtime = "onnx";
  spec.task = "tensor";
  spec.parameters["file"] = "cls.onnx";
  return spec;
}

Tensor image(std::int64_t n, std::int64_t w, unsigned seed, std::int64_t h = 48) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<std::size_t>(n * 3 * h * w));
  for (auto& x : v) x = u(rng);
  return Tensor::from_floats("x", {n, 3, h, w}, v);
}

InferRequest request(Tensor t) {
  InferRequest r;
  r.inputs.push_back(std::move(t));
  return r;
}

std::vector<InferResult> run(serving::Runtime& rt, std::vector<InferRequest>& reqs) {
  std::vector<InferRequest*> ptrs;
  for (auto& r : reqs) ptrs.push_back(&r);
  std::vector<InferResult> out(reqs.size());
  rt.execute(ptrs, out);
  return out;
}

InferResult run_one(serving::Runtime& rt, InferRequest req) {
  std::vector<InferRequest> v{std::move(req)};
  return std::move(run(rt, v).front());
}

void expect_close(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape, b.shape);
  auto x = a.view<float>();
  auto y = b.view<float>();
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], 1e-5) << "element " << i;
}

class OnnxCls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spec_ = new ModelSpec(cls_spec());
    rt_ = make_onnx_runtime(LoadContext{*spec_, kOcrDir, 1}).release();
  }
  static void TearDownTestSuite() {
    delete rt_;
    delete spec_;
  }
  static ModelSpec* spec_;
  static serving::Runtime* rt_;
};
ModelSpec* OnnxCls::spec_ = nullptr;
serving::Runtime* OnnxCls::rt_ = nullptr;

TEST_F(OnnxCls, DescribeReadsSignatureFromTheModel) {
  auto d = rt_->describe();
  SCOPED_TRACE(boost::json::serialize(d));
  ASSERT_EQ(d["inputs"].as_array().size(), 1u);
  const auto& in = d["inputs"].as_array()[0].as_object();
  EXPECT_EQ(in.at("name").as_string(), "x");
  EXPECT_EQ(in.at("datatype").as_string(), "FP32");
  EXPECT_EQ(boost::json::serialize(in.at("shape")), "[-1,3,-1,-1]");
  const auto& out = d["outputs"].as_array()[0].as_object();
  EXPECT_EQ(out.at("name").as_string(), kSoftmax);
  EXPECT_EQ(boost::json::serialize(out.at("shape")), "[-1,2]");
  EXPECT_EQ(d["file"].as_string(), "cls.onnx");
  EXPECT_EQ(d["bytes"].to_number<std::int64_t>(),
            static_cast<std::int64_t>(std::filesystem::file_size(kOcrDir / "cls.onnx")));
  EXPECT_TRUE(d["batch_concat"].as_bool());
  EXPECT_GT(d["opset"].to_number<std::int64_t>(), 0);
}

TEST_F(OnnxCls, BatchOfThreeMatchesOneByOne) {
  std::vector<InferRequest> reqs;
  reqs.push_back(request(image(1, 192, 1)));
  reqs.push_back(request(image(2, 192, 2)));
  reqs.push_back(request(image(1, 192, 3)));
  auto batched = run(*rt_, reqs);
  const std::int64_t rows[] = {1, 2, 1};
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_TRUE(batched[i]) << batched[i].error().message;
    const auto& outs = batched[i].value().outputs;
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(outs[0].name, kSoftmax);
    EXPECT_EQ(outs[0].dtype, DType::Float32);
    EXPECT_EQ(outs[0].shape, (std::vector<std::int64_t>{rows[i], 2}));
    auto v = outs[0].view<float>();
    for (std::int64_t r = 0; r < rows[i]; ++r) {
      EXPECT_NEAR(v[2 * r] + v[2 * r + 1], 1.0f, 1e-5);
      EXPECT_GE(v[2 * r], 0.f);
    }
    auto alone = run_one(*rt_, reqs[i]);
    ASSERT_TRUE(alone) << alone.error().message;
    expect_close(outs[0], alone.value().outputs[0]);
  }
  // Different images give different answers (the split did not mix rows up).
  EXPECT_NE(batched[1].value().outputs[0].view<float>()[0], batched[1].value().outputs[0].view<float>()[2]);
}

TEST_F(OnnxCls, DifferentWidthsRunAsSeparateGroups) {
  std::vector<InferRequest> reqs;
  reqs.push_back(request(image(1, 192, 4)));
  reqs.push_back(request(image(1, 96, 5)));
  reqs.push_back(request(image(2, 192, 6)));
  auto out = run(*rt_, reqs);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_TRUE(out[i]) << out[i].error().message;
    expect_close(out[i].value().outputs[0], run_one(*rt_, reqs[i]).value().outputs[0]);
  }
}

TEST_F(OnnxCls, BadRequestsFailAloneInAMixedBatch) {
  std::vector<InferRequest> reqs;
  reqs.push_back(request(image(1, 192, 7)));  // 0: good
  {
    std::vector<std::int64_t> v(2 * 3, 1);
    reqs.push_back(request(Tensor::from<std::int64_t>("x", {2, 3}, v, DType::Int64)));  // 1: dtype + rank
  }
  reqs.push_back(request(Tensor::from_floats("x", {1, 3, 48}, std::vector<float>(3 * 48))));  // 2: rank
  {
    Tensor t = image(1, 192, 8);
    t.shape[1] = 4;  // 3: fixed dimension 3 -> 4
    t.data.resize(t.data.size() / 3 * 4);
    reqs.push_back(request(std::move(t)));
  }
  reqs.push_back(InferRequest{});  // 4: missing input
  {
    InferRequest r = request(image(1, 192, 9));
    r.inputs.push_back(Tensor::from_floats("y", {1}, std::vector<float>{1.f}));  // 5: unknown input
    reqs.push_back(std::move(r));
  }
  {
    InferRequest r = request(image(1, 192, 10));
    r.outputs = {"nope"};  // 6: unknown output
    reqs.push_back(std::move(r));
  }
  {
    Tensor t = image(1, 192, 11);
    t.data.resize(t.data.size() - 4);  // 7: data shorter than the shape
    reqs.push_back(request(std::move(t)));
  }
  {
    InferRequest r = request(image(2, 192, 12));
    r.outputs = {kSoftmax};  // 8: good, output named
    reqs.push_back(std::move(r));
  }
  auto out = run(*rt_, reqs);
  ASSERT_EQ(out.size(), reqs.size());
  EXPECT_TRUE(out[0]) << out[0].error().message;
  EXPECT_TRUE(out[8]) << out[8].error().message;
  for (std::size_t i = 1; i <= 7; ++i) {
    ASSERT_FALSE(out[i]) << "request " << i;
    EXPECT_EQ(out[i].error().cls, ErrorClass::Client) << out[i].error().message;
    auto v = rt_->validate(reqs[i]);  // validate() says the same
    ASSERT_TRUE(v.has_value()) << "request " << i;
    EXPECT_EQ(v->message, out[i].error().message);
  }
  EXPECT_EQ(out[1].error().message, "input 'x': expected FP32 [-1, 3, -1, -1], got INT64 [2, 3]");
  EXPECT_EQ(out[2].error().message, "input 'x': expected FP32 [-1, 3, -1, -1], got FP32 [1, 3, 48]");
  EXPECT_EQ(out[3].error().message, "input 'x': expected FP32 [-1, 3, -1, -1], got FP32 [1, 4, 48, 192]");
  EXPECT_EQ(out[4].error().message, "missing input 'x' (FP32 [-1, 3, -1, -1])");
  EXPECT_EQ(out[5].error().message, "unknown input 'y': the model takes 'x'");
  EXPECT_EQ(out[6].error().message, "unknown output 'nope': the model gives '" + kSoftmax + "'");
  EXPECT_EQ(out[7].error().message, "input 'x': FP32 [1, 3, 48, 192] needs 27648 x 4 bytes of data, got 110588");
  EXPECT_FALSE(rt_->validate(reqs[0]).has_value());
  expect_close(out[0].value().outputs[0], run_one(*rt_, reqs[0]).value().outputs[0]);
  expect_close(out[8].value().outputs[0], run_one(*rt_, reqs[8]).value().outputs[0]);
}

TEST_F(OnnxCls, NanOutputFailsOnlyThatRequest) {
  std::vector<InferRequest> reqs;
  reqs.push_back(request(image(1, 192, 13)));
  Tensor bad = image(1, 192, 14);
  for (auto& v : bad.view<float>()) v = std::numeric_limits<float>::quiet_NaN();
  reqs.push_back(request(std::move(bad)));
  reqs.push_back(request(image(1, 192, 15)));
  auto out = run(*rt_, reqs);
  EXPECT_TRUE(out[0]);
  ASSERT_FALSE(out[1]);
  EXPECT_EQ(out[1].error().cls, ErrorClass::Inference);
  EXPECT_EQ(out[1].error().message, "output '" + kSoftmax + "' contains NaN");
  EXPECT_TRUE(out[2]);
}

TEST(OnnxSpec, YamlSignatureMustAgreeWithTheModel) {
  auto load = [](ModelSpec spec) { return make_onnx_runtime(LoadContext{spec, kOcrDir, 1}); };
  ModelSpec spec = cls_spec();
  spec.inputs = {{"x", DType::Float16, {-1, 3, -1, -1}}};
  EXPECT_THROW(load(spec), std::runtime_error);
  spec.inputs = {{"image", DType::Float32, {-1, 3, -1, -1}}};
  EXPECT_THROW(load(spec), std::runtime_error);
  spec.inputs = {{"x", DType::Float32, {-1, 4, -1, -1}}};
  EXPECT_THROW(load(spec), std::runtime_error);
  spec.inputs = {{"x", DType::Float32, {-1, 3, 48}}};
  EXPECT_THROW(load(spec), std::runtime_error);
  spec.inputs = {};
  spec.outputs = {{"probs", DType::Float32, {-1, 2}}};
  EXPECT_THROW(load(spec), std::runtime_error);
  spec = cls_spec();
  spec.parameters["file"] = "missing.onnx";
  try {
    load(spec);
    FAIL() << "loaded a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.onnx"), std::string::npos) << e.what();
  }
  spec = cls_spec();
  spec.parameters["batch_concat"] = "yes";
  EXPECT_THROW(load(spec), std::runtime_error);
}

TEST(OnnxSpec, YamlMayFixDynamicDimensions) {
  ModelSpec spec = cls_spec();
  spec.inputs = {{"x", DType::Float32, {-1, 3, 48, 192}}};
  spec.outputs = {{kSoftmax, DType::Float32, {-1, 2}}};
  auto rt = make_onnx_runtime(LoadContext{spec, kOcrDir, 1});
  EXPECT_EQ(boost::json::serialize(rt->describe()["inputs"].as_array()[0].as_object().at("shape")), "[-1,3,48,192]");
  EXPECT_TRUE(run_one(*rt, request(image(2, 192, 16))));
  auto err = rt->validate(request(image(1, 96, 17)));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->message, "input 'x': expected FP32 [-1, 3, 48, 192], got FP32 [1, 3, 48, 96]");
}

TEST(OnnxSpec, BatchConcatFalseGivesTheSameResults) {
  ModelSpec spec = cls_spec();
  spec.parameters["batch_concat"] = false;
  auto rt = make_onnx_runtime(LoadContext{spec, kOcrDir, 1});
  ModelSpec spec2 = cls_spec();
  auto rt2 = make_onnx_runtime(LoadContext{spec2, kOcrDir, 1});
  EXPECT_FALSE(rt->describe()["batch_concat"].as_bool());
  std::vector<InferRequest> reqs;
  reqs.push_back(request(image(1, 192, 18)));
  reqs.push_back(request(image(3, 192, 19)));
  auto a = run(*rt, reqs);
  auto b = run(*rt2, reqs);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_TRUE(a[i] && b[i]);
    expect_close(a[i].value().outputs[0], b[i].value().outputs[0]);
  }
}

// ---- Identity models written by the test: one input and one output per element type ----

// Minimal protobuf writer, enough for an ONNX ModelProto.
struct Proto {
  std::string bytes;
  Proto& varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    bytes += static_cast<char>(v);
    return *this;
  }
  Proto& num(int field, std::uint64_t v) { return varint(static_cast<std::uint64_t>(field) << 3).varint(v); }
  Proto& str(int field, const std::string& s) {
    varint((static_cast<std::uint64_t>(field) << 3) | 2).varint(s.size());
    bytes += s;
    return *this;
  }
  Proto& msg(int field, const Proto& p) { return str(field, p.bytes); }
};

// dims: >= 0 fixed, -1 a symbolic "N".
Proto value_info(const std::string& name, int elem_type, const std::vector<std::int64_t>& dims) {
  Proto shape;
  for (auto d : dims) {
    Proto dim;
    if (d >= 0) dim.num(1, static_cast<std::uint64_t>(d));
    else dim.str(2, "N");
    shape.msg(1, dim);
  }
  Proto tensor;
  tensor.num(1, static_cast<std::uint64_t>(elem_type)).msg(2, shape);
  Proto type;
  type.msg(1, tensor);
  Proto vi;
  vi.str(1, name).msg(2, type);
  return vi;
}

struct Io {
  std::string suffix;
  int elem_type;  // ONNX TensorProto.DataType
  std::vector<std::int64_t> dims;
};

std::filesystem::path write_identity_model(const std::string& file, const std::vector<Io>& ios) {
  Proto graph;
  for (const auto& io : ios) {
    Proto node;
    node.str(1, "in_" + io.suffix).str(2, "out_" + io.suffix).str(3, "id_" + io.suffix).str(4, "Identity");
    graph.msg(1, node);
  }
  graph.str(2, "identity");
  for (const auto& io : ios) graph.msg(11, value_info("in_" + io.suffix, io.elem_type, io.dims));
  for (const auto& io : ios) graph.msg(12, value_info("out_" + io.suffix, io.elem_type, io.dims));
  Proto opset;
  opset.str(1, "").num(2, 13);
  Proto model;
  model.num(1, 7).str(2, "serval-test").msg(7, graph).msg(8, opset);
  auto dir = std::filesystem::temp_directory_path() / "serval_onnx_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / file, std::ios::binary) << model.bytes;
  return dir;
}

TEST(OnnxIdentity, EveryElementTypeRoundTripsAndBatches) {
  // ONNX TensorProto.DataType numbers.
  const std::vector<Io> ios = {{"bool", 9, {-1, 2}},    {"i8", 3, {-1, 2}},   {"i16", 5, {-1, 2}},
                               {"i32", 6, {-1, 2}},     {"i64", 7, {-1, 2}},  {"u8", 2, {-1, 2}},
                               {"u16", 4, {-1, 2}},     {"u32", 12, {-1, 2}}, {"u64", 13, {-1, 2}},
                               {"f16", 10, {-1, 2}},    {"f32", 1, {-1, 2}},  {"f64", 11, {-1, 2}},
                               {"str", 8, {-1, 2}}};
  const DType types[] = {DType::Bool,   DType::Int8,    DType::Int16,   DType::Int32, DType::Int64,
                         DType::UInt8,  DType::UInt16,  DType::UInt32,  DType::UInt64, DType::Float16,
                         DType::Float32, DType::Float64, DType::Bytes};
  auto dir = write_identity_model("identity.onnx", ios);
  ModelSpec spec;
  spec.parameters["file"] = "identity.onnx";
  auto rt = make_onnx_runtime(LoadContext{spec, dir, 1});
  auto d = rt->describe();
  ASSERT_EQ(d["inputs"].as_array().size(), ios.size()) << boost::json::serialize(d);
  EXPECT_EQ(d["producer"].as_string(), "serval-test");
  EXPECT_TRUE(d["batch_concat"].as_bool());

  // Request r has r+1 rows; element k of row j holds a value derived from (r, j, k).
  auto make = [&](int r) {
    InferRequest req;
    const std::int64_t rows = r + 1;
    for (std::size_t i = 0; i < ios.size(); ++i) {
      Tensor t;
      t.name = "in_" + ios[i].suffix;
      t.dtype = types[i];
      t.shape = {rows, 2};
      if (types[i] == DType::Bytes) {
        for (int e = 0; e < rows * 2; ++e) t.strings.push_back(std::string("s\0", 2) + std::to_string(r * 10 + e));
      } else {
        t.data.resize(static_cast<std::size_t>(rows * 2) * serving::dtype_size(types[i]));
        for (std::size_t b = 0; b < t.data.size(); ++b) t.data[b] = std::byte(types[i] == DType::Bool ? (b + r) % 2 : (b * 7 + r * 13) % 60);
      }
      req.inputs.push_back(std::move(t));
    }
    return req;
  };
  std::vector<InferRequest> reqs;
  for (int r = 0; r < 3; ++r) reqs.push_back(make(r));
  reqs[1].outputs = {"out_str", "out_f16"};
  auto out = run(*rt, reqs);
  for (int r = 0; r < 3; ++r) {
    ASSERT_TRUE(out[r]) << out[r].error().message;
    const auto& outs = out[r].value().outputs;
    if (r == 1) {
      ASSERT_EQ(outs.size(), 2u);
      EXPECT_EQ(outs[0].name, "out_str");
      EXPECT_EQ(outs[1].name, "out_f16");
      EXPECT_EQ(outs[0].strings, reqs[1].inputs[12].strings);
      EXPECT_EQ(outs[1].data, reqs[1].inputs[9].data);
      continue;
    }
    ASSERT_EQ(outs.size(), ios.size());
    for (std::size_t i = 0; i < ios.size(); ++i) {
      SCOPED_TRACE(ios[i].suffix);
      EXPECT_EQ(outs[i].name, "out_" + ios[i].suffix);
      EXPECT_EQ(outs[i].dtype, types[i]);
      EXPECT_EQ(outs[i].shape, reqs[r].inputs[i].shape);
      EXPECT_EQ(outs[i].data, reqs[r].inputs[i].data);
      EXPECT_EQ(outs[i].strings, reqs[r].inputs[i].strings);
    }
  }
}

TEST(OnnxIdentity, NonFiniteFloatsAndFixedBatchDimension) {
  auto dir = write_identity_model("f16.onnx", {{"h", 10, {2}}, {"d", 11, {2}}});
  ModelSpec spec;
  spec.parameters["file"] = "f16.onnx";
  auto rt = make_onnx_runtime(LoadContext{spec, dir, 1});
  EXPECT_FALSE(rt->describe()["batch_concat"].as_bool());  // first dimension is fixed
  auto make = [](std::uint16_t h, double x) {
    InferRequest req;
    std::vector<std::uint16_t> hv{0x3C00, h};  // 1.0, h
    req.inputs.push_back(Tensor::from<std::uint16_t>("in_h", {2}, hv, DType::Float16));
    std::vector<double> dv{1.0, x};
    req.inputs.push_back(Tensor::from<double>("in_d", {2}, dv, DType::Float64));
    return req;
  };
  std::vector<InferRequest> reqs;
  reqs.push_back(make(0x4000, 2.0));
  reqs.push_back(make(0x7C00, 2.0));  // +Inf in FP16
  reqs.push_back(make(0x7E00, 2.0));  // NaN in FP16
  reqs.push_back(make(0x4000, std::numeric_limits<double>::infinity()));
  reqs.push_back(make(0x4000, 3.0));
  auto out = run(*rt, reqs);
  EXPECT_TRUE(out[0]);
  ASSERT_FALSE(out[1]);
  EXPECT_EQ(out[1].error().message, "output 'out_h' contains Inf");
  ASSERT_FALSE(out[2]);
  EXPECT_EQ(out[2].error().message, "output 'out_h' contains NaN");
  ASSERT_FALSE(out[3]);
  EXPECT_EQ(out[3].error().cls, ErrorClass::Inference);
  EXPECT_EQ(out[3].error().message, "output 'out_d' contains Inf");
  ASSERT_TRUE(out[4]);
  EXPECT_EQ(out[4].value().outputs[1].view<double>()[1], 3.0);
  auto err = rt->validate(make(0x4000, 1.0));
  EXPECT_FALSE(err.has_value());
  InferRequest wrong = make(0x4000, 1.0);
  wrong.inputs[1].shape = {1};
  wrong.inputs[1].data.resize(8);
  err = rt->validate(wrong);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->message, "input 'in_d': expected FP64 [2], got FP64 [1]");
}

}  // namespace
}  // namespace serval::runtimes::onnx
