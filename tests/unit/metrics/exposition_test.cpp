#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"
#include "composewatch/version.h"
#include "container_events.h"

using namespace composewatch;

namespace {

docker::Event ev(std::string action, std::string id, std::string name, std::int64_t t,
                 test_support::Attributes extra = {}) {
  return test_support::container_event(std::move(action), std::move(id), std::move(name), t, "shop/api:1.4",
                                       std::move(extra));
}

std::string render_without_durations(const state::Snapshot& snap) {
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_engine_collector());
  cs.push_back(metrics::make_container_state_collector());
  std::string text = metrics::Exposition(std::move(cs)).render(snap);
  // Durations vary from run to run; everything else is deterministic.
  text = std::regex_replace(text, std::regex("(composewatch_collector_duration_seconds\\{[^}]*\\}) .*"), "$1 X");
  text = std::regex_replace(text, std::regex("revision=\"[^\"]*\""), "revision=\"R\"");
  text = std::regex_replace(text, std::regex("(composewatch_build_info\\{version=)\"[^\"]*\""), "$1\"V\"");
  return text;
}

}  // namespace

// Diffs the exposition of a known state against tests/fixtures/metrics/containers.prom.
// To regenerate after an intended change: COMPOSEWATCH_UPDATE_FIXTURES=1 ./unit_tests.
TEST(MetricsExposition, MatchesTheFixture) {
  state::StateModel m;
  m.set_engine_up(true);
  m.set_engine_info("20.10.24+dfsg1", "1.41");
  m.count_reconnect();
  const std::vector<std::pair<std::string, std::string>> compose = {{"com.docker.compose.project", "shop"},
                                                                    {"com.docker.compose.service", "api"}};
  m.apply(ev("create", "4f1c2d3e4b5a6978aaaa", "shop_api_1", 100, compose));
  m.apply(ev("start", "4f1c2d3e4b5a6978aaaa", "shop_api_1", 101, compose));
  m.apply(ev("oom", "4f1c2d3e4b5a6978aaaa", "shop_api_1", 102, compose));
  m.apply(ev("die", "4f1c2d3e4b5a6978aaaa", "shop_api_1", 102, {{"exitCode", "137"}}));
  m.apply(ev("start", "4f1c2d3e4b5a6978aaaa", "shop_api_1", 103));
  m.apply(ev("health_status: unhealthy", "4f1c2d3e4b5a6978aaaa", "shop_api_1", 104));
  m.apply(ev("exec_start: sh -c 'echo hi'", "4f1c2d3e4b5a6978aaaa", "shop_api_1", 105));
  m.apply(ev("create", "0123456789abcdef", "standalone", 106));
  m.apply(ev("destroy", "0123456789abcdef", "standalone", 107));
  // A worker that crashed and stays down: its exit class while it is down.
  m.apply(ev("create", "5a5a5a5a5a5a5a5a5a5a", "shop_worker_1", 108, compose));
  m.apply(ev("start", "5a5a5a5a5a5a5a5a5a5a", "shop_worker_1", 109, compose));
  m.apply(ev("die", "5a5a5a5a5a5a5a5a5a5a", "shop_worker_1", 110, {{"exitCode", "3"}}));
  m.set_event_gap(4.5, state::Clock::time_point(std::chrono::seconds(111)));
  m.publish();
  std::string got = render_without_durations(*m.snapshot());

  const std::string path = std::string(COMPOSEWATCH_FIXTURES) + "/metrics/containers.prom";
  if (std::getenv("COMPOSEWATCH_UPDATE_FIXTURES")) std::ofstream(path) << got;
  std::ifstream f(path);
  ASSERT_TRUE(f) << path;
  std::stringstream want;
  want << f.rdbuf();
  EXPECT_EQ(got, want.str());
}

TEST(MetricsExposition, AFailingCollectorIsReportedAndTheOthersServed) {
  struct Broken : metrics::Collector {
    std::string_view name() const override { return "broken"; }
    void collect(const state::Snapshot&, metrics::TextWriter& out) const override {
      // half-written, must not leak into the output
      out.family("broken_half_written", "Never served.", metrics::MetricType::gauge);
      out.sample(1);
      throw std::runtime_error("boom");
    }
  };
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(std::make_unique<Broken>());
  cs.push_back(metrics::make_engine_collector());
  state::Snapshot snap;
  std::string text = metrics::Exposition(std::move(cs)).render(snap);
  EXPECT_NE(text.find("composewatch_collector_success{collector=\"broken\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("composewatch_collector_success{collector=\"engine\"} 1"), std::string::npos);
  EXPECT_NE(text.find("composewatch_engine_up 0"), std::string::npos);
  EXPECT_EQ(text.find("broken_half_written"), std::string::npos) << text;
}

TEST(MetricsExposition, ProcessCollectorReportsThisProcess) {
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_process_collector());
  std::istringstream text(metrics::Exposition(std::move(cs)).render(state::Snapshot{}));
  double rss = -1, fds = -1, start = -1, cpu = -1, vsize = -1;
  for (std::string line; std::getline(text, line);) {
    const auto value = [&] { return std::stod(line.substr(line.find(' ') + 1)); };
    if (line.starts_with("process_resident_memory_bytes ")) rss = value();
    if (line.starts_with("process_open_fds ")) fds = value();
    if (line.starts_with("process_start_time_seconds ")) start = value();
    if (line.starts_with("process_cpu_seconds_total ")) cpu = value();
    if (line.starts_with("process_virtual_memory_bytes ")) vsize = value();
  }
  EXPECT_GE(cpu, 0);
  EXPECT_LT(cpu, 3600);
  EXPECT_GT(vsize, rss);
  EXPECT_GT(rss, 1024 * 1024);
  EXPECT_GE(fds, 3);
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(start, now - 3600);
  EXPECT_LE(start, now + 1);
}
