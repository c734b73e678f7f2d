// Counters kept in --state.dir across agent restarts, and the event stream resumed from
// the last moment it was known live: an OOM kill while the agent is down, or between an
// engine restart and the agent's reconnect on a quiet host, is counted once.

#include <fstream>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOomKills = "composewatch_container_oom_kills_total";
constexpr const char* kRestarts = "composewatch_container_restarts_total";
constexpr const char* kExits = "composewatch_container_exits_total";
constexpr const char* kGap = "composewatch_event_gap_seconds";
constexpr const char* kLastExit = "composewatch_container_last_exit_reason";
constexpr const char* kLastOomKill = "composewatch_container_last_oom_kill_timestamp_seconds";

Labels oom_exit(const Labels& series) { return with(series, "reason", "oom"); }

// The agent's lines about resuming, for a failure message (the tail is mostly scrapes).
std::string resume_lines(const AgentProcess& agent) {
  std::istringstream in(agent.log());
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.find("saved state") != std::string::npos || line.find("missed") != std::string::npos ||
        line.find("connected to the Docker engine") != std::string::npos)
      out += line + "\n";
  return out;
}

TEST(Persistence, CountersSurviveAnAgentRestartAndAKillWhileItWasDownIsCounted) {
  Cleanup cleanup;
  const fs::path state = make_temp_dir(cleanup, "persist");
  const std::string project = unique_name("persist"), first = unique_name("hog"), second = unique_name("hog");
  const Labels first_series = container_series(project, "hog", first);
  const Labels second_series = container_series(project, "hog", second);
  {
    AgentProcess agent({.state_dir = state});
    run_container(cleanup, {first, project, "hog", kMemoryLimit, memory_hog()});
    ASSERT_TRUE(metric_eventually_eq(agent, kOomKills, first_series, 1));
    ASSERT_TRUE(metric_eventually_eq(agent, kExits, with(oom_exit(first_series), "exit_code", "137"), 1));
    EXPECT_EQ(agent.stop(), 0);
  }
  const std::string saved = read_text(state / "state.json");
  ASSERT_NE(saved.find("\"composewatch-state\""), std::string::npos) << saved;
  ASSERT_NE(saved.find(first), std::string::npos) << saved;

  // While no agent runs: the first container is started again and killed again, a
  // second one is killed once.
  const std::string away_since = must("date +%s.%N");
  must("docker start " + first);
  run_container(cleanup, {second, project, "hog", kMemoryLimit, memory_hog()});
  ASSERT_TRUE(inspect_eventually(first, "{{.State.Status}} {{.State.ExitCode}}", "exited 137"));
  ASSERT_TRUE(inspect_eventually(second, "{{.State.Status}} {{.State.ExitCode}}", "exited 137"));
  // What the engine kept of a kill while no agent ran: its OOMKilled flag (and its events,
  // which it replays). It loses a kill now and then (docs/engines.md): the agent, away at
  // the time, can count no more than the engine kept.
  const auto kept = [&](const std::string& name) {
    return int(inspect(name, "{{.State.OOMKilled}}") == "true" ||
               !must("docker events --since " + away_since + " --until \"$(date +%s.%N)\" --filter event=oom --filter container=" +
                     quote(name) + " --format '{{.Action}}'").empty());
  };
  const int first_kept = kept(first), second_kept = kept(second);
  if (!first_kept || !second_kept) std::cerr << "[note] the engine lost an OOM kill while the agent was away\n";

  AgentProcess agent({.state_dir = state});
  EXPECT_TRUE(metric_eventually_eq(agent, kOomKills, first_series, 1 + first_kept));
  EXPECT_TRUE(metric_eventually_eq(agent, kRestarts, first_series, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, kExits, with(oom_exit(first_series), "exit_code", "137"), 1 + first_kept));
  if (second_kept)
    EXPECT_TRUE(metric_eventually_eq(agent, kLastExit, oom_exit(second_series), 1)) << "a death while the agent was away";
  EXPECT_TRUE(metric_eventually_eq(agent, kOomKills, second_series, second_kept));
  EXPECT_TRUE(metric_stays_eq(agent, kOomKills, first_series, 1 + first_kept, 3s)) << "replayed events are not counted twice";
  EXPECT_TRUE(metric_eventually_eq(agent, kGap, {}, 0)) << "the engine replayed all of it";
  EXPECT_NE(agent.log().find("saved state loaded"), std::string::npos) << agent.log_tail();
  if (::testing::Test::HasFailure())
    ADD_FAILURE() << "how the agent resumed:\n" << resume_lines(agent) << "from:\n" << saved;
}

