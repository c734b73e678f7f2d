#pragma once
// What the in-process benches (bench/status_page/render_bench.cpp,
// bench/scrape/render_bench.cpp) share: their command line and the CPU time they used.

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace composewatch::bench {

inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The command line `[--runs N] [--projects P]` (each at least 1; tests/support/busy_host.h
// makes ten containers a project). False, with the usage on stderr, when it is not that.
struct RenderArgs {
  int runs = 200;
  int projects = 20;
};
inline bool parse_render_args(int argc, char** argv, RenderArgs& args) {
  bool ok = true;
  for (int i = 1; ok && i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--runs") == 0 && has_value)
      args.runs = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--projects") == 0 && has_value)
      args.projects = std::atoi(argv[++i]);
    else
      ok = false;
  }
  if (ok && args.runs >= 1 && args.projects >= 1) return true;
  std::fprintf(stderr, "usage: %s [--runs N (default 200)] [--projects P (default 20: 200 containers)]\n", argv[0]);
  return false;
}

}  // namespace composewatch::bench
