// GET /v1/models and GET /v1/models/{name}: the model cards, in the list shape OpenAI clients
// read ({"object":"list","data":[{"id","object":"model","created","owned_by", ...card}]}).
#include <chrono>

#include <boost/json/serialize.hpp>

#include "protocols/tasks/task_routes.hpp"
#include "serval/app/params.hpp"
#include "serval/http/response.hpp"
#include "serval/protocols/tasks.hpp"

namespace serval::protocols {

namespace {
boost::json::object openai_entry(boost::json::object card, std::int64_t created) {
  boost::json::object o;
  o["id"] = card["name"];
  o["object"] = "model";
  o["created"] = created;
  o["owned_by"] = "serval";
  for (auto& [k, v] : card) o[k] = std::move(v);
  return o;
}
}  // namespace

void add_model_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry) {
  const std::int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  app.get(
      "/v1/models",
      [registry, created] {
        boost::json::array data;
        for (auto& c : registry->cards()) data.push_back(openai_entry(std::move(c.as_object()), created));
        boost::json::object body{{"object", "list"}, {"data", std::move(data)}};
        return http::Response::json(200, boost::json::serialize(body));
      },
      {.summary = "List the models",
       .description = "One model card per model: runtime, task, description, versions with their state, "
                      "runtime details and measured figures, batching and limits.",
       .tags = {"models"}});
  app.get(
      "/v1/models/{name}",
      [registry, created](Path<std::string, "name"> name) {
        return http::Response::json(200, boost::json::serialize(openai_entry(registry->card(*name), created)));
      },
      {.summary = "One model's card", .tags = {"models"}, .responses = {{404, "Unknown model"}}});
}

void add_task_routes(App& app, std::shared_ptr<serving::ModelRegistry> registry) {
  tasks::add_text_routes(app, registry);
  tasks::add_media_routes(app, registry);
  tasks::add_generate_routes(app, registry);
}

}  // namespace serval::protocols
