#include "observe/metrics_process.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace serval::observe::detail {

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fields of /proc/self/stat after "pid (comm)": index 0 is field 3 (state). The command name may
// hold spaces and parentheses, so splitting starts after the last ')'.
std::vector<std::string> stat_fields() {
  std::string s = read_file("/proc/self/stat");
  auto close = s.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream in(s.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

double boot_time_seconds() {
  std::istringstream in(read_file("/proc/stat"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return -1;
}

int open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int own = dirfd(dir);
  int n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    if (std::atoi(e->d_name) == own) continue;  // the descriptor this listing uses
    ++n;
  }
  closedir(dir);
  return n;
}

void collect(std::vector<ProcessMetric>& out);

}  // namespace

std::vector<ProcessMetric> process_metrics() {
  std::vector<ProcessMetric> out;
  try {
    collect(out);
  } catch (const std::exception&) {
    // A /proc file in an unexpected shape: report what was read.
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

namespace {
void collect(std::vector<ProcessMetric>& out) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto fields = stat_fields();
  // utime = field 14, stime = 15, starttime = 22 (1-based, as in proc(5)).
  if (fields.size() > 19 && ticks > 0) {
    double cpu = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
    out.push_back({"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", cpu});
  }
  if (int fds = open_fds(); fds >= 0)
    out.push_back({"process_open_fds", "Number of open file descriptors.", "gauge", static_cast<double>(fds)});
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    out.push_back({"process_max_fds", "Maximum number of open file descriptors.", "gauge",
                   static_cast<double>(rl.rlim_cur)});
  {
    std::istringstream statm(read_file("/proc/self/statm"));
    double size = 0, resident = 0;
    if (statm >> size >> resident) {
      out.push_back({"process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", resident * page});
      out.push_back({"process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", size * page});
    }
  }
  if (fields.size() > 19 && ticks > 0) {
    double boot = boot_time_seconds();
    if (boot >= 0)
      out.push_back({"process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
                     boot + std::stod(fields[19]) / ticks});
  }
}
}  // namespace

}  // namespace serval::observe::detail
