// Signals during start-up: from the first moments of `composewatch run`, SIGTERM/SIGINT
// stop the agent with exit 0 and SIGHUP never kills it, even while start-up waits on an
// engine. The engine here is the fake engine, silent — a unix socket whose connections the
// kernel completes and nobody answers, which a real engine cannot be made to do on demand —
// so the agent sits in its first engine call (GET /info, 2 s connect + 5 s request
// deadline) when the signals arrive.

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "fake_engine.h"
#include "harness.h"

namespace itest {
namespace {

// The signal masks of /proc/<pid>/status: blocked and caught.
bool signal_in(pid_t pid, const char* field, int sig) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return (std::stoull(line.substr(std::strlen(field)), nullptr, 16) >> (sig - 1)) & 1;
  return false;
}
// The agent has taken charge of `sig` (blocked it until its handler is in, or caught it):
// from here the signal cannot take the default action.
bool handles(pid_t pid, int sig) { return signal_in(pid, "SigBlk:", sig) || signal_in(pid, "SigCgt:", sig); }

struct StartingAgent {
  Cleanup cleanup;
  std::filesystem::path dir = make_temp_dir(cleanup, "signals");
  composewatch::test_support::FakeEngine engine{{.socket_path = dir / "docker.sock", .silent = true}};
  std::chrono::steady_clock::time_point spawned = std::chrono::steady_clock::now();
  AgentProcess agent{{.args = {"--docker.host=" + engine.docker_host()}, .wait_listening = false}};

  // Waits until the agent handles SIGTERM and SIGHUP; returns how long after the spawn.
  std::chrono::milliseconds wait_until_handled() {
    while (!(handles(agent.pid(), SIGTERM) && handles(agent.pid(), SIGHUP) && handles(agent.pid(), SIGINT))) {
      if (!agent.running()) throw std::runtime_error("the agent exited:\n" + agent.log_tail());
      if (std::chrono::steady_clock::now() - spawned > 5s) throw std::runtime_error("signals never handled");
      std::this_thread::sleep_for(1ms);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - spawned);
  }
};

TEST(StartUpSignals, SigtermWhileTheEngineDoesNotAnswerExitsZeroAtOnce) {
  StartingAgent s;
  const auto at = s.wait_until_handled();
  std::cout << "signals handled " << at.count() << " ms after the spawn\n";
  EXPECT_LT(at, 100ms) << "signals should be handled within the first 100 ms";
  kill(s.agent.pid(), SIGTERM);
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return !s.agent.running(); }, 3s, "the agent exits on SIGTERM", [&] {
    return s.agent.log_tail();
  }));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  EXPECT_EQ(s.agent.stop(), 0) << s.agent.log_tail();
  EXPECT_LT(took, 2s) << "SIGTERM waited for the engine call's deadline";
  EXPECT_NE(s.agent.log().find("received SIGTERM, shutting down"), std::string::npos) << s.agent.log_tail();
}

TEST(StartUpSignals, SigintDuringStartUpExitsZero) {
  StartingAgent s;
  s.wait_until_handled();
  kill(s.agent.pid(), SIGINT);
  ASSERT_TRUE(eventually([&] { return !s.agent.running(); }, 3s, "the agent exits on SIGINT"));
  EXPECT_EQ(s.agent.stop(), 0) << s.agent.log_tail();
}

TEST(StartUpSignals, SighupDuringStartUpDoesNotKillTheAgent) {
  StartingAgent s;
  const auto at = s.wait_until_handled();
  EXPECT_LT(at, 100ms);
  kill(s.agent.pid(), SIGHUP);
  std::this_thread::sleep_for(300ms);
  kill(s.agent.pid(), SIGHUP);  // twice: a second one before the first was handled
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(s.agent.running()) << "SIGHUP killed the agent:\n" << s.agent.log_tail();
  // Still a clean stop afterwards.
  EXPECT_EQ(s.agent.stop(), 0) << s.agent.log_tail();
}

TEST(ReloadSignal, TheLogSaysReloadedOnlyForWhatTookEffect) {
  Cleanup cleanup;
  const auto dir = make_temp_dir(cleanup, "reload");
  const auto config = dir / "config.yml";
  std::ofstream(config) << "disk: {interval: 5m}\n";
  AgentProcess agent({.args = {"--config.file=" + config.string()}});
  std::ofstream(config) << "disk: {interval: 10m}\n";
  kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return agent.log().find("SIGHUP: changed settings") != std::string::npos; }, 10s,
                         "the reload is logged", [&] { return agent.log_tail(); }));
  const std::string log = agent.log();
  EXPECT_NE(log.find("SIGHUP: configuration valid; compose.projects and prune.policies reloaded"), std::string::npos)
      << agent.log_tail();
  EXPECT_NE(log.find("changed settings not applied; they take effect at the next start\" settings=disk.interval"),
            std::string::npos)
      << agent.log_tail();
  EXPECT_EQ(log.find("reloaded and valid"), std::string::npos) << "no blanket 'reloaded'";
  EXPECT_TRUE(agent.running());
  EXPECT_EQ(agent.stop(), 0);
}

}  // namespace
}  // namespace itest
