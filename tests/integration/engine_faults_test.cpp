// The built agent against engine faults: it never crashes, keeps answering /metrics with
// the last state it knew, reports composewatch_engine_up 0 while the engine is faulty,
// recovers by itself, and does not grow its descriptors over many reconnects.
//
// - Faults the real engine cannot produce on demand (500 / 409 / "client version too
//   new" answers, every connection closed at once, garbage, oversized and cut lines, the
//   socket deleted and re-created at a chosen moment) come from a fake engine
//   (tests/support/faulty_host.h). Stalls and hung listings need deadlines shorter than
//   the agent's own (30 s per request, 15 s + 20 s per liveness probe): they are tested in
//   process, tests/unit/jobs/event_follower_faults_test.cpp.
// - A real dockerd killed with SIGKILL and started again is the private engine
//   (scripts/private-engine.sh), never the machine's.
//
// CW_FAULT_RECONNECTS (default 60) sets how many reconnects the descriptor check makes;
// the agent waits 250 ms before each, so 1000 take about five minutes:
//   CW_FAULT_RECONNECTS=1000 ctest --test-dir build -R AgentUnderEngineFaults.AgainstAFakeEngine -V

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "faulty_host.h"
#include "harness.h"

namespace itest {
namespace {

using composewatch::test_support::Fault;
using composewatch::test_support::FaultyHost;

constexpr const char* kEngineUp = "composewatch_engine_up";
constexpr const char* kReconnects = "composewatch_event_stream_reconnects_total";
constexpr const char* kStreamErrors = "composewatch_event_stream_errors_total";

int open_fds(pid_t pid) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// The least of a few samples a little apart: a scrape or an engine call in flight does
// not count.
int settled_fds(pid_t pid) {
  int least = 1 << 30;
  for (int i = 0; i < 10; ++i) {
    least = std::min(least, open_fds(pid));
    std::this_thread::sleep_for(50ms);
  }
  return least;
}

testing::AssertionResult at_least(const AgentProcess& agent, const std::string& name, const Labels& labels,
                                  double min, std::chrono::milliseconds timeout = 20s) {
  return metric_eventually(
      agent, name, labels, [&](auto v) { return v && *v >= min; }, ">= " + std::to_string(min), timeout);
}

TEST(AgentUnderEngineFaults, AgainstAFakeEngineNeverCrashesKeepsTheLastStateAndRecovers) {
  // The agent's event line limit is 1 MiB: the oversized line is above it.
  FaultyHost fake("62bc51b451bb20757963d208b65b56e948a7074c661e5ddfb06597d4c4d21d01",
                      read_text(fixtures_dir().parent_path() / "inspect/running_unhealthy.json"), (1 << 20) + 4096);
  AgentProcess agent({.args = {"--docker.host=" + fake.docker_host()}, .env = {{"DOCKER_HOST", std::nullopt}}});
  const Labels running = with(container_series("shop", "api", "cw-fixture-inspect"), "state", "running");
  ASSERT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", running, 1));
  for (const char* kind : {"parse", "oversized", "truncated"})
    EXPECT_EQ(agent.scrape().value(kStreamErrors, {{"kind", kind}}), 0.0) << kind;
  const int fds_at_start = settled_fds(agent.pid());
  const long rss_at_start = rss_kib(agent.pid());

  struct Case {
    Fault fault;
    const char* what;
  };
  for (const Case& c : {Case{Fault::listing_500, "listing answers 500"}, Case{Fault::listing_409, "listing answers 409"},
                        Case{Fault::client_too_new, "400 client version too new"},
                        Case{Fault::close_at_once, "every connection closed at once"}}) {
    SCOPED_TRACE(c.what);
    fake.set(c.fault);
    fake.drop_streams();
    EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 0, 10s));
    // The last state stays exported while the engine is faulty.
    EXPECT_TRUE(metric_stays_eq(agent, "composewatch_container_state", running, 1, 1s));
    EXPECT_EQ(agent.get("/healthz").status, 200);
    fake.set(Fault::none);
    EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 15s));
  }

  SCOPED_TRACE("the socket deleted and re-created");
  fake.remove_socket();
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 0, 10s));
  EXPECT_TRUE(metric_stays_eq(agent, "composewatch_container_state", running, 1, 1s));
  fake.recreate_socket();
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 15s));

  SCOPED_TRACE("garbage, an oversized line, a line cut by the end of the stream");
  fake.set(Fault::stream_garbage);
  fake.drop_streams();
  EXPECT_TRUE(at_least(agent, kStreamErrors, {{"kind", "parse"}}, 1));
  EXPECT_TRUE(at_least(agent, kStreamErrors, {{"kind", "oversized"}}, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 15s));
  fake.set(Fault::stream_cut);
  fake.drop_streams();
  EXPECT_TRUE(at_least(agent, kStreamErrors, {{"kind", "truncated"}}, 1));
  fake.set(Fault::none);
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 15s));

  SCOPED_TRACE("many reconnects");
  const char* env = std::getenv("CW_FAULT_RECONNECTS");
  const int reconnects = env ? std::atoi(env) : 60;
  const double before = agent.scrape().value(kReconnects).value_or(0);
  const auto t0 = std::chrono::steady_clock::now();
  fake.set(Fault::stream_ends);  // subscribed, listed, inspected, then the stream ends
  fake.drop_streams();
  EXPECT_TRUE(at_least(agent, kReconnects, {}, before + reconnects, std::chrono::seconds(reconnects + 30)));
  fake.set(Fault::none);
  fake.drop_streams();
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 15s));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int fds_at_end = settled_fds(agent.pid());
  const long rss_at_end = rss_kib(agent.pid());
  std::printf("agent pid %d: %d reconnects in %.0f s; open fds %d -> %d; VmRSS %ld -> %ld KiB\n", agent.pid(),
              int(agent.scrape().value(kReconnects).value_or(0) - before), seconds, fds_at_start, fds_at_end,
              rss_at_start, rss_at_end);
  RecordProperty("fds_at_start", fds_at_start);
  RecordProperty("fds_at_end", fds_at_end);
  RecordProperty("rss_kib_at_start", int(rss_at_start));
  RecordProperty("rss_kib_at_end", int(rss_at_end));
  EXPECT_LE(fds_at_end, fds_at_start);
  EXPECT_TRUE(agent.running());
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", running, 1, 5s));
}

