// Minimal leveled logging to stderr, one line per call, safe from any thread.
//
//   serval::log::error("handler for ", route, " threw: ", e.what());
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace serval::log {

enum class Level { kDebug, kInfo, kWarning, kError };

void set_level(Level level) noexcept;
Level level() noexcept;
void write(Level level, std::string_view message);

template <class... A>
void emit(Level lv, const A&... parts) {
  if (lv < level()) return;
  std::ostringstream os;
  (os << ... << parts);
  write(lv, os.str());
}
template <class... A> void debug(const A&... p) { emit(Level::kDebug, p...); }
template <class... A> void info(const A&... p) { emit(Level::kInfo, p...); }
template <class... A> void warning(const A&... p) { emit(Level::kWarning, p...); }
template <class... A> void error(const A&... p) { emit(Level::kError, p...); }

}  // namespace serval::log
