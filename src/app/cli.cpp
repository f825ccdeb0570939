#include "serval/app/cli.hpp"

#include <charconv>

namespace serval {

void CliOptions::add(std::string flag, std::string* target, std::string help) {
  options_.push_back({std::move(flag), std::move(help), true, [target](std::string_view v) {
                        *target = std::string(v);
                        return std::string();
                      }});
}

void CliOptions::add(std::string flag, std::vector<std::string>* target, std::string help) {
  options_.push_back({std::move(flag), std::move(help), true, [target](std::string_view v) {
                        target->clear();
                        while (!v.empty()) {
                          auto comma = v.find(',');
                          std::string_view item = v.substr(0, comma);
                          if (!item.empty()) target->emplace_back(item);
                          if (comma == std::string_view::npos) break;
                          v.remove_prefix(comma + 1);
                        }
                        return std::string();
                      }});
}

void CliOptions::add(std::string flag, long long* target, std::string help) {
  std::string name = flag;
  options_.push_back({std::move(flag), std::move(help), true, [target, name](std::string_view v) {
                        auto r = std::from_chars(v.data(), v.data() + v.size(), *target);
                        if (r.ec != std::errc() || r.ptr != v.data() + v.size())
                          return "option " + name + ": expected an integer, got '" + std::string(v) + "'";
                        return std::string();
                      }});
}

void CliOptions::add(std::string flag, bool* target, std::string help) {
  options_.push_back({std::move(flag), std::move(help), false, [target](std::string_view) {
                        *target = true;
                        return std::string();
                      }});
}

const CliOptions::Option* CliOptions::find(std::string_view flag) const noexcept {
  for (const auto& o : options_)
    if (o.flag == flag) return &o;
  return nullptr;
}

std::string CliOptions::usage() const {
  std::string u;
  for (const auto& o : options_) {
    std::string left = "  " + o.flag + (o.takes_value ? " VALUE" : "");
    if (left.size() < 30) left.resize(30, ' ');
    u += left + o.help + "\n";
  }
  return u;
}

std::string CliOptions::validate() const {
  for (const auto& v : validators_)
    if (auto msg = v(); !msg.empty()) return msg;
  return {};
}

}  // namespace serval
