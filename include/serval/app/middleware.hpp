// Middleware: steps that run around every handler, as an ordered list decided at run time.
//
// before() runs in list order before routing (global) or before the handler (per route); return a
// response to answer at once — later steps and the handler are skipped. after() runs in reverse
// order on every response that passed through before(), including answers from earlier steps,
// 404/405s and error responses; it may change status, headers and body. Both run on the event
// loop: keep them cheap and never block.
//
//   app.use(std::make_shared<serval::RequestId>());                       // global
//   app.get("/me", handler, {.middleware = {bearer.require({"me:read"})}}); // per route
//
// describe() lets a step add to the OpenAPI document: security schemes on components and a
// security requirement on the operations it guards.
#pragma once

#include <memory>
#include <optional>

#include <boost/json/object.hpp>

#include "serval/app/context.hpp"
#include "serval/http/request.hpp"
#include "serval/http/response.hpp"

namespace serval {

class Middleware {
 public:
  virtual ~Middleware() = default;
  virtual std::optional<http::Response> before(http::Request& request, Context& ctx) {
    (void)request;
    (void)ctx;
    return std::nullopt;
  }
  virtual void after(const http::Request& request, Context& ctx, http::Response& response) {
    (void)request;
    (void)ctx;
    (void)response;
  }
  // `operation` is the OpenAPI operation object of a route this step guards (every documented
  // route for a global step, called before the route's own steps); `components` is the
  // document's components object (securitySchemes; entries under `schemas` are merged in).
  virtual void describe(boost::json::object& operation, boost::json::object& components) const {
    (void)operation;
    (void)components;
  }
};

using MiddlewarePtr = std::shared_ptr<Middleware>;

}  // namespace serval
