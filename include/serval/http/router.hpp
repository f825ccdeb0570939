// Router: maps (method, path) to a route id, with static segments and {param} segments.
//
// Static segments win over parameters at the same depth; matching backtracks, so
// "/models/list" and "/models/{name}/ready" can live side by side. A path that exists under other
// methods yields kMethodNotAllowed with the Allow list; HEAD falls back to the GET route.
// A last segment "{name...}" takes the rest of the path (one or more characters, slashes
// included) and loses to every static and {param} route: "/static/{path...}".
//
//   router.add(Method::kPost, "/v2/models/{name}/versions/{version}/infer", 7);
//   auto m = router.match(Method::kPost, "/v2/models/ocr/versions/1/infer", params);
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serval/http/request.hpp"

namespace serval::http {

class Router {
 public:
  static constexpr std::size_t kNoRoute = static_cast<std::size_t>(-1);
  using Params = std::vector<std::pair<std::string_view, std::string_view>>;

  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Throws std::invalid_argument for a malformed pattern or a duplicate (method, pattern).
  void add(Method method, std::string_view pattern, std::size_t route_id);

  struct Match {
    enum class Kind : std::uint8_t { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
    std::size_t route_id = kNoRoute;
    std::string_view pattern;  // the matched route's pattern (stable storage)
    std::string allow;         // for kMethodNotAllowed and OPTIONS: "GET, HEAD, POST"
  };
  // `params` receives {name, raw value} views into `path` (names point into the router).
  Match match(Method method, std::string_view path, Params& params) const;

  // Parameter names of a pattern, in order ("/a/{x}/{y}" -> {"x","y"}); throws on malformed.
  static std::vector<std::string> param_names(std::string_view pattern);

  struct Node;  // opaque trie node

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace serval::http
