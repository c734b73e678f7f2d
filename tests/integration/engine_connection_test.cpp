// The agent and the engine's availability: an engine restart under a running agent, and
// an agent started before any engine answers. On a nested engine (harness.h, TestEngine)
// the restart stops and starts the engine's container, whose dockerd stops its containers
// on the way down as the host's does (scripts/nested-engine.sh down/up).

#include <filesystem>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

constexpr const char* kEngineUp = "composewatch_engine_up";
constexpr const char* kReconnects = "composewatch_event_stream_reconnects_total";

std::string engine_script() { return quote((source_dir() / "scripts/engine.sh").string()); }

// The commands that stop, start and ensure the engine under test.
std::string engine_stop() { return test_engine().nested() ? test_engine().script("down") : engine_script() + " stop"; }
std::string engine_start() { return test_engine().nested() ? test_engine().script("up") : engine_script() + " start"; }
std::string engine_ensure() {
  // `up` on a running container only waits for its socket.
  return test_engine().nested() ? test_engine().script("up") : engine_script() + " ensure";
}

TEST(EngineRestart, AgentSeesTheEngineGoAndComeBackAndCountsEventsAfterwards) {
  Cleanup cleanup;
  AgentProcess agent;
  const std::string sleeper = unique_name("sleeper"), hog = unique_name("oomafter");
  // --stop-timeout 1: the daemon's shutdown waits for running containers.
  run_container(cleanup, {.name = sleeper, .options = "--stop-timeout 1"});
  const Labels sleeper_series = container_series("", "", sleeper);
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", with(sleeper_series, "state", "running"), 1));
  ASSERT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1));
  const std::optional<double> reconnects_before = agent.scrape().value(kReconnects);
  ASSERT_TRUE(reconnects_before.has_value()) << kReconnects << " is not exported";

  // Whatever happens below, the engine is running again before the containers are removed.
  cleanup.add([] { sh(engine_ensure(), 150s); });

  must(engine_stop(), 150s);
  // Polled every 100 ms while the engine is down.
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 0, 20s));
  must(engine_start(), 150s);

  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 60s));
  EXPECT_TRUE(metric_eventually(
      agent, kReconnects, {}, [&](auto v) { return v && *v > *reconnects_before; },
      "> " + std::to_string(*reconnects_before), 60s));
  // The daemon stopped the sleeper on its way down.
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", with(sleeper_series, "state", "exited"), 1));

  run_container(cleanup, {.name = hog, .options = kMemoryLimit, .command = memory_hog()});
  ASSERT_TRUE(inspect_eventually(hog, "{{.State.Status}} {{.State.ExitCode}}", "exited 137"));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_oom_kills_total", container_series("", "", hog), 1));
}

// The agent speaks the engine's own API version up to the newest it has been tested
// against (1.51, Docker 28.5): 1.41 on the host's 20.10, 1.45 on 26.1, 1.51 on 28.5.
TEST(EngineApiSpoken, AgentSpeaksTheEnginesVersionUpToTheNewestTested) {
  const std::string engine_api = must("docker version --format '{{.Server.APIVersion}}'");
  const auto minor = [](const std::string& v) { return std::stoi(v.substr(v.find('.') + 1)); };
  const std::string expected = minor(engine_api) <= 51 ? engine_api : "1.51";
  AgentProcess agent;
  // composewatch_engine_info carries the engine's own version; the one spoken is logged.
  std::string connected;
  ASSERT_TRUE(eventually(
      [&] {
        std::istringstream log(agent.log());
        for (std::string line; std::getline(log, line);)
          if (line.find("msg=\"connected to the Docker engine\"") != std::string::npos) connected = line;
        return !connected.empty();
      },
      30s, "the agent logs its connection"))
      << agent.log_tail();
  EXPECT_NE(connected.find(" api_version=" + expected + " "), std::string::npos)
      << "the engine speaks " << engine_api << "; the agent logged: " << connected;
}

TEST(EngineAbsentAtStart, AgentServesAndBecomesReadyOnceTheSocketAppears) {
  Cleanup cleanup;
  // A socket path whose directory does not exist yet.
  const std::filesystem::path dir = "/tmp/" + unique_name("nosock");
  const std::filesystem::path socket = dir / "docker.sock";
  cleanup.path(dir);
  const std::string name = unique_name("early");

  AgentProcess agent({.args = {"--docker.host=unix://" + socket.string()}, .env = {{"DOCKER_HOST", std::nullopt}}});

  HttpResponse metrics = agent.get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_EQ(Metrics::parse(metrics.body).value(kEngineUp), 0.0);
  EXPECT_EQ(agent.get("/readyz").status, 503);
  EXPECT_EQ(agent.get("/healthz").status, 200);

  // A container the agent has not been able to see yet.
  run_container(cleanup, {.name = name});

  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink("/var/run/docker.sock", socket);

  int last_status = 0;
  EXPECT_TRUE(eventually(
      [&] {
        try {
          last_status = agent.get("/readyz").status;
        } catch (const std::exception&) {
          last_status = -1;
        }
        return last_status == 200;
      },
      35s, "/readyz == 200 after the socket appeared", [&] { return "last status " + std::to_string(last_status); }));
  EXPECT_TRUE(metric_eventually_eq(agent, kEngineUp, {}, 1, 5s));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_state",
                                   with(container_series("", "", name), "state", "running"), 1, 10s));
}

}  // namespace
}  // namespace itest
