// Auto-heal against the real engine: Compose v1 projects whose health check the test
// flips (`rm /tmp/ok`), short timings, the agent's /metrics and the engine's own events
// as the evidence of what was restarted and when.

#include <fstream>
#include <future>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

constexpr const char* kActions = "composewatch_autoheal_actions_total";
constexpr const char* kSuppressed = "composewatch_autoheal_suppressed_total";
constexpr const char* kGivenUp = "composewatch_autoheal_given_up";

// A container that stops at once on SIGTERM (so a restart takes no stop timeout) and is
// healthy while /tmp/ok exists; `setup` runs first.
std::string service(const std::string& name, const std::string& setup, const std::string& extra = "",
                    bool healthcheck = true) {
  std::string s = "  " + name + ":\n    image: " + std::string(kImage) + "\n" + extra;
  s += "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; " + setup + " sleep 3600 & wait\"]\n";
  if (healthcheck)
    s += "    healthcheck: {test: [\"CMD\", \"test\", \"-f\", \"/tmp/ok\"], interval: 1s, timeout: 1s, retries: 1}\n";
  if (extra.find("network_mode") == std::string::npos) s += "    network_mode: none\n";
  return s;
}
constexpr const char* kOptIn = "    labels: [composewatch.autoheal=true]\n";
constexpr const char* kHealthy = "touch /tmp/ok;";

struct Project {
  Cleanup& cleanup;
  std::string name;
  fs::path dir;
  std::string compose;  // the docker-compose command line, -p and -f given

  Project(Cleanup& c, const std::string& services) : cleanup(c), name(unique_name("autoheal")) {
    dir = make_temp_dir(cleanup, "autoheal");
    const fs::path file = dir / "docker-compose.yml";
    std::ofstream(file) << "services:\n" << services;
    cleanup.compose(file, name);
    compose = "docker-compose -p " + quote(name) + " -f " + quote(file.string());
  }
  // v1's name on the host's engine, v2's on a nested one (harness.h, TestEngine).
  std::string container(const std::string& service) const { return test_engine().compose_container(name, service); }
  Labels series(const std::string& service) const { return container_series(name, service, container(service)); }
  fs::path config(const std::string& autoheal) const {
    const fs::path p = dir / "composewatch.yml";
    std::ofstream(p) << "autoheal:\n" << autoheal;
    return p;
  }
  void up() const { must(compose + " up -d 2>&1", 120s); }
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The engine's events since `since` (unix seconds) that pass `filter` (a `docker events
// --filter` value): action, the kill's signal, time in seconds.
struct EngineEvent {
  std::string action;
  double time = 0;
  std::string signal;  // of a kill
};
std::vector<EngineEvent> engine_events_where(const std::string& filter, double since) {
  const std::string out = must("docker events --since " + std::to_string(std::int64_t(since) - 1) + " --until " +
                               std::to_string(std::int64_t(now_seconds()) + 1) + " --filter " + quote(filter) +
                               " --format '{{.Action}}|{{index .Actor.Attributes \"signal\"}}|{{.TimeNano}}'");
  std::vector<EngineEvent> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto bar = line.rfind('|');
    if (bar == std::string::npos || bar == 0) continue;
    auto sig = line.rfind('|', bar - 1);
    if (sig == std::string::npos) continue;
    v.push_back({line.substr(0, sig), std::stod(line.substr(bar + 1)) / 1e9, line.substr(sig + 1, bar - sig - 1)});
  }
  return v;
}
std::vector<EngineEvent> engine_events(const std::string& container, double since) {
  return engine_events_where("container=" + container, since);
}
// The times of the kills with `signal` ("15", "9").
std::vector<double> kill_times(const std::vector<EngineEvent>& events, const std::string& signal) {
  std::vector<double> t;
  for (const auto& e : events)
    if (e.action == "kill" && e.signal == signal) t.push_back(e.time);
  return t;
}
std::vector<double> times_of(const std::vector<EngineEvent>& events, const std::string& action) {
  std::vector<double> t;
  for (const auto& e : events)
    if (e.action == action) t.push_back(e.time);
  return t;
}
std::string describe(const std::vector<EngineEvent>& events, double since) {
  std::ostringstream os;
  for (const auto& e : events)
    os << "  +" << (e.time - since) << "s " << e.action << (e.signal.empty() ? "" : " signal=" + e.signal) << "\n";
  return os.str();
}

std::string lines_with(const std::string& log, const std::string& needle) {
  std::istringstream in(log);
  std::string out;
  for (std::string l; std::getline(in, l);)
    if (l.find(needle) != std::string::npos) out += l + "\n";
  return out;
}

