#pragma once
// The CPU time (user + system) this process has used, for the in-process benches
// (bench/status_page/render_bench.cpp, bench/scrape/render_bench.cpp).

#include <sys/resource.h>

namespace composewatch::bench {

inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace composewatch::bench
