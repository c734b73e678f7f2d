// One-shot commands never hang: every network call has a deadline, and when one runs out
// the command exits non-zero naming the call and the endpoint. The stuck peers are the fake
// engine, silent: its connections complete in the kernel and are never answered (a real
// engine or agent cannot be made to do that on demand), on a unix socket in place of the
// engine and on loopback TCP in place of the agent.

#include <chrono>
#include <fstream>
#include <iostream>

#include "fake_engine.h"
#include "harness.h"

namespace itest {
namespace {

using composewatch::test_support::FakeEngine;

std::string bin() { return quote(agent_binary().string()); }

struct Timed {
  ShResult r;
  std::chrono::milliseconds took;
};

Timed timed_sh(const std::string& cmd, std::chrono::milliseconds timeout) {
  const auto t0 = std::chrono::steady_clock::now();
  ShResult r = sh(cmd, timeout);
  return {r, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)};
}

TEST(OneShotDeadlines, StatusOnAStuckEngineFailsWithinItsDeadlineNamingTheCall) {
  Cleanup cleanup;
  const auto dir = make_temp_dir(cleanup, "stuck-engine");
  FakeEngine engine({.socket_path = dir / "docker.sock", .silent = true});
  const auto t = timed_sh(bin() + " status --docker.host=" + quote(engine.docker_host()), 40s);
  EXPECT_NE(t.r.code, 124) << "status hung on an engine that never answers";
  EXPECT_EQ(t.r.code, 2) << t.r.out << t.r.err;
  EXPECT_LT(t.took, 13s) << "the one-shot deadline is 10 s per call";
  EXPECT_NE(t.r.err.find("_ping"), std::string::npos) << t.r.err;
  EXPECT_NE(t.r.err.find(engine.docker_host()), std::string::npos) << t.r.err;
  EXPECT_NE(t.r.err.find("no answer within 10s"), std::string::npos) << t.r.err;
  std::cout << "status gave up after " << t.took.count() << " ms: " << t.r.err;
}

TEST(OneShotDeadlines, StatusWithAStuckAgentStillPrintsTheTable) {
  Cleanup cleanup;
  const auto dir = make_temp_dir(cleanup, "stuck-agent");
  FakeEngine agent({.tcp = true, .silent = true});
  const std::string address = "127.0.0.1:" + std::to_string(agent.port());
  std::ofstream(dir / "config.yml") << "web: {listen_address: \"" << address << "\"}\n";
  const auto t = timed_sh(bin() + " status --config.file=" + quote((dir / "config.yml").string()), 60s);
  EXPECT_EQ(t.r.code, 0) << t.r.out << t.r.err;
  EXPECT_LT(t.took, 15s) << "the agent's counters have a 2 s deadline";
  EXPECT_NE(t.r.out.find("PROJECT"), std::string::npos) << t.r.out;
  EXPECT_NE(t.r.out.find("GET /metrics on " + address + ": no answer within 2s"), std::string::npos) << t.r.out;
}

}  // namespace
}  // namespace itest
