// The fastText runtime (model.yaml `runtime: fasttext`): text classification (`task: classify`,
// e.g. lid.176 language identification) and sentence embeddings (`task: embed`).
//
//   # models/langid/model.yaml
//   runtime: fasttext
//   task: classify
//   parameters: {file: lid.176.ftz, top_k: 1, label_prefix: __label__}
//
// classify: request.text, params top_k (1..labels, default parameters.top_k or 1) and threshold
//   (0..1, default 0) -> {"labels": [{"label": "en", "score": 0.97}, ...]}, best first, the label
//   prefix stripped.
// embed: request.texts (1..parameters.max_texts, default 256), param normalize (default
//   parameters.normalize or true: unit-length vectors) -> {"dim": D, "vectors": [[...], ...]}.
//
// The file is parameters.file, else the only *.ftz / *.bin in the version folder. Instances of one
// file share one loaded model (FastTextModel::load). With spec.labels (or labels_file) the model's
// labels must be exactly those names, checked at load.
//
//   auto rt = serval::runtimes::fasttext::make_fasttext_runtime({spec, "models/langid/1", 1});
#pragma once

#include <memory>

#include "serval/serving/runtime.hpp"

namespace serval::runtimes::fasttext {

class FastTextModel;

// Throws std::runtime_error when the file is missing, is not a fastText model, does not fit the task
// (classify needs a supervised model) or disagrees with spec.labels.
std::unique_ptr<serval::serving::Runtime> make_fasttext_runtime(const serval::serving::LoadContext& ctx);

// The model a runtime built by make_fasttext_runtime uses (tests check that instances share it);
// nullptr for any other runtime.
const FastTextModel* fasttext_model_of(const serval::serving::Runtime& runtime);

}  // namespace serval::runtimes::fasttext
