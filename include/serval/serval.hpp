// serval: FastAPI's developer experience for AI backends, in one fast C++20 process.
//
//   #include <serval/serval.hpp>
//   struct In { std::string text; };
//   template <> inline constexpr auto serval::schema<In> =
//       serval::fields(serval::field("text", &In::text).min_length(1));
//   int main(int argc, char** argv) {
//     serval::App app{{.title = "Echo"}};
//     app.post("/echo", [](In in) { return in.text; });
//     return app.run(argc, argv);
//   }
#pragma once

#include "serval/app/app.hpp"
#include "serval/app/cli.hpp"
#include "serval/app/context.hpp"
#include "serval/app/dependency.hpp"
#include "serval/app/middleware.hpp"
#include "serval/app/middleware/access_log.hpp"
#include "serval/app/middleware/compression.hpp"
#include "serval/app/middleware/cors.hpp"
#include "serval/app/middleware/request_id.hpp"
#include "serval/app/middleware/static_files.hpp"
#include "serval/app/security/api_key.hpp"
#include "serval/app/security/bearer.hpp"
#include "serval/app/security/jwt.hpp"
#include "serval/app/security/principal.hpp"
#include "serval/app/security/rate_limit.hpp"
#include "serval/app/websocket.hpp"
#include "serval/app/endpoint.hpp"
#include "serval/app/errors.hpp"
#include "serval/app/json.hpp"
#include "serval/app/params.hpp"
#include "serval/app/schema.hpp"
#include "serval/app/stream.hpp"
#include "serval/app/test_client.hpp"
#include "serval/async/generator.hpp"
#include "serval/async/task.hpp"
#include "serval/net/event_loop.hpp"
