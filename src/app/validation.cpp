#include "serval/app/validation.hpp"

#include <type_traits>

#include "serval/app/json.hpp"

namespace serval {

void ValidationErrors::add(ValidationIssue issue) {
  ++added_;
  if (issues_.size() < kMaxIssues) issues_.push_back(std::move(issue));
}

void ValidationErrors::clear() noexcept {
  issues_.clear();
  added_ = 0;
}

std::string ValidationErrors::to_json() const {
  std::string out;
  append_json(out);
  return out;
}

void ValidationErrors::append_json(std::string& out) const {
  out.append("{\"detail\":[");
  bool first = true;
  for (const ValidationIssue& issue : issues_) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"type\":");
    write_json_string(out, issue.type);
    out.append(",\"loc\":[");
    for (std::size_t i = 0; i < issue.loc.size(); ++i) {
      if (i > 0) out.push_back(',');
      std::visit(
          [&](const auto& item) {
            if constexpr (std::is_same_v<std::decay_t<decltype(item)>, std::string>) {
              write_json_string(out, item);
            } else {
              detail::write_int(out, item);
            }
          },
          issue.loc[i]);
    }
    out.append("],\"msg\":");
    write_json_string(out, issue.msg);
    out.append(",\"input\":");
    detail::write_value(out, issue.input);
    if (!issue.ctx.empty()) {
      out.append(",\"ctx\":");
      detail::write_value(out, issue.ctx);
    }
    out.push_back('}');
  }
  out.append("]}");
}

}  // namespace serval