testing::AssertionResult health_eventually(const std::string& container, const std::string& status,
                                           std::chrono::milliseconds timeout = 30s) {
  return inspect_eventually(container, "{{.State.Health.Status}}", status, timeout);
}

AgentOptions agent_with(const fs::path& config, fs::path state = {}) {
  return {.args = {"--config.file=" + config.string()}, .state_dir = std::move(state)};
}

TEST(Autoheal, RestartsAnOptedInServiceAfterUnhealthyForWithItsNetworkDependentWhenAskedAndNothingElse) {
  Cleanup cleanup;
  Project p(cleanup,
            service("web", "mkdir -p /www; echo served > /www/index.html; httpd -p 127.0.0.1:8080 -h /www; " +
                               std::string(kHealthy),
                    kOptIn) +
                // It ignores SIGTERM: its restart takes its own 12 s stop timeout, longer
                // than the grace for the events of the agent's own actions.
                service("sidecar", "trap '' TERM;", "    network_mode: \"service:web\"\n    stop_grace_period: 12s\n",
                        false) +
                service("bystander", kHealthy));
  const auto cfg =
      p.config("  unhealthy_for: 4s\n  backoff: 1s\n  max_attempts: 3\n  window: 1h\n  restart_dependents: true\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string web = p.container("web"), sidecar = p.container("sidecar"), bystander = p.container("bystander");
  ASSERT_TRUE(health_eventually(web, "healthy"));
  ASSERT_TRUE(health_eventually(bystander, "healthy"));
  ASSERT_EQ(must("docker exec " + sidecar + " wget -q -O- http://127.0.0.1:8080/"), "served");
  // A one-off of the sidecar's service shares web's namespace too, but it is someone's
  // task, not a replica: never restarted. Compose v1 refuses `run` of a service with
  // network_mode: service:X (it adds links); the container is made as Compose v2's `run`
  // makes it: the service's labels, oneoff=True, the namespace of web's container.
  const std::string one_off = p.name + "-sidecar-run-0a1b2c";
  cleanup.container(one_off);
  must("docker run -d --name " + quote(one_off) + " --network container:" + inspect(web, "{{.Id}}") + " " +
       compose_labels(p.name, "sidecar") + " --label com.docker.compose.oneoff=True " + kImage + " sleep 3600");
  ASSERT_EQ(inspect(one_off, "{{index .Config.Labels \"com.docker.compose.oneoff\"}}"), "True");
  const std::string web_started = inspect(web, "{{.State.StartedAt}}");
  const std::string sidecar_started = inspect(sidecar, "{{.State.StartedAt}}");
  const std::string bystander_started = inspect(bystander, "{{.State.StartedAt}}");
  const std::string one_off_started = inspect(one_off, "{{.State.StartedAt}}");

  const double flipped = now_seconds();
  must("docker exec " + web + " rm /tmp/ok");
  must("docker exec " + bystander + " rm /tmp/ok");
  ASSERT_TRUE(health_eventually(web, "unhealthy", 10s));
  EXPECT_TRUE(metric_eventually_eq(agent, kActions, with(p.series("web"), "action", "restart"), 1, 40s))
      << agent.log_tail();

  // Restarted by the agent, `unhealthy_for` after the engine said unhealthy, not before.
  const auto events = engine_events(web, flipped);
  const auto unhealthy = times_of(events, "health_status: unhealthy");
  const auto restarts = times_of(events, "restart");
  ASSERT_FALSE(unhealthy.empty()) << describe(events, flipped);
  ASSERT_EQ(restarts.size(), 1u) << describe(events, flipped);
  const double delay = restarts[0] - unhealthy[0];
  EXPECT_GE(delay, 4.0) << describe(events, flipped);
  EXPECT_LT(delay, 7.0) << describe(events, flipped);
  EXPECT_NE(inspect(web, "{{.State.StartedAt}}"), web_started);
  EXPECT_TRUE(health_eventually(web, "healthy"));
  const std::string acted = lines_with(agent.log(), "auto-heal: restarting an unhealthy container");
  EXPECT_NE(acted.find("container=" + web), std::string::npos) << acted;
  EXPECT_NE(acted.find("attempt=1"), std::string::npos) << acted;
  // The kill, die, stop, start and restart of its own restart are not a user's action.
  EXPECT_TRUE(metric_stays_eq(agent, kSuppressed, with(p.series("web"), "reason", "user_action"), 0, 1s));

  // The sidecar shares web's network namespace: restarted after it, given its own stop
  // timeout, and it serves again.
  EXPECT_TRUE(metric_eventually_eq(agent, kActions, with(p.series("sidecar"), "action", "restart"), 1));
  EXPECT_NE(inspect(sidecar, "{{.State.StartedAt}}"), sidecar_started);
  const auto sidecar_events = engine_events(sidecar, flipped);
  const auto term = kill_times(sidecar_events, "15"), kill = kill_times(sidecar_events, "9");
  EXPECT_TRUE(term.size() == 1 && kill.size() == 1 && kill[0] - term[0] >= 12.0) << describe(sidecar_events, flipped);
  EXPECT_TRUE(eventually([&] { return sh("docker exec " + sidecar + " wget -q -O- http://127.0.0.1:8080/").out == "served\n"; },
                         10s, "the sidecar reaches web's server through the shared network namespace"));
  const std::string dependent = lines_with(agent.log(), "auto-heal: restarting a dependent");
  EXPECT_NE(dependent.find("reason=network_namespace"), std::string::npos) << dependent;
  // Which containers it touches is said at start and on the heal, by name.
  EXPECT_NE(lines_with(agent.log(), "restart_dependents is on").find("restart_dependents=true"), std::string::npos)
      << agent.log_tail();
  const std::string listed = lines_with(agent.log(), "auto-heal: restarting the dependents of a restarted container");
  EXPECT_NE(listed.find("dependents=" + sidecar + "(network_namespace)"), std::string::npos) << listed;
  EXPECT_EQ(listed.find(one_off), std::string::npos) << listed;
  EXPECT_EQ(inspect(one_off, "{{.State.StartedAt}}"), one_off_started);
  EXPECT_TRUE(times_of(engine_events(one_off, flipped), "restart").empty())
      << describe(engine_events(one_off, flipped), flipped);
  EXPECT_TRUE(agent.scrape().find(kActions, {{"container", one_off}}).empty());

  // Not opted in: never touched, no series, though unhealthy all along.
  EXPECT_EQ(inspect(bystander, "{{.State.Health.Status}}"), "unhealthy");
  EXPECT_EQ(inspect(bystander, "{{.State.StartedAt}}"), bystander_started);
  EXPECT_TRUE(times_of(engine_events(bystander, flipped), "restart").empty());
  EXPECT_TRUE(agent.scrape().find(kActions, {{"container", bystander}}).empty());
  EXPECT_TRUE(agent.scrape().find(kSuppressed, {{"container", bystander}}).empty());
}

// depends_on {restart: true} is newer than Compose v1 (which refuses the key): the
// project's file is loaded by the agent only, its containers made as Compose would label them.
TEST(Autoheal, RestartsTheServicesThatDependOnItWithRestartTrue) {
  Cleanup cleanup;
  const std::string project = unique_name("autoheal");
  const fs::path dir = make_temp_dir(cleanup, "autoheal-deps");
  const fs::path file = dir / "docker-compose.yml";
  const std::string image = std::string(kImage);
  std::ofstream(file) << "services:\n  db: {image: " << image << "}\n  api:\n    image: " << image
                      << "\n    depends_on: {db: {condition: service_started, restart: true}}\n  worker:\n"
                      << "    image: " << image << "\n    depends_on: [db]\n";
  const fs::path cfg = dir / "composewatch.yml";
  std::ofstream(cfg) << "compose:\n  projects:\n    - name: " << project << "\n      files: [" << file.string()
                     << "]\nautoheal:\n  unhealthy_for: 2s\n  backoff: 1s\n  restart_dependents: true\n";
  AgentProcess agent(agent_with(cfg));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", {{"project", project}}, 1));

  const std::string command = "sh -c " + quote("trap 'exit 0' TERM; touch /tmp/ok; sleep 3600 & wait");
  const std::string db = project + "_db_1", api = project + "_api_1", worker = project + "_worker_1";
  run_container(cleanup, {db, project, "db",
                          "--label composewatch.autoheal=true --health-cmd 'test -f /tmp/ok' --health-interval 1s "
                          "--health-timeout 1s --health-retries 1",
                          command});
  run_container(cleanup, {api, project, "api", "", command});
  run_container(cleanup, {worker, project, "worker", "", command});
  ASSERT_TRUE(health_eventually(db, "healthy"));
  const std::string api_started = inspect(api, "{{.State.StartedAt}}");
  const std::string worker_started = inspect(worker, "{{.State.StartedAt}}");

  must("docker exec " + db + " rm /tmp/ok");
  EXPECT_TRUE(metric_eventually_eq(agent, kActions, with(container_series(project, "db", db), "action", "restart"), 1,
                                   20s))
      << agent.log_tail();
  EXPECT_TRUE(metric_eventually_eq(agent, kActions, with(container_series(project, "api", api), "action", "restart"),
                                   1))
      << agent.log_tail();
  EXPECT_NE(inspect(api, "{{.State.StartedAt}}"), api_started);
  const std::string dependent = lines_with(agent.log(), "auto-heal: restarting a dependent");
  EXPECT_NE(dependent.find("container=" + api), std::string::npos) << dependent;
  EXPECT_NE(dependent.find("reason=depends_on"), std::string::npos) << dependent;
  // depends_on without restart: true is left alone.
  EXPECT_EQ(inspect(worker, "{{.State.StartedAt}}"), worker_started);
  EXPECT_TRUE(agent.scrape().find(kActions, {{"container", worker}}).empty());
}

TEST(Autoheal, RetriesWithGrowingGapsThenGivesUpAndSaysSo) {
  Cleanup cleanup;
  Project p(cleanup, service("broken", "", kOptIn));  // never healthy: /tmp/ok is never made
  const auto cfg = p.config("  unhealthy_for: 1s\n  backoff: 2s\n  max_attempts: 4\n  window: 1h\n");
  AgentProcess agent(agent_with(cfg));
  const double began = now_seconds();
  p.up();
  const std::string broken = p.container("broken");
  const Labels series = p.series("broken");
  ASSERT_TRUE(metric_eventually_eq(agent, kGivenUp, series, 1, 45s)) << agent.log_tail();
  EXPECT_EQ(agent.scrape().value(kActions, with(series, "action", "restart")), 4.0);
  EXPECT_EQ(agent.scrape().value(kSuppressed, with(series, "reason", "limit")), 1.0);
  EXPECT_GE(agent.scrape().value(kSuppressed, with(series, "reason", "backoff")).value_or(0), 1.0);
  const std::string gave_up = lines_with(agent.log(), "auto-heal gave up");
  EXPECT_NE(gave_up.find("container=" + broken), std::string::npos) << agent.log_tail();
  EXPECT_NE(gave_up.find("reason=limit"), std::string::npos) << gave_up;

  // Given up: no fifth restart.
  std::this_thread::sleep_for(3s);
  const auto events = engine_events(broken, began);
  const auto restarts = times_of(events, "restart");
  ASSERT_EQ(restarts.size(), 4u) << describe(events, began);
  // The backoff doubles (2 s, 4 s, 8 s) once it is longer than the time the container
  // takes to turn unhealthy again after a restart (about 1 s + unhealthy_for). Measured
  // between the kills that begin each restart (the engine's stamps vary by some 10 ms
  // from the agent's decisions).
  const auto kills = times_of(events, "kill");
  ASSERT_EQ(kills.size(), 4u) << describe(events, began);
  const double g1 = kills[1] - kills[0], g2 = kills[2] - kills[1], g3 = kills[3] - kills[2];
  constexpr double jitter = 0.2;
  EXPECT_GE(g1, 2.0 - jitter) << describe(events, began);
  EXPECT_GE(g2, 4.0 - jitter) << describe(events, began);
  EXPECT_GE(g3, 8.0 - jitter) << describe(events, began);
  EXPECT_GT(g3, g1 + 3.0) << describe(events, began);
  EXPECT_LT(g3, 11.0) << describe(events, began);

  // `composewatch status` reports it, from the running agent.
  const fs::path status_cfg = p.dir / "status.yml";
  std::ofstream(status_cfg) << "web:\n  listen_address: \"127.0.0.1:" << agent.port() << "\"\n";
  const ShResult status = sh(quote(agent_binary().string()) + " status --config.file=" + quote(status_cfg.string()));
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("auto-heal gave up on " + broken), std::string::npos) << status.out;
  const ShResult json = sh(quote(agent_binary().string()) + " status --format json --config.file=" + quote(status_cfg.string()));
  EXPECT_NE(json.out.find("\"autoheal_given_up\":true"), std::string::npos) << json.out;
}

