// Container state counted from engine events: OOM kills, restarts, exits, health.
// Each test runs its own agent and containers against the real engine.

#include "harness.h"

namespace itest {
namespace {

constexpr const char* kOomKills = "composewatch_container_oom_kills_total";
constexpr const char* kRestarts = "composewatch_container_restarts_total";
constexpr const char* kExits = "composewatch_container_exits_total";
constexpr const char* kHealth = "composewatch_container_health_status";
constexpr const char* kStreak = "composewatch_container_health_failing_streak";

TEST(ContainerOom, CountsTheKillOfACreatedThenStartedContainer) {
  Cleanup cleanup;
  AgentProcess agent;
  const std::string project = unique_name("oomproj"), service = "hog", name = unique_name("oom");
  const Labels series = container_series(project, service, name);

  create_container(cleanup, {name, project, service, kMemoryLimit, memory_hog()});
  // Counters exist from the moment the container is known.
  ASSERT_TRUE(metric_eventually_eq(agent, kOomKills, series, 0));

  must("docker start " + name);
  ASSERT_TRUE(inspect_eventually(name, "{{.State.Status}} {{.State.OOMKilled}} {{.State.ExitCode}}",
                                 "exited true 137"));
  EXPECT_TRUE(metric_eventually_eq(agent, kOomKills, series, 1));
  EXPECT_TRUE(metric_stays_eq(agent, kOomKills, series, 1, 3s));
  EXPECT_TRUE(metric_eventually_eq(agent, kExits, with(series, "exit_code", "137"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, kRestarts, series, 0));
}

TEST(ContainerOom, CountsKillsHiddenByARestartPolicyAndAcrossRecreation) {
  Cleanup cleanup;
  AgentProcess agent;
  const std::string project = unique_name("oomproj"), service = "flaky", name = unique_name("oomrestart");
  const Labels series = container_series(project, service, name);

  // OOMs on the first run only: the container's file system outlives policy restarts.
  run_container(cleanup, {name, project, service, std::string(kMemoryLimit) + " --restart always",
                          memory_hog("if [ -f /done ]; then exec sleep 3600; fi; touch /done; ")});
  ASSERT_TRUE(inspect_eventually(name, "{{.RestartCount}} {{.State.Status}}", "1 running"));
  EXPECT_TRUE(metric_eventually_eq(agent, kOomKills, series, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, kRestarts, series, 1));
  EXPECT_TRUE(metric_stays_eq(agent, kOomKills, series, 1, 2s));

  // Engine 20.10 keeps State.OOMKilled until the next die: a SIGKILL (exit code 137 like
  // an OOM kill, but no oom event) clears it. From here on only the oom event, not
  // inspect nor the exit code, knows of the kill.
  must("docker kill " + name);
  ASSERT_TRUE(inspect_eventually(name, "{{.State.Status}} {{.State.OOMKilled}} {{.State.ExitCode}}",
                                 "exited false 137"));
  EXPECT_TRUE(metric_eventually_eq(agent, kExits, with(series, "exit_code", "137"), 2));
  EXPECT_TRUE(metric_stays_eq(agent, kOomKills, series, 1, 2s));
  EXPECT_TRUE(metric_eventually_eq(agent, kRestarts, series, 1));

  // Same name, new container: the counters carry on.
  must("docker rm -f " + name);
  run_container(cleanup, {name, project, service, kMemoryLimit, memory_hog()});
  ASSERT_TRUE(inspect_eventually(name, "{{.State.Status}} {{.State.OOMKilled}}", "exited true"));
  EXPECT_TRUE(metric_eventually_eq(agent, kOomKills, series, 2));
  EXPECT_TRUE(metric_stays_eq(agent, kOomKills, series, 2, 2s));
  // The start of the new container follows the die of the old one under the same name.
  EXPECT_TRUE(metric_eventually_eq(agent, kRestarts, series, 2));
}

TEST(ContainerRestarts, CountsPolicyRestartsAndEveryExit) {
  Cleanup cleanup;
  AgentProcess agent;
  const std::string project = unique_name("rsproj"), service = "crasher", name = unique_name("onfailure");
  const Labels series = container_series(project, service, name);

  run_container(cleanup, {name, project, service, "--restart on-failure:3", "sh -c 'exit 3'"});
  // Three policy restarts, then it stays down: four runs, four exits.
  ASSERT_TRUE(inspect_eventually(name, "{{.RestartCount}} {{.State.Status}} {{.State.Restarting}}",
                                 "3 exited false"));
  EXPECT_TRUE(metric_eventually_eq(agent, kRestarts, series, 3));
  EXPECT_TRUE(metric_eventually_eq(agent, kExits, with(series, "exit_code", "3"), 4));
  EXPECT_TRUE(metric_stays_eq(agent, kExits, with(series, "exit_code", "3"), 4, 2s));
  EXPECT_TRUE(metric_eventually_eq(agent, kOomKills, series, 0));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", with(series, "state", "exited"), 1));
}

TEST(ContainerHealth, FollowsUnhealthyThenHealthy) {
  Cleanup cleanup;
  AgentProcess agent;
  const std::string project = unique_name("hcproj"), service = "api", name = unique_name("health");
  const Labels series = container_series(project, service, name);

  run_container(cleanup, {name, project, service,
                          "--health-cmd 'test -f /tmp/ok' --health-interval 1s --health-retries 2 --health-timeout 1s"});

  ASSERT_TRUE(metric_eventually_eq(agent, kHealth, with(series, "status", "unhealthy"), 1));
  Metrics m = agent.scrape();
  for (const char* other : {"starting", "healthy", "none"})
    EXPECT_EQ(m.value(kHealth, with(series, "status", other)), 0.0) << other << "\n" << m.lines(kHealth, series);
  EXPECT_TRUE(metric_eventually(agent, kStreak, series, [](auto v) { return v && *v >= 2; }, ">= 2"));

  must("docker exec " + name + " touch /tmp/ok");
  EXPECT_TRUE(metric_eventually_eq(agent, kHealth, with(series, "status", "healthy"), 1));
  EXPECT_TRUE(metric_eventually_eq(agent, kHealth, with(series, "status", "unhealthy"), 0));
  EXPECT_TRUE(metric_eventually_eq(agent, kStreak, series, 0));
}

}  // namespace
}  // namespace itest
