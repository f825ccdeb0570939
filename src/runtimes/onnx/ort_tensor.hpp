// Moving tensors between serving::Tensor and Ort::Value.
//
// make_input() builds one session input from the same-named tensor of one or more requests,
// concatenated along dimension 0 (one request: its numbers are wrapped without a copy, so the
// request must outlive the value). take_rows() copies a slice of dimension 0 of a session output
// back into a Tensor, which is how a batched run is split into per-request results.
//
//   std::vector<std::byte> storage;
//   Ort::Value x = make_input(sig, parts, storage);         // parts: the requests' "x" tensors
//   Tensor y = take_rows("y", outputs[0], offset, rows);    // this request's rows of output "y"
//   if (auto bad = non_finite(y)) fail("output 'y' contains " + std::string(*bad));
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "runtimes/onnx/onnx_types.hpp"
#include "serval/serving/tensor.hpp"

namespace serval::runtimes::onnx {

// `parts` all have sig's dtype and rank and agree on every dimension but the first (checked by
// the caller). `storage` keeps concatenated numbers alive as long as the value.
Ort::Value make_input(const TensorSig& sig, std::span<const serving::Tensor* const> parts,
                      std::vector<std::byte>& storage);

// Rows [row_begin, row_begin + rows) of dimension 0; rows < 0 takes the whole tensor (any rank,
// scalars included). Throws std::runtime_error for an element type without a DType.
serving::Tensor take_rows(std::string name, const Ort::Value& value, std::int64_t row_begin = 0,
                          std::int64_t rows = -1);

// "NaN" or "Inf" when a floating-point tensor holds one, else nothing.
std::optional<std::string_view> non_finite(const serving::Tensor& t) noexcept;

}  // namespace serval::runtimes::onnx
