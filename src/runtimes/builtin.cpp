// The runtimes serval ships, registered by name for model.yaml's `runtime:` key.
#include <memory>

#include "serval/serving/runtime.hpp"

namespace serval::runtimes {
namespace onnx {
std::unique_ptr<serving::Runtime> make_onnx_runtime(const serving::LoadContext&);
}
namespace fasttext {
std::unique_ptr<serving::Runtime> make_fasttext_runtime(const serving::LoadContext&);
}
namespace ocr {
std::unique_ptr<serving::Runtime> make_ocr_runtime(const serving::LoadContext&);
}
namespace vad {
std::unique_ptr<serving::Runtime> make_vad_runtime(const serving::LoadContext&);
}
#if SERVAL_HAVE_LLAMA
namespace llama {
std::unique_ptr<serving::Runtime> make_llama_runtime(const serving::LoadContext&);
}
#endif
}  // namespace serval::runtimes

namespace serval::serving {

void register_builtin_runtimes() {
  register_runtime("onnx", runtimes::onnx::make_onnx_runtime);
  register_runtime("fasttext", runtimes::fasttext::make_fasttext_runtime);
  register_runtime("ocr", runtimes::ocr::make_ocr_runtime);
  register_runtime("vad", runtimes::vad::make_vad_runtime);
#if SERVAL_HAVE_LLAMA
  register_runtime("llama", runtimes::llama::make_llama_runtime);
#endif
}

}  // namespace serval::serving
