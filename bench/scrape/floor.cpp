// The floor of a scrape's cgroup work: per container, open/read/close exactly the files the
// agent's cgroup::Reader reads at scrape time (agent/cgroup/reader.cpp, read_v1/read_v2 and
// read_network) and parse one number from each, so the compiler cannot drop the work. No
// metric is built and nothing is served: what is left of a scrape's CPU when everything but
// the kernel's part is free. Single thread.
//
// Input on stdin: "<full container id> <pid>" per line (`docker inspect -f '{{.Id}} {{.State.Pid}}'`).
// The cgroup directories come from /proc/<pid>/cgroup and /proc/self/mountinfo, so cgroup v1
// (memory, cpuacct, cpu, pids, blkio controllers, whatever the driver or --cgroup-parent) and
// v2 (the unified directory) both work.
//
//   g++ -O2 -std=c++20 -o floor floor.cpp
//   floor [--passes N] [--interval SECONDS] [--start EPOCH_SECONDS] < ids
//
// --interval spaces the passes like scrapes (pass k starts at start + k * interval, start
// defaulting to now), so that the floor meets the same cold caches as a scrape once a
// second; without it the passes run back to back. Prints one JSON object: files per pass,
// CPU seconds per pass (getrusage, user + system), wall seconds per pass, failed opens/reads.

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Mount {
  std::string root, point;
  std::vector<std::string> controllers;  // v1: from the super options; v2: empty
  bool v2 = false;
};

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b <= s.size()) {
    std::size_t e = s.find(sep, b);
    if (e == std::string_view::npos) e = s.size();
    out.emplace_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

std::string slurp(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, std::size_t(n));
  ::close(fd);
  return out;
}

std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> out;
  std::istringstream in(slurp("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto pre = split(std::string_view(line).substr(0, dash), ' ');
    auto post = split(std::string_view(line).substr(dash + 3), ' ');
    if (pre.size() < 5 || post.size() < 3) continue;
    Mount m{pre[3], pre[4], {}, false};
    if (post[0] == "cgroup2") {
      m.v2 = true;
    } else if (post[0] == "cgroup") {
      m.controllers = split(post[2], ',');
    } else {
      continue;
    }
    out.push_back(std::move(m));
  }
  return out;
}

// The directory of `path` (a cgroup path from /proc/<pid>/cgroup) under the mount.
std::string in_mount(const Mount& m, const std::string& path) {
  if (m.root == "/" || m.root.empty()) return m.point + path;
  if (path.compare(0, m.root.size(), m.root) == 0) return m.point + path.substr(m.root.size());
  return m.point + path;
}

const Mount* mount_of(const std::vector<Mount>& ms, std::string_view controller) {
  for (const auto& m : ms) {
    if (controller.empty() ? m.v2 : std::find(m.controllers.begin(), m.controllers.end(), controller) != m.controllers.end())
      return &m;
  }
  return nullptr;
}

// The first unsigned integer in the text (0 if none).
std::uint64_t first_number(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && (t[i] < '0' || t[i] > '9')) ++i;
  std::uint64_t v = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') v = v * 10 + std::uint64_t(t[i++] - '0');
  return v;
}

// The value of "key value" in a flat keyed file (memory.stat, cpu.stat), 0 if absent.
std::uint64_t keyed(std::string_view t, std::string_view key) {
  std::size_t at = 0;
  while ((at = t.find(key, at)) != std::string_view::npos) {
    if ((at == 0 || t[at - 1] == '\n') && at + key.size() < t.size() && t[at + key.size()] == ' ')
      return first_number(t.substr(at + key.size()));
    at += key.size();
  }
  return 0;
}

