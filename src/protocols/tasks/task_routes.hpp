// The route groups of the task endpoints (see include/serval/protocols/tasks.hpp).
#pragma once

#include <memory>

#include "serval/app/app.hpp"
#include "serval/serving/registry.hpp"

namespace serval::protocols::tasks {

void add_text_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry);    // classify, embed
void add_media_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry);   // ocr, vad
void add_generate_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry);

}  // namespace serval::protocols::tasks