// A restarted agent shows the same exit classes and the same time of the last OOM kill:
// an old kill is not presented as new (the OOM alert fires on a recent timestamp).
TEST(Persistence, ExitClassesAndTheLastOomKillTimeSurviveARestart) {
  Cleanup cleanup;
  const fs::path state = make_temp_dir(cleanup, "persist-class");
  const std::string project = unique_name("persist"), name = unique_name("hog");
  const Labels series = container_series(project, "hog", name);
  double killed_at = 0;
  {
    AgentProcess agent({.state_dir = state});
    ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_engine_up", {}, 1));
    run_container(cleanup, {name, project, "hog", kMemoryLimit, memory_hog()});
    ASSERT_TRUE(metric_eventually_eq(agent, kExits, with(oom_exit(series), "exit_code", "137"), 1));
    ASSERT_TRUE(metric_eventually(agent, kLastOomKill, series, [](auto v) { return v.has_value(); }, "present"));
    killed_at = *agent.scrape().value(kLastOomKill, series);
    EXPECT_EQ(agent.stop(), 0);
  }
  EXPECT_NE(read_text(state / "state.json").find("\"exits_by_reason\":{\"oom\":{\"137\":1}}"), std::string::npos)
      << read_text(state / "state.json");
  std::this_thread::sleep_for(1s);  // a time taken anew would differ
  AgentProcess agent({.state_dir = state});
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_engine_up", {}, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, kLastOomKill, series, killed_at));
  EXPECT_TRUE(metric_eventually_eq(agent, kExits, with(oom_exit(series), "exit_code", "137"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, kLastExit, oom_exit(series), 1));
  Metrics m = agent.scrape();
  EXPECT_EQ(m.find(kExits, series).size(), 1u) << m.lines(kExits, series);
}

TEST(Persistence, ACorruptStateFileIsSetAsideAndTheAgentRuns) {
  Cleanup cleanup;
  const fs::path state = make_temp_dir(cleanup, "persist-bad");
  std::ofstream(state / "state.json") << ",";
  AgentProcess agent({.state_dir = state});
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_engine_up", {}, 1));
  EXPECT_EQ(agent.stop(), 0);
  bool aside = false;
  for (const auto& e : fs::directory_iterator(state))
    if (e.path().filename().string().rfind("state.json.bad-", 0) == 0) aside = read_text(e.path()) == ",";
  EXPECT_TRUE(aside) << "the unreadable file is kept beside the new one";
  EXPECT_NE(read_text(state / "state.json").find("\"composewatch-state\""), std::string::npos);
  EXPECT_NE(agent.log().find("saved state not used"), std::string::npos) << agent.log_tail();
}

// The engine restarted under an agent that has seen no event since it connected (a
// quiet host), and a container OOM-killed as soon as the engine answers again: counted,
// whether the kill falls before or after the agent's reconnect. A private engine, since
// this one is restarted.
TEST(Persistence, AQuietHostsEngineRestartLosesNoKill) {
  const std::string dir = "/tmp/cwpq-" + std::to_string(::getpid());
  const std::string script = quote((source_dir() / "scripts/private-engine.sh").string());
  const std::string host = must(script + " start " + dir, 150s);
  struct Stop {
    std::string cmd;
    ~Stop() { sh(cmd, 120s); }
  } stop{script + " stop " + dir};
  const auto docker = [&](const std::string& args) { return "docker -H " + host + " " + args; };

  const std::string name = unique_name("quiet");
  AgentProcess agent({.args = {"--docker.host=" + host}});
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_engine_up", {}, 1));
  must(docker("create --name " + name + " --network none " + kMemoryLimit + " " + kImage + " " + memory_hog()));
  const Labels series = container_series("", "", name);
  ASSERT_TRUE(metric_eventually_eq(agent, kOomKills, series, 0));
  std::this_thread::sleep_for(1500ms);  // the create is well behind the resume margin

  // Restart the engine (SIGTERM, as systemctl restart does) and kill at once.
  must("pid=$(cat " + dir + "/docker.pid) && kill -TERM $pid && while [ -e /proc/$pid ]; do sleep 0.1; done", 60s);
  must(script + " start " + dir, 150s);
  must(docker("start " + name));
  std::string st;
  for (auto until = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(100ms))
    if ((st = sh(docker("inspect -f '{{.State.Status}} {{.State.OOMKilled}}' " + name)).out) == "exited true\n") break;
  ASSERT_EQ(st, "exited true\n");

  EXPECT_TRUE(metric_eventually_eq(agent, kOomKills, series, 1, 60s)) << agent.log_tail();
  EXPECT_TRUE(metric_eventually_eq(agent, kExits, with(oom_exit(series), "exit_code", "137"), 1));
  EXPECT_TRUE(metric_stays_eq(agent, kOomKills, series, 1, 3s));
  if (::testing::Test::HasFailure()) ADD_FAILURE() << "how the agent resumed:\n" << resume_lines(agent);
  must(docker("rm -f " + name));
}

}  // namespace
}  // namespace itest
