// A real Compose project brought up and down while the agent watches: v1 on the host's
// engine, the release's v2 on a nested one (harness.h, TestEngine), which names containers
// project-service-n.

#include <regex>

#include "harness.h"

namespace itest {
namespace {

TEST(ComposeProject, ContainersAppearWithInfoAndStateAndKeepCountersAfterDown) {
  Cleanup cleanup;
  AgentProcess agent;
  const std::string project = unique_name("compose");
  const auto dir = make_temp_dir(cleanup, "compose");
  const auto file = dir / "docker-compose.yml";
  std::filesystem::copy_file(fixtures_dir() / "two-services.yml", file);
  cleanup.compose(file, project);
  const std::string compose = "docker-compose -p " + quote(project) + " -f " + quote(file.string());

  must(compose + " up -d 2>&1");

  struct Member {
    std::string service, container;
  };
  const TestEngine& e = test_engine();
  const std::vector<Member> members = {{"web", e.compose_container(project, "web", 1)},
                                       {"web", e.compose_container(project, "web", 2)},
                                       {"worker", e.compose_container(project, "worker", 1)}};
  for (const auto& m : members) {
    SCOPED_TRACE(m.container);
    const Labels series = container_series(project, m.service, m.container);
    const std::string id = short_id(m.container);
    ASSERT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{12}"))) << id;
    EXPECT_TRUE(metric_eventually_eq(
        agent, "composewatch_container_info",
        with(with(series, "id", id), "image", kImage), 1));
    EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", with(series, "state", "running"), 1));
    Metrics now = agent.scrape();
    EXPECT_EQ(now.value("composewatch_container_state", with(series, "state", "exited")), 0.0)
        << now.lines("composewatch_container_state", series);
    // One info series per container: the id and image labels are the only extra ones.
    auto info = now.find("composewatch_container_info", series);
    ASSERT_EQ(info.size(), 1u) << now.lines("composewatch_container_info", series);
    EXPECT_EQ(info.front()->labels.size(), 5u) << format_sample(*info.front());
  }

  must(compose + " down -v --remove-orphans -t 0 2>&1");

  for (const auto& m : members) {
    SCOPED_TRACE(m.container);
    const Labels series = container_series(project, m.service, m.container);
    EXPECT_TRUE(metric_eventually_absent(agent, "composewatch_container_info", series));
    EXPECT_TRUE(metric_eventually_absent(agent, "composewatch_container_state", series));
    // Counters outlive the container (retention >= 15 min).
    EXPECT_TRUE(metric_stays_eq(agent, "composewatch_container_oom_kills_total", series, 0, 1s));
    EXPECT_TRUE(metric_stays_eq(agent, "composewatch_container_restarts_total", series, 0, 1s));
  }
}

}  // namespace
}  // namespace itest
