// The floor for the resource collector's cost: read the same files the agent reads per
// container (cgroup v1, cgroupfs driver), open/read/close each, no parsing, no output.
// Input on stdin: "<full id> <pid>" per line. Prints CPU and wall seconds per pass.
//   g++ -O2 -std=c++20 -o floor floor.cpp && ./floor 200 < ids

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

static double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char** argv) {
  int passes = argc > 1 ? std::stoi(argv[1]) : 200;
  std::vector<std::string> paths;
  std::string id;
  int pid;
  while (std::cin >> id >> pid) {
    const std::string m = "/sys/fs/cgroup/memory/docker/" + id;
    paths.push_back(m + "/memory.usage_in_bytes");
    paths.push_back(m + "/memory.limit_in_bytes");
    paths.push_back(m + "/memory.stat");
    paths.push_back("/sys/fs/cgroup/cpuacct/docker/" + id + "/cpuacct.usage");
    paths.push_back("/sys/fs/cgroup/cpu/docker/" + id + "/cpu.stat");
    paths.push_back("/sys/fs/cgroup/pids/docker/" + id + "/pids.current");
    paths.push_back("/sys/fs/cgroup/blkio/docker/" + id + "/blkio.throttle.io_service_bytes");
    paths.push_back("/proc/" + std::to_string(pid) + "/net/dev");
  }
  char buf[8192];
  long bytes = 0, failed = 0;
  double c0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  for (int p = 0; p < passes; ++p) {
    for (const auto& path : paths) {
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ++failed;
        continue;
      }
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) bytes += n;
      close(fd);
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = cpu_seconds() - c0;
  std::printf("files_per_pass=%zu passes=%d cpu_per_pass=%.6f wall_per_pass=%.6f failed=%ld bytes=%ld\n", paths.size(),
              passes, cpu / passes, wall / passes, failed, bytes);
  return failed ? 1 : 0;
}
