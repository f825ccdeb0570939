#include "serval/observe/log.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>

namespace serval::log {

namespace {
std::atomic<Level> g_level{Level::kInfo};
}

void set_level(Level lv) noexcept { g_level.store(lv, std::memory_order_relaxed); }
Level level() noexcept { return g_level.load(std::memory_order_relaxed); }

void write(Level lv, std::string_view message) {
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  char stamp[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line;
  line.reserve(message.size() + 48);
  line.append(stamp, n).append(" serval ").append(kNames[static_cast<int>(lv)]).append(": ");
  line.append(message).push_back('\n');
  // One write() per line keeps lines from different threads whole.
  [[maybe_unused]] auto w = ::write(2, line.data(), line.size());
}

}  // namespace serval::log
