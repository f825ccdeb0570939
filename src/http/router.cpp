#include "serval/http/router.hpp"

#include <stdexcept>

namespace serval::http {

namespace {
constexpr std::size_t kMethodCount = static_cast<std::size_t>(Method::kOther) + 1;

// Splits off the first segment of `rest` (which starts after a '/').
std::string_view next_segment(std::string_view& rest) {
  auto slash = rest.find('/');
  std::string_view seg = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  return seg;
}

bool is_param(std::string_view seg) { return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}'; }
// "{name...}": matches the rest of the path, one or more characters, slashes included.
bool is_catch_all(std::string_view seg) { return is_param(seg) && seg.size() > 5 && seg.substr(seg.size() - 4) == "...}"; }
std::string_view param_name_of(std::string_view seg) {
  return seg.substr(1, seg.size() - (is_catch_all(seg) ? 5 : 2));
}
}  // namespace

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> statics;
  std::unique_ptr<Node> param;
  std::string param_name;
  std::unique_ptr<Node> catch_all;  // {name...}: always a leaf
  std::string catch_all_name;
  std::array<std::size_t, kMethodCount> routes;
  std::array<std::string, kMethodCount> patterns;
  bool terminal = false;
  Node() { routes.fill(kNoRoute); }
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

std::vector<std::string> Router::param_names(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  std::vector<std::string> names;
  std::string_view rest = pattern.substr(1);
  bool more = !rest.empty();
  while (more) {
    more = rest.find('/') != std::string_view::npos;
    std::string_view seg = next_segment(rest);
    bool open = seg.find('{') != std::string_view::npos, close = seg.find('}') != std::string_view::npos;
    if (is_param(seg)) {
      std::string name(param_name_of(seg));
      if (name.empty() || name.find_first_of("{}/") != std::string::npos)
        throw std::invalid_argument("bad path parameter in route: " + std::string(pattern));
      if (is_catch_all(seg) && more)
        throw std::invalid_argument("a {name...} parameter must be the last segment: " + std::string(pattern));
      for (const auto& n : names)
        if (n == name) throw std::invalid_argument("duplicate path parameter {" + name + "} in " + std::string(pattern));
      names.push_back(std::move(name));
    } else if (open || close) {
      throw std::invalid_argument("a path parameter must be a whole segment: " + std::string(pattern));
    }
  }
  return names;
}

void Router::add(Method method, std::string_view pattern, std::size_t route_id) {
  param_names(pattern);  // validates
  Node* node = root_.get();
  std::string_view rest = pattern.substr(1);
  bool more = !rest.empty();
  while (more) {
    more = rest.find('/') != std::string_view::npos;
    std::string_view seg = next_segment(rest);
    if (is_catch_all(seg)) {
      std::string name(param_name_of(seg));
      if (!node->catch_all) {
        node->catch_all = std::make_unique<Node>();
        node->catch_all_name = name;
      } else if (node->catch_all_name != name) {
        throw std::invalid_argument("conflicting parameter names {" + node->catch_all_name + "...} and {" + name +
                                    "...} at the same position: " + std::string(pattern));
      }
      node = node->catch_all.get();
    } else if (is_param(seg)) {
      std::string name(param_name_of(seg));
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        throw std::invalid_argument("conflicting parameter names {" + node->param_name + "} and {" + name +
                                    "} at the same position: " + std::string(pattern));
      }
      node = node->param.get();
    } else {
      Node* child = nullptr;
      for (auto& [s, n] : node->statics)
        if (s == seg) child = n.get();
      if (child == nullptr) {
        node->statics.emplace_back(std::string(seg), std::make_unique<Node>());
        child = node->statics.back().second.get();
      }
      node = child;
    }
  }
  auto m = static_cast<std::size_t>(method);
  if (node->routes[m] != kNoRoute)
    throw std::invalid_argument("duplicate route: " + std::string(to_string(method)) + " " + std::string(pattern));
  node->routes[m] = route_id;
  node->patterns[m] = std::string(pattern);
  node->terminal = true;
}

namespace {
const Router::Node* find(const Router::Node* node, std::string_view rest, bool more, Router::Params& params);
}

Router::Match Router::match(Method method, std::string_view path, Params& params) const {
  Match result;
  params.clear();
  if (path.empty() || path.front() != '/') return result;
  std::string_view rest = path.substr(1);
  const Node* node = find(root_.get(), rest, !rest.empty(), params);
  if (node == nullptr || !node->terminal) {
    params.clear();
    return result;
  }
  auto m = static_cast<std::size_t>(method);
  std::size_t id = node->routes[m];
  if (id == kNoRoute && method == Method::kHead) {
    m = static_cast<std::size_t>(Method::kGet);
    id = node->routes[m];
  }
  // The Allow list is needed for 405 and for OPTIONS; build it only then.
  if (id == kNoRoute || method == Method::kOptions) {
    for (std::size_t i = 0; i < kMethodCount; ++i) {
      if (node->routes[i] == kNoRoute) continue;
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += to_string(static_cast<Method>(i));
      if (static_cast<Method>(i) == Method::kGet && node->routes[static_cast<std::size_t>(Method::kHead)] == kNoRoute)
        result.allow += ", HEAD";
    }
  }
  if (id == kNoRoute) {
    result.kind = Match::Kind::kMethodNotAllowed;
    return result;
  }
  result.kind = Match::Kind::kFound;
  result.route_id = id;
  result.pattern = node->patterns[m];
  return result;
}

namespace {
const Router::Node* find(const Router::Node* node, std::string_view rest, bool more, Router::Params& params) {
  if (!more) return node;
  std::string_view tail = rest;
  bool tail_more = tail.find('/') != std::string_view::npos;
  std::string_view seg = next_segment(tail);
  for (const auto& [s, child] : node->statics) {
    if (s != seg) continue;
    if (const auto* hit = find(child.get(), tail, tail_more, params); hit != nullptr && hit->terminal) return hit;
  }
  if (node->param && !seg.empty()) {
    params.emplace_back(node->param_name, seg);
    if (const auto* hit = find(node->param.get(), tail, tail_more, params); hit != nullptr && hit->terminal) return hit;
    params.pop_back();
  }
  // Lowest priority: a {name...} takes everything that is left (static and {param} routes win).
  if (node->catch_all && node->catch_all->terminal && !rest.empty()) {
    params.emplace_back(node->catch_all_name, rest);
    return node->catch_all.get();
  }
  return nullptr;
}
}  // namespace

}  // namespace serval::http
