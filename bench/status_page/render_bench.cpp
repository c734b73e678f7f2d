// What rendering the status page (`/`) costs: the page of a busy host (tests/support/
// busy_host.h: 20 Compose projects, 200 containers) rendered again and again on one thread,
// as each GET / does. Measures and reports; it is not a pass/fail test (the unit test
// StatusPage.ListsEveryContainerOfA200ContainerHost checks the page itself).
//
//   cmake --build build --target status_page_bench && build/tests/status_page_bench [--runs N] [--projects P]
//
// Prints one line: containers, bytes of the page, and milliseconds per render (mean, p50,
// p99, max over N renders after one warm-up), with the CPU time per render.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../in_process.h"
#include "busy_host.h"

namespace {

using composewatch::bench::cpu_seconds;

}  // namespace

int main(int argc, char** argv) {
  composewatch::bench::RenderArgs args;
  if (!composewatch::bench::parse_render_args(argc, argv, args)) return 2;
  const int runs = args.runs, projects = args.projects;

  const auto host = composewatch::test_support::busy_host(projects);
  std::string html = composewatch::web::render_status_page(host.snapshot, host.options, host.now);  // warm-up
  std::vector<double> ms;
  ms.reserve(std::size_t(runs));
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    html = composewatch::web::render_status_page(host.snapshot, host.options, host.now);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  const double cpu_ms = (cpu_seconds() - cpu0) * 1000 / runs;
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double m : ms) sum += m;
  auto at = [&](double p) { return ms[std::min(ms.size() - 1, std::size_t(p * double(ms.size())))]; };
  std::printf("containers=%zu bytes=%zu runs=%d ms_mean=%.3f ms_p50=%.3f ms_p99=%.3f ms_max=%.3f cpu_ms=%.3f\n",
              host.snapshot.containers.size(), html.size(), runs, sum / runs, at(0.50), at(0.99), ms.back(), cpu_ms);
  return 0;
}