// The real engine dies without a word (SIGKILL: no EOF is sent in an orderly way, its
// containers' shims are orphaned) and comes back: the private engine, never the machine's.
TEST(AgentUnderEngineFaults, PrivateEngineKilledWithSigkillAndRestarted) {
  Cleanup cleanup;
  const std::string script = quote((source_dir() / "scripts/private-engine.sh").string());
  const std::string dir = "/tmp/cwlv-" + std::to_string(::getpid());
  cleanup.add([script, dir] { sh(script + " stop " + dir, 120s); });
  const std::string host = must(script + " start " + dir, 150s);
  auto docker = [&](const std::string& args) { return must("docker -H " + host + " " + args, 60s); };
  const std::string before = unique_name("before"), after = unique_name("after");
  docker("run -d --name " + before + " --network none " + std::string(kImage) + " sleep 3600");

  AgentProcess agent({.args = {"--docker.host=" + host}, .env = {{"DOCKER_HOST", std::nullopt}}});
  const Labels before_series = container_series("", "", before);
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", with(before_series, "state", "running"), 1));
  ASSERT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1));
  const double reconnects = agent.scrape().value(kReconnects).value_or(0);
  const int fds_at_start = settled_fds(agent.pid());

  // Kill exactly the private dockerd: the pid from its own pidfile, checked.
  const pid_t dockerd = std::stoi(read_text(dir + "/docker.pid"));
  ASSERT_EQ(read_text("/proc/" + std::to_string(dockerd) + "/comm"), "dockerd\n");
  ASSERT_NE(read_text("/proc/" + std::to_string(dockerd) + "/cmdline").find(dir), std::string::npos);
  ASSERT_EQ(::kill(dockerd, SIGKILL), 0);

  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 0, 10s));
  EXPECT_TRUE(metric_stays_eq(agent, "composewatch_container_state", with(before_series, "state", "running"), 1, 2s));
  EXPECT_EQ(agent.get("/healthz").status, 200);

  must(script + " start " + dir, 150s);
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 30s));
  EXPECT_TRUE(at_least(agent, kReconnects, {}, reconnects + 1, 10s));
  // The restarted daemon found its container dead (no live-restore): the re-list says so.
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", with(before_series, "state", "exited"), 1));
  // And the stream is followed again.
  docker("run -d --name " + after + " --network none " + std::string(kImage) + " sleep 3600");
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_state",
                                   with(container_series("", "", after), "state", "running"), 1));
  EXPECT_LE(settled_fds(agent.pid()), fds_at_start);
  EXPECT_TRUE(agent.running());
}

}  // namespace
}  // namespace itest
