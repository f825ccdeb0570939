// The `ocr` runtime: model.yaml `runtime: ocr`, `task: ocr`. Each request carries a PNG or JPEG in
// InferRequest::bytes and gets the text lines found in it:
//
//   {"width": 800, "height": 200,
//    "lines": [{"text": "Serval reads 42 lines", "confidence": 0.98, "box": [[x,y],[x,y],[x,y],[x,y]]}]}
//
// A batch is read together (ocr_pipeline.hpp): detection per image (batched when sizes are equal),
// then the lines of all images through the direction classifier and the recogniser in shared
// batches, routed back to their requests. Request params:
//   "mode": "ocr" (default) | "recognize" — recognize: the whole image is one text line; detection
//           and the classifier are skipped and exactly one line (box = the image) is returned.
//   "drop_score": number in [0, 1] — overrides parameters.drop_score for this request (mode ocr).
// Files in the version folder: det.onnx, cls.onnx, rec.onnx, keys.txt (parameters det/cls/rec/keys).
//
//   # models/ocr/model.yaml
//   runtime: ocr
//   task: ocr
//   batching: {max_batch_size: 8, max_queue_delay_ms: 5}
//   parameters: {det_limit_side_len: 960, drop_score: 0.5, max_pixels: 40000000}
//
//   serval::serving::register_runtime("ocr", serval::runtimes::ocr::make_ocr_runtime);
#pragma once

#include <memory>

#include "serval/serving/runtime.hpp"

namespace serval::runtimes::ocr {

// Throws std::runtime_error when a model file or the keys file is missing or does not fit.
std::unique_ptr<serval::serving::Runtime> make_ocr_runtime(const serval::serving::LoadContext& ctx);

}  // namespace serval::runtimes::ocr