enum class Parse { first, keyed };
struct File {
  std::string path;
  Parse how;
  const char* key;  // for Parse::keyed; for net/dev the first number after the first ':'
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void sleep_until_realtime(double epoch) {
  timespec ts{};
  ts.tv_sec = time_t(epoch);
  ts.tv_nsec = long((epoch - double(ts.tv_sec)) * 1e9);
  while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

double now_realtime() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int passes = 120;
  double interval = 0, start = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--passes" && i + 1 < argc) passes = std::atoi(argv[++i]);
    else if (a == "--interval" && i + 1 < argc) interval = std::atof(argv[++i]);
    else if (a == "--start" && i + 1 < argc) start = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "usage: floor [--passes N] [--interval SECONDS] [--start EPOCH] < ids\n");
      return 2;
    }
  }

  const auto mounts = cgroup_mounts();
  const bool v2 = mount_of(mounts, "memory") == nullptr && mount_of(mounts, "") != nullptr;
  std::vector<File> files;
  std::size_t containers = 0, unresolved = 0;
  std::string id;
  int pid;
  while (std::cin >> id >> pid) {
    ++containers;
    // "hierarchy-id:controllers:path" lines; v2 is "0::path".
    std::istringstream cg(slurp("/proc/" + std::to_string(pid) + "/cgroup"));
    std::string line, memory, cpuacct, cpu, pids, blkio, unified;
    while (std::getline(cg, line)) {
      auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      auto ctrls = split(std::string_view(line).substr(a + 1, b - a - 1), ',');
      std::string path = line.substr(b + 1);
      auto dir = [&](std::string_view c) {
        const Mount* m = mount_of(mounts, c);
        return m ? in_mount(*m, path) : std::string();
      };
      for (const auto& c : ctrls) {
        if (c == "memory") memory = dir(c);
        else if (c == "cpuacct") cpuacct = dir(c);
        else if (c == "cpu") cpu = dir(c);
        else if (c == "pids") pids = dir(c);
        else if (c == "blkio") blkio = dir(c);
      }
      if (ctrls.size() == 1 && ctrls[0].empty() && line.compare(0, 2, "0:") == 0) unified = dir("");
    }
    if (v2 ? unified.empty() : memory.empty()) {
      ++unresolved;
      continue;
    }
    // The files of cgroup::Reader::read_v1 / read_v2, in the same order, then read_network.
    if (v2) {
      files.push_back({unified + "/memory.current", Parse::first, nullptr});
      files.push_back({unified + "/memory.max", Parse::first, nullptr});
      files.push_back({unified + "/memory.stat", Parse::keyed, "inactive_file"});
      files.push_back({unified + "/cpu.stat", Parse::keyed, "usage_usec"});
      files.push_back({unified + "/pids.current", Parse::first, nullptr});
      files.push_back({unified + "/io.stat", Parse::first, nullptr});
    } else {
      files.push_back({memory + "/memory.usage_in_bytes", Parse::first, nullptr});
      files.push_back({memory + "/memory.limit_in_bytes", Parse::first, nullptr});
      files.push_back({memory + "/memory.stat", Parse::keyed, "total_inactive_file"});
      files.push_back({cpuacct + "/cpuacct.usage", Parse::first, nullptr});
      files.push_back({cpu + "/cpu.stat", Parse::keyed, "throttled_time"});
      files.push_back({pids + "/pids.current", Parse::first, nullptr});
      files.push_back({blkio + "/blkio.throttle.io_service_bytes", Parse::first, nullptr});
    }
    files.push_back({"/proc/" + std::to_string(pid) + "/net/dev", Parse::keyed, "    lo:"});
  }

  char buf[8192];  // the agent's buffer size
  std::uint64_t sum = 0;
  long failed = 0, bytes = 0;
  std::vector<double> walls, cpus;
  walls.reserve(std::size_t(passes));
  cpus.reserve(std::size_t(passes));
  if (interval > 0 && start <= 0) start = now_realtime();
  for (int p = 0; p < passes; ++p) {
    if (interval > 0) sleep_until_realtime(start + p * interval);
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& f : files) {
      int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ++failed;
        continue;
      }
      ssize_t n;
      do n = ::read(fd, buf, sizeof buf);
      while (n < 0 && errno == EINTR);
      ::close(fd);
      if (n < 0) {
        ++failed;
        continue;
      }
      bytes += n;
      std::string_view t(buf, std::size_t(n));
      sum += f.how == Parse::first ? first_number(t) : keyed(t, f.key);
    }
    walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpus.push_back(cpu_seconds() - c0);
  }

  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / double(v.size());
  };
  auto pct = [](std::vector<double> v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    std::size_t k = std::size_t(q / 100.0 * double(v.size()) + 0.999999);
    return v[std::min(v.size(), std::max<std::size_t>(k, 1)) - 1];
  };
  std::printf(
      "{\"cgroup\": \"%s\", \"containers\": %zu, \"unresolved\": %zu, \"files_per_pass\": %zu, \"passes\": %d, "
      "\"cpu_s_per_pass\": %.6f, \"wall_s_per_pass\": %.6f, \"wall_s_p50\": %.6f, \"wall_s_p99\": %.6f, "
      "\"wall_s_max\": %.6f, \"failed\": %ld, \"bytes_per_pass\": %ld, \"checksum\": %llu}\n",
      v2 ? "v2" : "v1", containers, unresolved, files.size(), passes, mean(cpus), mean(walls), pct(walls, 50),
      pct(walls, 99), pct(walls, 100), failed, passes ? bytes / passes : 0, static_cast<unsigned long long>(sum));
  return failed || unresolved ? 1 : 0;
}