TEST(Autoheal, LeavesAloneAContainerAUserStopsOrComposeRecreates) {
  Cleanup cleanup;
  Project p(cleanup, service("app", kHealthy, kOptIn));
  const auto cfg = p.config("  unhealthy_for: 6s\n  backoff: 1s\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string app = p.container("app");
  const Labels series = p.series("app");
  ASSERT_TRUE(health_eventually(app, "healthy"));
  const double began = now_seconds();

  // Stopped by hand while unhealthy, before unhealthy_for has passed.
  must("docker exec " + app + " rm /tmp/ok");
  ASSERT_TRUE(health_eventually(app, "unhealthy", 10s));
  must("docker stop -t 5 " + app);
  EXPECT_TRUE(metric_eventually_eq(agent, kSuppressed, with(series, "reason", "user_action"), 1, 10s))
      << agent.log_tail();
  const std::string suppressed = lines_with(agent.log(), "auto-heal suppressed");
  EXPECT_NE(suppressed.find("reason=user_action"), std::string::npos) << suppressed;

  // Started again, unhealthy again, and re-created by Compose within the grace.
  must("docker start " + app);
  ASSERT_TRUE(health_eventually(app, "healthy"));
  must("docker exec " + app + " rm /tmp/ok");
  ASSERT_TRUE(health_eventually(app, "unhealthy", 10s));
  must(p.compose + " up -d --force-recreate 2>&1", 120s);
  EXPECT_TRUE(metric_eventually_eq(agent, kSuppressed, with(series, "reason", "user_action"), 2, 10s))
      << agent.log_tail();
  // Past every grace: the agent restarted nothing.
  std::this_thread::sleep_for(7s);
  EXPECT_TRUE(times_of(engine_events(app, began), "restart").empty()) << describe(engine_events(app, began), began);
  EXPECT_EQ(agent.scrape().value(kActions, with(series, "action", "restart")), 0.0);
  EXPECT_EQ(inspect(app, "{{.State.Health.Status}}"), "healthy");
}

TEST(Autoheal, AnAgentRestartedMidGraceNeitherActsEarlyNorTwice) {
  Cleanup cleanup;
  const fs::path state = make_temp_dir(cleanup, "autoheal-state");
  Project p(cleanup, service("app", kHealthy, kOptIn));
  const auto cfg = p.config("  unhealthy_for: 8s\n  backoff: 1s\n");
  const std::string app = p.container("app");
  const Labels series = p.series("app");
  double flipped = 0;
  {
    AgentProcess first(agent_with(cfg, state));
    p.up();
    ASSERT_TRUE(health_eventually(app, "healthy"));
    flipped = now_seconds();
    must("docker exec " + app + " rm /tmp/ok");
    ASSERT_TRUE(health_eventually(app, "unhealthy", 10s));
    std::this_thread::sleep_for(3s);  // mid-grace
    EXPECT_EQ(first.stop(), 0);
  }
  AgentProcess second(agent_with(cfg, state));
  EXPECT_TRUE(metric_eventually_eq(second, kActions, with(series, "action", "restart"), 1, 20s)) << second.log_tail();
  const auto events = engine_events(app, flipped);
  const auto unhealthy = times_of(events, "health_status: unhealthy");
  const auto restarts = times_of(events, "restart");
  ASSERT_FALSE(unhealthy.empty()) << describe(events, flipped);
  ASSERT_EQ(restarts.size(), 1u) << describe(events, flipped);
  // Counted from the engine's unhealthy event, kept across the agent restart: not early,
  // and not 8 s from the second agent's start either.
  EXPECT_GE(restarts[0] - unhealthy[0], 8.0) << describe(events, flipped);
  EXPECT_LT(restarts[0] - unhealthy[0], 10.5) << describe(events, flipped);
  ASSERT_TRUE(health_eventually(app, "healthy"));
  EXPECT_EQ(second.stop(), 0);

  // A third agent on the same state: the count carries on and nothing is done again.
  AgentProcess third(agent_with(cfg, state));
  EXPECT_TRUE(metric_stays_eq(third, kActions, with(series, "action", "restart"), 1, 3s)) << third.log_tail();
  EXPECT_EQ(times_of(engine_events(app, flipped), "restart").size(), 1u);
}

TEST(Autoheal, ActionStopStopsItAndTouchesNoDependent) {
  Cleanup cleanup;
  Project p(cleanup, service("app", kHealthy, kOptIn) + service("sidecar", "", "    network_mode: \"service:app\"\n", false));
  const auto cfg = p.config("  unhealthy_for: 2s\n  action: stop\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string app = p.container("app"), sidecar = p.container("sidecar");
  ASSERT_TRUE(health_eventually(app, "healthy"));
  const std::string sidecar_started = inspect(sidecar, "{{.State.StartedAt}}");
  must("docker exec " + app + " rm /tmp/ok");
  EXPECT_TRUE(metric_eventually_eq(agent, kActions, with(p.series("app"), "action", "stop"), 1, 20s)) << agent.log_tail();
  EXPECT_TRUE(inspect_eventually(app, "{{.State.Status}}", "exited", 10s));
  EXPECT_EQ(agent.scrape().value(kActions, with(p.series("app"), "action", "restart")), 0.0);
  // Its own stop is not taken for a user's.
  EXPECT_EQ(agent.scrape().value(kSuppressed, with(p.series("app"), "reason", "user_action")), 0.0);
  EXPECT_EQ(inspect(sidecar, "{{.State.StartedAt}}"), sidecar_started);
  EXPECT_NE(lines_with(agent.log(), "auto-heal: stopping an unhealthy container").find("container=" + app),
            std::string::npos)
      << agent.log_tail();
}

TEST(Autoheal, DryRunRestartsNothingAndCountsWhatItWouldHaveDone) {
  Cleanup cleanup;
  Project p(cleanup, service("app", kHealthy, kOptIn));
  const auto cfg = p.config("  unhealthy_for: 2s\n  backoff: 1s\n  max_attempts: 5\n  dry_run: true\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string app = p.container("app");
  const Labels series = p.series("app");
  ASSERT_TRUE(health_eventually(app, "healthy"));
  const std::string started = inspect(app, "{{.State.StartedAt}}");
  const double flipped = now_seconds();
  must("docker exec " + app + " rm /tmp/ok");
  ASSERT_TRUE(metric_eventually(
      agent, kSuppressed, with(series, "reason", "dry_run"), [](auto v) { return v && *v >= 2; },
      "two would-be restarts", 20s))
      << agent.log_tail();
  EXPECT_EQ(agent.scrape().value(kActions, with(series, "action", "restart")), 0.0);
  EXPECT_EQ(inspect(app, "{{.State.StartedAt}}"), started);
  EXPECT_EQ(inspect(app, "{{.State.Health.Status}}"), "unhealthy");
  EXPECT_TRUE(times_of(engine_events(app, flipped), "restart").empty());
  const std::string would = lines_with(agent.log(), "auto-heal dry run: would act");
  EXPECT_NE(would.find("container=" + app), std::string::npos) << agent.log_tail();
  EXPECT_NE(would.find("reason=dry_run"), std::string::npos) << would;
}

// restart_dependents is opt-in too: by default a container that shares the healed one's
// network namespace is left alone (and the log names it), though it loses its network.
TEST(Autoheal, WithTheDefaultSettingsADependentIsNotTouched) {
  Cleanup cleanup;
  Project p(cleanup, service("web", kHealthy, kOptIn) + service("sidecar", "", "    network_mode: \"service:web\"\n", false));
  const auto cfg = p.config("  unhealthy_for: 2s\n  backoff: 1s\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string web = p.container("web"), sidecar = p.container("sidecar");
  ASSERT_TRUE(health_eventually(web, "healthy"));
  const std::string sidecar_started = inspect(sidecar, "{{.State.StartedAt}}");
  const double flipped = now_seconds();
  must("docker exec " + web + " rm /tmp/ok");
  ASSERT_TRUE(metric_eventually_eq(agent, kActions, with(p.series("web"), "action", "restart"), 1, 20s))
      << agent.log_tail();
  std::this_thread::sleep_for(2s);  // past the moment a dependent's restart would follow
  EXPECT_EQ(inspect(sidecar, "{{.State.StartedAt}}"), sidecar_started);
  EXPECT_TRUE(times_of(engine_events(sidecar, flipped), "restart").empty())
      << describe(engine_events(sidecar, flipped), flipped);
  EXPECT_TRUE(agent.scrape().find(kActions, {{"container", sidecar}}).empty());
  EXPECT_NE(lines_with(agent.log(), "restart_dependents is off").find("restart_dependents=false"), std::string::npos)
      << agent.log_tail();
  const std::string left = lines_with(agent.log(), "auto-heal: dependents left alone");
  EXPECT_NE(left.find("dependents=" + sidecar + "(network_namespace)"), std::string::npos) << agent.log_tail();
}

// The engine stops a container by its stop signal, waits the container's own stop timeout
// (Compose's stop_grace_period, stored as Config.StopTimeout), then SIGKILLs. A container
// that ignores SIGTERM shows when the SIGKILL came.
TEST(Autoheal, ARestartWaitsTheServicesOwnStopGracePeriodBeforeSigkill) {
  Cleanup cleanup;
  Project p(cleanup, service("db", "trap '' TERM; " + std::string(kHealthy),
                             std::string(kOptIn) + "    stop_grace_period: 20s\n"));
  const auto cfg = p.config("  unhealthy_for: 2s\n  backoff: 1s\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string db = p.container("db");
  ASSERT_TRUE(health_eventually(db, "healthy"));
  ASSERT_EQ(inspect(db, "{{.Config.StopTimeout}}"), "20");
  const double flipped = now_seconds();
  must("docker exec " + db + " rm /tmp/ok");
  ASSERT_TRUE(metric_eventually_eq(agent, kActions, with(p.series("db"), "action", "restart"), 1, 60s))
      << agent.log_tail();
  const auto events = engine_events(db, flipped);
  const auto term = kill_times(events, "15"), kill = kill_times(events, "9");
  ASSERT_EQ(term.size(), 1u) << describe(events, flipped);
  ASSERT_EQ(kill.size(), 1u) << describe(events, flipped);
  EXPECT_GE(kill[0] - term[0], 20.0) << describe(events, flipped);
  EXPECT_LT(kill[0] - term[0], 23.0) << describe(events, flipped);
  EXPECT_EQ(times_of(events, "restart").size(), 1u) << describe(events, flipped);
  EXPECT_EQ(lines_with(agent.log(), "auto-heal action failed"), "");
  EXPECT_NE(lines_with(agent.log(), "auto-heal: restarting an unhealthy container").find("stop_timeout_seconds=20"),
            std::string::npos)
      << agent.log_tail();
  EXPECT_EQ(agent.scrape().value(kSuppressed, with(p.series("db"), "reason", "user_action")), 0.0);
}

// A stop timeout beyond what the request used to be given (40 s): the request outlasts
// it, and the stop is counted as done, not reported as failed. `docker run --stop-timeout`
// sets the same Config.StopTimeout as Compose.
TEST(Autoheal, AStopWaitsALongStopTimeoutAndIsNotReportedAsFailed) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "autoheal-stop");
  const std::string name = unique_name("autoheal-stop");
  run_container(cleanup, {name, "", "",
                          "--label composewatch.autoheal=true --stop-timeout 45 --health-cmd 'test -f /tmp/ok' "
                          "--health-interval 1s --health-timeout 1s --health-retries 1",
                          "sh -c " + quote("trap '' TERM; touch /tmp/ok; sleep 3600 & wait")});
  const fs::path cfg = dir / "composewatch.yml";
  std::ofstream(cfg) << "autoheal:\n  unhealthy_for: 2s\n  action: stop\n";
  AgentProcess agent(agent_with(cfg));
  ASSERT_TRUE(health_eventually(name, "healthy"));
  const double flipped = now_seconds();
  must("docker exec " + name + " rm /tmp/ok");
  const Labels series = container_series("", "", name);
  ASSERT_TRUE(metric_eventually_eq(agent, kActions, with(series, "action", "stop"), 1, 90s)) << agent.log_tail();
  EXPECT_EQ(inspect(name, "{{.State.Status}}"), "exited");
  const auto events = engine_events(name, flipped);
  const auto term = kill_times(events, "15"), kill = kill_times(events, "9");
  ASSERT_EQ(term.size(), 1u) << describe(events, flipped);
  ASSERT_EQ(kill.size(), 1u) << describe(events, flipped);
  EXPECT_GE(kill[0] - term[0], 45.0) << describe(events, flipped);
  EXPECT_EQ(lines_with(agent.log(), "auto-heal action failed"), "") << agent.log_tail();
  EXPECT_EQ(agent.scrape().value(kSuppressed, with(series, "reason", "user_action")), 0.0);
}

// A cron job's `docker-compose run --rm` of the service while its real container is
// unhealthy: the one-off carries the service's labels (the opt-in included) and health
// check, and turns unhealthy itself. It is never acted on, and its create and destroy do
// not end the real container's episode.
TEST(Autoheal, AOneOffRunOfTheServiceIsNeverHealedAndDoesNotKeepTheServiceFromIt) {
  Cleanup cleanup;
  Project p(cleanup, service("app", kHealthy, kOptIn));
  const auto cfg = p.config("  unhealthy_for: 6s\n  backoff: 1s\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string app = p.container("app");
  ASSERT_TRUE(health_eventually(app, "healthy"));
  const double flipped = now_seconds();
  must("docker exec " + app + " rm /tmp/ok");
  ASSERT_TRUE(health_eventually(app, "unhealthy", 10s));
  // Its command makes no /tmp/ok: unhealthy a second after it starts, for all its 15 s.
  auto job = std::async(std::launch::async,
                        [&] { return sh(p.compose + " run -T --rm app sh -c 'sleep 15' 2>&1", 90s); });
  const std::string of_project = "label=com.docker.compose.project=" + p.name;
  ASSERT_TRUE(eventually(
      [&] {
        return !sh("docker ps -q --filter label=com.docker.compose.oneoff=True --filter " + quote(of_project)).out.empty();
      },
      20s, "the one-off runs"));

  // The real container is healed, `unhealthy_for` after its own unhealthy event.
  EXPECT_TRUE(metric_eventually_eq(agent, kActions, with(p.series("app"), "action", "restart"), 1, 20s))
      << agent.log_tail();
  const auto events = engine_events(app, flipped);
  const auto unhealthy = times_of(events, "health_status: unhealthy");
  const auto restarts = times_of(events, "restart");
  ASSERT_FALSE(unhealthy.empty()) << describe(events, flipped);
  EXPECT_EQ(restarts.size(), 1u) << describe(events, flipped);
  if (restarts.size() == 1) {
    EXPECT_GE(restarts[0] - unhealthy[0], 6.0) << describe(events, flipped);
    EXPECT_LT(restarts[0] - unhealthy[0], 9.0) << describe(events, flipped);
  }
  EXPECT_EQ(agent.scrape().value(kSuppressed, with(p.series("app"), "reason", "user_action")), 0.0);

  // The job ran to its end undisturbed, was unhealthy, and nothing touched it.
  const ShResult run = job.get();
  EXPECT_EQ(run.code, 0) << run.out;
  std::string theirs;  // the one-off's events, one action a line
  {
    std::istringstream in(must("docker events --since " + std::to_string(std::int64_t(flipped) - 1) + " --until " +
                               std::to_string(std::int64_t(now_seconds()) + 1) + " --filter " + quote(of_project) +
                               " --format '{{index .Actor.Attributes \"com.docker.compose.oneoff\"}}|{{.Action}}'"));
    for (std::string line; std::getline(in, line);)
      if (line.rfind("True|", 0) == 0) theirs += line.substr(5) + "\n";
  }
  EXPECT_NE(theirs.find("health_status: unhealthy"), std::string::npos) << theirs;
  EXPECT_NE(theirs.find("destroy"), std::string::npos) << theirs;
  EXPECT_EQ(theirs.find("restart"), std::string::npos) << theirs;
  EXPECT_EQ(theirs.find("kill"), std::string::npos) << theirs;
  const Metrics scraped = agent.scrape();
  for (const auto* sample : scraped.find(kActions, {{"project", p.name}}))
    EXPECT_EQ(sample->labels.at("container"), app) << format_sample(*sample);
}

// `docker-compose down` stops the project's services one after the other, dependents
// first, each for up to its stop timeout, then removes them. An unhealthy container that
// becomes due meanwhile is not restarted in the middle of it.
TEST(Autoheal, LeavesAProjectAloneWhileComposeBringsItDown) {
  Cleanup cleanup;
  Project p(cleanup, service("db", kHealthy, kOptIn) +
                         service("api", "trap '' TERM;", "    depends_on: [db]\n    stop_grace_period: 8s\n", false));
  const auto cfg = p.config("  unhealthy_for: 4s\n  backoff: 1s\n");
  AgentProcess agent(agent_with(cfg));
  p.up();
  const std::string db = p.container("db");
  ASSERT_TRUE(health_eventually(db, "healthy"));
  const double flipped = now_seconds();
  must("docker exec " + db + " rm /tmp/ok");
  ASSERT_TRUE(health_eventually(db, "unhealthy", 10s));
  const ShResult down = sh(p.compose + " down 2>&1", 120s);
  EXPECT_EQ(down.code, 0) << down.out;

  const auto events = engine_events(db, flipped);
  EXPECT_TRUE(times_of(events, "restart").empty()) << describe(events, flipped);
  EXPECT_EQ(kill_times(events, "15").size(), 1u) << "only Compose's stop\n" << describe(events, flipped);
  // The test shows something only if db was due before Compose came to stop it.
  const auto unhealthy = times_of(events, "health_status: unhealthy");
  const auto stops = kill_times(events, "15");
  ASSERT_FALSE(unhealthy.empty()) << describe(events, flipped);
  ASSERT_FALSE(stops.empty()) << describe(events, flipped);
  EXPECT_GT(stops.back() - unhealthy[0], 4.0 + 1.0) << describe(events, flipped);
  EXPECT_EQ(agent.scrape().value(kActions, with(p.series("db"), "action", "restart")).value_or(0), 0.0);
  const std::string waited = lines_with(agent.log(), "auto-heal: waiting, containers of its project are being stopped");
  EXPECT_NE(waited.find("container=" + db), std::string::npos) << agent.log_tail();
}

}  // namespace
}  // namespace itest
