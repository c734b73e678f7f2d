// What writing /metrics costs beside the cgroup reads: every collector of the agent over
// the snapshot of a busy host (tests/support/busy_host.h: Compose projects of 10 containers,
// 8 running, each with all resource figures) rendered again and again on one thread, then
// gzipped as for a Prometheus that asks for it. The resource figures come from the snapshot
// (as with --stats.source=api), so no file is read: this is the agent's own part of a scrape,
// which bench/scrape/run.sh measures on a real host against the floor of the reads.
// Measures and reports; it is not a pass/fail test (the text format itself is checked by
// the unit tests MetricsTextWriter.* and MetricsExposition.*).
//
//   cmake --build build --target scrape_render_bench && build/tests/scrape_render_bench [--runs N] [--projects P]
//
// Prints one line: containers, series, bytes, series per container, bytes per series, and
// milliseconds per render and per gzip (mean, p50, p99 over N runs after one warm-up), with
// the CPU time of each.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../agent/http/gzip.h"
#include "../in_process.h"
#include "busy_host.h"
#include "composewatch/metrics/collector.h"

namespace {

using composewatch::bench::cpu_seconds;

struct Timing {
  double mean = 0, p50 = 0, p99 = 0, cpu = 0;
};

template <class F>
Timing measure(int runs, F&& run) {
  run();  // warm-up: the body's size is known from here on
  std::vector<double> ms;
  ms.reserve(std::size_t(runs));
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  Timing t;
  t.cpu = (cpu_seconds() - cpu0) * 1000 / runs;
  std::sort(ms.begin(), ms.end());
  for (double m : ms) t.mean += m / runs;
  auto at = [&](double p) { return ms[std::min(ms.size() - 1, std::size_t(p * double(ms.size())))]; };
  t.p50 = at(0.50);
  t.p99 = at(0.99);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace composewatch;
  bench::RenderArgs args;
  if (!bench::parse_render_args(argc, argv, args)) return 2;
  const int runs = args.runs, projects = args.projects;

  auto host = test_support::busy_host(projects);
  state::Snapshot& s = host.snapshot;
  // Ids of their own (the busy host's repeat), and every figure a cgroup read gives.
  auto stats = std::make_shared<state::ApiStats>();
  for (std::size_t i = 0; i < s.containers.size(); ++i) {
    auto& r = s.containers[i];
    char id[65];
    std::snprintf(id, sizeof id, "%064zx", i + 0x5eed0000);
    r.id = id;
    if (r.state != "running") continue;
    docker::ResourceStats st;
    st.memory_usage_bytes = 41'000'000 + i * 4096;
    st.memory_working_set_bytes = 40'000'000 + i * 4096;
    st.memory_limit_bytes = std::uint64_t(r.spec.memory_limit);
    st.cpu_seconds = 1234.567891 + double(i);
    st.cpu_throttled_seconds = 0.25 * double(i % 7);
    st.pids = 3 + i % 40;
    st.network_receive_bytes = 1'000'000 * i;
    st.network_transmit_bytes = 700'000 * i;
    st.blkio_read_bytes = 8192 * i;
    st.blkio_write_bytes = 4096 * i;
    stats->by_id[r.id] = st;
  }
  s.api_stats = stats;

  const metrics::Exposition exposition(metrics::default_collectors(std::shared_ptr<const cgroup::Reader>()));
  std::string body;
  const Timing render = measure(runs, [&] { body = exposition.render(s); });
  std::string gz;
  const Timing gzip = measure(runs, [&] { gz = http::gzip_compress(body); });

  std::size_t series = 0;
  for (std::size_t at = 0; at < body.size();) {
    const std::size_t nl = body.find('\n', at);
    if (body[at] != '#') ++series;
    at = nl == std::string::npos ? body.size() : nl + 1;
  }
  const double containers = double(s.containers.size());
  std::printf(
      "containers=%zu series=%zu bytes=%zu gzip_bytes=%zu series_per_container=%.1f bytes_per_series=%.1f runs=%d "
      "render_ms_mean=%.3f render_ms_p50=%.3f render_ms_p99=%.3f render_cpu_ms=%.3f "
      "gzip_ms_mean=%.3f gzip_ms_p50=%.3f gzip_ms_p99=%.3f gzip_cpu_ms=%.3f\n",
      s.containers.size(), series, body.size(), gz.size(), double(series) / containers,
      double(body.size()) / double(series), runs, render.mean, render.p50, render.p99, render.cpu, gzip.mean, gzip.p50,
      gzip.p99, gzip.cpu);
  return 0;
}
