// The auto-heal decision (autoheal/policy.h) on a fake clock, its state-file records and
// its series.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <unistd.h>

#include "composewatch/autoheal/policy.h"
#include "composewatch/compose/loader.h"
#include "composewatch/docker/container.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/state/model.h"
#include "composewatch/state/saved.h"
#include "composewatch/web/status_page.h"

using namespace composewatch;
using namespace std::chrono_literals;
using autoheal::Change;
using autoheal::Clock;
using autoheal::Decision;
using autoheal::Facts;
using autoheal::History;
using autoheal::Policy;
using autoheal::Reason;
using Kind = Decision::Kind;

namespace {

const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'764'500'000));

config::AutohealConfig settings(bool dry_run = false) {
  config::AutohealConfig c;
  c.configured = true;
  c.unhealthy_for = 120s;
  c.max_attempts = 3;
  c.window = 3600s;
  c.backoff = 30s;
  c.dry_run = dry_run;
  return c;
}

constexpr Facts kRunning{.opted_in = true, .running = true, .paused = false};

// Decides at `now` and, for an action, makes the container come back as the engine would:
// restarted (its checks start over) and unhealthy again `after` later.
struct Container {
  Policy policy;
  History h;
  explicit Container(config::AutohealConfig c = settings()) : policy(std::move(c)) {}
  Decision at(Clock::time_point now, Facts f = kRunning) { return policy.decide(h, f, now); }
  void restarted_and_unhealthy(Clock::time_point restart, std::chrono::seconds after) {
    policy.observe(h, Change::health_restarted, restart);
    policy.observe(h, Change::unhealthy, restart + after);
  }
};

}  // namespace

TEST(AutohealPolicy, NotBeforeUnhealthyForCountedFromTheHealthEvent) {
  Container c;
  EXPECT_EQ(c.at(T0).kind, Kind::nothing);  // healthy: nothing to wait for
  EXPECT_EQ(c.at(T0).next, Clock::time_point::max());
  c.policy.observe(c.h, Change::unhealthy, T0);
  auto d = c.at(T0 + 119s);
  EXPECT_EQ(d.kind, Kind::nothing);
  EXPECT_EQ(d.next, T0 + 120s);  // the moment it becomes due
  d = c.at(T0 + 120s);
  EXPECT_EQ(d.kind, Kind::act);
  EXPECT_EQ(d.attempt, 1u);
}

TEST(AutohealPolicy, ARepeatedUnhealthyDoesNotMoveTheStart) {
  Container c;
  c.policy.observe(c.h, Change::unhealthy, T0);
  c.policy.observe(c.h, Change::unhealthy, T0 + 60s);
  EXPECT_EQ(c.at(T0 + 120s).kind, Kind::act);
}

TEST(AutohealPolicy, BackoffDoublesBetweenAttemptsOfOneEpisode) {
  auto s = settings();
  s.unhealthy_for = 10s;
  s.max_attempts = 10;
  Container c(s);
  c.policy.observe(c.h, Change::unhealthy, T0);
  Clock::time_point last = T0 + 10s;
  ASSERT_EQ(c.at(last).kind, Kind::act);
  std::vector<Clock::duration> gaps;
  for (int i = 0; i < 4; ++i) {
    c.restarted_and_unhealthy(last, 2s);  // due again 12 s after the restart
    auto now = last + 12s;
    auto d = c.at(now);
    if (d.kind == Kind::suppress) {
      EXPECT_EQ(d.reason, Reason::backoff);
      EXPECT_EQ(c.at(now + 1s).kind, Kind::nothing) << "a wait is reported once";
      now = d.next;
      d = c.at(now);
    }
    ASSERT_EQ(d.kind, Kind::act) << i;
    gaps.push_back(now - last);
    last = now;
  }
  // Due again 12 s after each restart, but held back by the backoff: 30 s, then doubling.
  EXPECT_EQ(gaps, (std::vector<Clock::duration>{30s, 60s, 120s, 240s}));
  EXPECT_EQ(c.policy.backoff_after(1), 30s);
  EXPECT_EQ(c.policy.backoff_after(3), 120s);
}

TEST(AutohealPolicy, AtMostMaxAttemptsPerWindowThenGivesUpUntilTheWindowSlides) {
  auto s = settings();
  s.unhealthy_for = 10s;
  s.backoff = 1s;
  s.max_attempts = 3;
  s.window = 600s;
  Container c(s);
  c.policy.observe(c.h, Change::unhealthy, T0);
  auto now = T0 + 10s;
  const auto first = now;
  for (unsigned i = 1; i <= 3; ++i) {
    auto d = c.at(now);
    ASSERT_EQ(d.kind, Kind::act) << i;
    EXPECT_EQ(d.attempt, i);
    c.restarted_and_unhealthy(now, 2s);
    now += 12s;
  }
  auto d = c.at(now);
  EXPECT_EQ(d.kind, Kind::suppress);
  EXPECT_EQ(d.reason, Reason::limit);
  EXPECT_TRUE(d.gave_up);
  EXPECT_TRUE(c.h.given_up);
  EXPECT_EQ(d.next, first + 600s);  // when the oldest attempt leaves the window
  // Given up: no more actions, the limit counted once.
  d = c.at(now + 100s);
  EXPECT_EQ(d.kind, Kind::nothing);
  EXPECT_TRUE(c.h.given_up);
  // The window slides: one attempt is allowed again.
  d = c.at(first + 600s + 1s);
  EXPECT_EQ(d.kind, Kind::act);
  EXPECT_EQ(d.attempt, 3u);
  EXPECT_FALSE(c.h.given_up);
}

TEST(AutohealPolicy, HealthyEndsTheEpisodeButAttemptsStayInTheWindow) {
  auto s = settings();
  s.unhealthy_for = 10s;
  s.max_attempts = 2;
  Container c(s);
  c.policy.observe(c.h, Change::unhealthy, T0);
  ASSERT_EQ(c.at(T0 + 10s).kind, Kind::act);
  c.policy.observe(c.h, Change::health_restarted, T0 + 10s);
  c.policy.observe(c.h, Change::healthy, T0 + 15s);
  EXPECT_EQ(c.h.episode_attempts, 0u);
  EXPECT_FALSE(c.h.unhealthy_since);
  EXPECT_EQ(c.at(T0 + 500s).kind, Kind::nothing);
  // A new episode: no backoff from the last one (30 s would have passed anyway), its own 10 s.
  c.policy.observe(c.h, Change::unhealthy, T0 + 20s);
  EXPECT_EQ(c.at(T0 + 29s).kind, Kind::nothing);
  ASSERT_EQ(c.at(T0 + 30s).kind, Kind::act);  // 20 s after the last attempt: backoff reset
  c.restarted_and_unhealthy(T0 + 30s, 2s);
  // Flapping: two attempts within the hour, healthy between them, still the limit.
  auto d = c.at(T0 + 200s);
  EXPECT_EQ(d.kind, Kind::suppress);
  EXPECT_EQ(d.reason, Reason::limit);
  c.policy.observe(c.h, Change::healthy, T0 + 210s);
  EXPECT_FALSE(c.h.given_up);
}

TEST(AutohealPolicy, AUserActionEndsTheEpisodeAndIsReportedOnlyWhenOneWasPending) {
  Container c;
  EXPECT_EQ(c.policy.observe(c.h, Change::user_action, T0), std::nullopt);  // healthy: nothing suppressed
  c.policy.observe(c.h, Change::unhealthy, T0);
  EXPECT_EQ(c.policy.observe(c.h, Change::user_action, T0 + 60s), Reason::user_action);
  EXPECT_EQ(c.at(T0 + 500s).kind, Kind::nothing);
  // Started again by the user and unhealthy again: a new episode with its own grace.
  c.policy.observe(c.h, Change::health_restarted, T0 + 600s);
  c.policy.observe(c.h, Change::unhealthy, T0 + 610s);
  EXPECT_EQ(c.at(T0 + 729s).kind, Kind::nothing);
  EXPECT_EQ(c.at(T0 + 730s).kind, Kind::act);
}

TEST(AutohealPolicy, AGivenUpContainerThatAUserTakesOverIsNoLongerGivenUp) {
  auto s = settings();
  s.max_attempts = 1;
  Container c(s);
  c.policy.observe(c.h, Change::unhealthy, T0);
  ASSERT_EQ(c.at(T0 + 120s).kind, Kind::act);
  c.restarted_and_unhealthy(T0 + 120s, 5s);
  ASSERT_EQ(c.at(T0 + 300s).reason, Reason::limit);
  EXPECT_EQ(c.policy.observe(c.h, Change::user_action, T0 + 301s), Reason::user_action);
  EXPECT_FALSE(c.h.given_up);
}

TEST(AutohealPolicy, APausedContainerWaitsAndIsReportedOncePerPause) {
  Container c;
  c.policy.observe(c.h, Change::unhealthy, T0);
  const Facts paused{.opted_in = true, .running = true, .paused = true};
  auto d = c.at(T0 + 120s, paused);
  EXPECT_EQ(d.kind, Kind::suppress);
  EXPECT_EQ(d.reason, Reason::paused);
  EXPECT_EQ(c.at(T0 + 130s, paused).kind, Kind::nothing);
  c.policy.observe(c.h, Change::unpaused, T0 + 140s);
  EXPECT_EQ(c.at(T0 + 140s).kind, Kind::act);
}

TEST(AutohealPolicy, DryRunCountsWouldBeAttemptsWithTheSameSpacingAndLimit) {
  auto s = settings(true);
  s.unhealthy_for = 10s;
  s.backoff = 5s;
  s.max_attempts = 3;
  Container c(s);
  c.policy.observe(c.h, Change::unhealthy, T0);
  auto d = c.at(T0 + 10s);
  EXPECT_EQ(d.kind, Kind::suppress);
  EXPECT_EQ(d.reason, Reason::dry_run);
  EXPECT_EQ(d.attempt, 1u);
  EXPECT_EQ(d.next, T0 + 15s);
  // Nothing was restarted: the container stays unhealthy, the next would-be attempt after the backoff.
  d = c.at(T0 + 12s);
  EXPECT_EQ(d.reason, Reason::backoff);
  d = c.at(T0 + 15s);
  EXPECT_EQ(d.reason, Reason::dry_run);
  EXPECT_EQ(d.attempt, 2u);
  EXPECT_EQ(c.at(T0 + 25s).reason, Reason::dry_run);  // 15 + 10
  d = c.at(T0 + 50s);
  EXPECT_EQ(d.reason, Reason::limit);
  EXPECT_TRUE(c.h.given_up);
}

TEST(AutohealPolicy, NeverActsOnAContainerNotOptedInOrNotRunning) {
  Container c;
  c.policy.observe(c.h, Change::unhealthy, T0);
  EXPECT_EQ(c.at(T0 + 1h, Facts{.opted_in = false, .running = true}).kind, Kind::nothing);
  EXPECT_EQ(c.at(T0 + 1h, Facts{.opted_in = true, .running = false}).kind, Kind::nothing);
  EXPECT_TRUE(c.h.attempts.empty());
}

TEST(AutohealPolicy, OptInByLabelOrByConfiguredService) {
  auto s = settings();
  s.services = {{"shop", "api"}};
  Policy p(s);
  EXPECT_TRUE(p.opted_in({{"composewatch.autoheal", "true"}}, "", ""));
  EXPECT_FALSE(p.opted_in({{"composewatch.autoheal", "false"}}, "other", "api"));
  EXPECT_FALSE(p.opted_in({{"composewatch.autoheal", "yes"}}, "", ""));
  EXPECT_TRUE(p.opted_in({}, "shop", "api"));
  EXPECT_FALSE(p.opted_in({}, "shop", "web"));
  EXPECT_FALSE(p.opted_in({}, "", ""));
}

TEST(AutohealPolicy, ARestartedAgentWithTheSavedHistoryNeitherActsEarlyNorTwice) {
  auto s = settings();
  s.unhealthy_for = 60s;
  s.backoff = 30s;
  Container before(s);
  before.policy.observe(before.h, Change::unhealthy, T0);
  ASSERT_EQ(before.at(T0 + 30s).kind, Kind::nothing);  // mid-grace: the agent stops here

  // What the state file keeps, and the new agent's history from it.
  state::AutohealRecord r;
  r.name = "web";
  r.history = before.h;
  state::SavedState saved;
  saved.autoheal = {r};
  auto decoded = state::decode_saved_state(state::encode_saved_state(saved));
  ASSERT_TRUE(decoded.state) << decoded.error;
  Container after(s);
  after.h.unhealthy_since = decoded.state->autoheal.at(0).history.unhealthy_since;
  // The listing after the restart says unhealthy: the earlier start stands.
  after.policy.observe(after.h, Change::unhealthy, T0 + 40s);
  EXPECT_EQ(after.at(T0 + 45s).kind, Kind::nothing);
  EXPECT_EQ(after.at(T0 + 45s).next, T0 + 60s);
  ASSERT_EQ(after.at(T0 + 60s).kind, Kind::act);

  // Stopped again right after the attempt, before the container's start was seen.
  History saved_after_attempt = after.h;
  Container again(s);
  again.h = saved_after_attempt;
  EXPECT_NE(again.at(T0 + 61s).kind, Kind::act) << "the attempt is not repeated";
  EXPECT_EQ(again.at(T0 + 61s).next, T0 + 90s);
}

TEST(AutohealRecord, RoundTripsThroughTheStateFileAndOldFilesLoadWithout) {
  state::SavedState s;
  state::AutohealRecord r;
  r.name = "shop_api_1";
  r.id = std::string(64, 'a');
  r.project = "shop";
  r.service = "api";
  // Times the file's seconds hold exactly (whole and half seconds), so that the round trip
  // compares equal to the nanosecond.
  const auto at = [](double s) { return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s))); };
  r.history.unhealthy_since = at(1764500000.5);
  r.history.attempts = {at(1764500100.5), at(1764500200)};
  r.history.last_attempt = at(1764500200);
  r.history.episode_attempts = 2;
  r.history.given_up = true;
  r.history.backoff_reported = true;
  r.actions = {{"restart", 2}};
  r.suppressed = {{"backoff", 1}, {"limit", 1}};
  s.autoheal = {r};
  auto d = state::decode_saved_state(state::encode_saved_state(s));
  ASSERT_TRUE(d.state) << d.error;
  EXPECT_EQ(d.state->autoheal, s.autoheal);

  const std::string old = state::encode_saved_state(state::SavedState{});
  EXPECT_EQ(old.find("autoheal"), std::string::npos);
  auto o = state::decode_saved_state(old);
  ASSERT_TRUE(o.state) << o.error;
  EXPECT_TRUE(o.state->autoheal.empty());

  std::string bad = state::encode_saved_state(s);
  bad.replace(bad.find("\"episode_attempts\":2"), 20, "\"episode_attempts\":-1");
  auto b = state::decode_saved_state(bad);
  EXPECT_FALSE(b.state);
  EXPECT_NE(b.error.find("autoheal[0].episode_attempts: not a count"), std::string::npos) << b.error;
}

TEST(AutohealCollector, ExportsEveryActionAndReasonPerContainer) {
  state::Snapshot s;
  state::AutohealRecord r;
  r.name = "shop_api_1";
  r.project = "shop";
  r.service = "api";
  r.history.given_up = true;
  r.actions = {{"restart", 3}};
  r.suppressed = {{"limit", 1}, {"backoff", 2}};
  s.autoheal = std::make_shared<const std::vector<state::AutohealRecord>>(std::vector{r});
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_autoheal_collector());
  const std::string text = metrics::Exposition(std::move(cs)).render(s);
  const std::string l = R"(project="shop",service="api",container="shop_api_1")";
  for (const std::string line : {
           "composewatch_autoheal_actions_total{" + l + ",action=\"restart\"} 3",
           "composewatch_autoheal_actions_total{" + l + ",action=\"stop\"} 0",
           "composewatch_autoheal_suppressed_total{" + l + ",reason=\"backoff\"} 2",
           "composewatch_autoheal_suppressed_total{" + l + ",reason=\"limit\"} 1",
           "composewatch_autoheal_suppressed_total{" + l + ",reason=\"user_action\"} 0",
           "composewatch_autoheal_suppressed_total{" + l + ",reason=\"dry_run\"} 0",
           "composewatch_autoheal_suppressed_total{" + l + ",reason=\"paused\"} 0",
           "composewatch_autoheal_given_up{" + l + "} 1",
       })
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  // Nothing followed yet: no series.
  std::vector<std::unique_ptr<metrics::Collector>> cs2;
  cs2.push_back(metrics::make_autoheal_collector());
  EXPECT_EQ(metrics::Exposition(std::move(cs2)).render(state::Snapshot{}).find("composewatch_autoheal_"),
            std::string::npos);
}

TEST(AutohealDependsOn, TheLoaderReadsRestartTrueOfDependsOn) {
  const auto dir = std::filesystem::temp_directory_path() / ("autoheal-loader-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "docker-compose.yml") << R"(services:
  db: {image: pg}
  api:
    image: api
    depends_on: {db: {condition: service_healthy, restart: true}}
  worker:
    image: w
    depends_on: {db: {condition: service_started}}
  cron:
    image: c
    depends_on: [db]
)";
  compose::LoadOptions o;
  o.files = {(dir / "docker-compose.yml").string()};
  o.project_name = "shop";
  const compose::Project p = compose::load_project(o);
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(p.services.at("api").depends_on.at("db").restart);
  EXPECT_EQ(p.services.at("api").depends_on.at("db").condition, "service_healthy");
  EXPECT_FALSE(p.services.at("worker").depends_on.at("db").restart);
  EXPECT_FALSE(p.services.at("cron").depends_on.at("db").restart);
}

TEST(AutohealStatusPage, ShowsTheContainersItGaveUpOn) {
  state::Snapshot s;
  state::AutohealRecord r;
  r.name = "shop_api_1";
  r.project = "shop";
  r.service = "api";
  r.history.given_up = true;
  r.actions = {{"restart", 3}};
  r.history.unhealthy_since = Clock::time_point(std::chrono::seconds(1764500000));
  s.autoheal = std::make_shared<const std::vector<state::AutohealRecord>>(std::vector{r});
  const std::string html = web::render_status_page(s, {}, Clock::time_point(std::chrono::seconds(1764500060)));
  EXPECT_NE(html.find("<section id=\"autoheal\">"), std::string::npos) << html;
  EXPECT_NE(html.find("Gave up on <strong>shop_api_1</strong>"), std::string::npos) << html;
  EXPECT_NE(html.find("data-actions=\"3\""), std::string::npos) << html;
  EXPECT_EQ(web::render_status_page(state::Snapshot{}, {}, Clock::now()).find("id=\"autoheal\""), std::string::npos);
}

TEST(AutohealEvents, AUsersKillStopOrDestroyIsAUserActionButTheAgentsOwnAreNot) {
  using autoheal::change_of;
  EXPECT_EQ(change_of("health_status", "unhealthy", "", false), Change::unhealthy);
  EXPECT_EQ(change_of("health_status", "healthy", "", false), Change::healthy);
  EXPECT_EQ(change_of("health_status", "starting", "", false), Change::health_restarted);
  EXPECT_EQ(change_of("start", "", "", true), Change::health_restarted);
  EXPECT_EQ(change_of("die", "", "", false), Change::health_restarted);
  EXPECT_EQ(change_of("unpause", "", "", false), Change::unpaused);
  for (const char* a : {"stop", "destroy"}) {
    EXPECT_EQ(change_of(a, "", "", false), Change::user_action) << a;
    EXPECT_EQ(change_of(a, "", "", true), std::nullopt) << a;
  }
  for (const char* sig : {"15", "9", "2", "3", "", "SIGTERM", "KILL"}) {
    EXPECT_EQ(change_of("kill", "", sig, false), Change::user_action) << sig;
    EXPECT_EQ(change_of("kill", "", sig, true), std::nullopt) << sig;
  }
  for (const char* sig : {"1", "10", "SIGHUP", "USR1", "28"})
    EXPECT_EQ(change_of("kill", "", sig, false), std::nullopt) << "a reload signal is not a stop: " << sig;
  EXPECT_EQ(change_of("restart", "", "", false), std::nullopt);  // its kill came first
  EXPECT_EQ(change_of("exec_start", "", "", false), std::nullopt);
}

TEST(AutohealSettings, AnyChangeOfTheSectionIsNamedAsNeedingARestartOnSighup) {
  config::AgentConfig a, b;
  a.autoheal = b.autoheal = settings();
  EXPECT_TRUE(config::changes_needing_restart(a, b).empty());
  b.autoheal.unhealthy_for = 30s;
  EXPECT_EQ(config::changes_needing_restart(a, b), (std::vector<std::string>{"autoheal"}));
  b = a;
  b.autoheal.services = {{"shop", "api"}};
  EXPECT_EQ(config::changes_needing_restart(a, b), (std::vector<std::string>{"autoheal"}));
  b = a;
  b.autoheal.dry_run = true;
  EXPECT_EQ(config::changes_needing_restart(a, b), (std::vector<std::string>{"autoheal"}));
}

TEST(AutohealStopTimeout, TheInspectReadsTheContainersOwnStopTimeout) {
  const std::string with = R"({"Id":"abc","Name":"/db","State":{"Status":"running"},
                               "Config":{"Image":"pg","StopTimeout":120},"HostConfig":{}})";
  EXPECT_EQ(docker::parse_inspect(with).spec.stop_timeout, 120);
  const std::string without = R"({"Id":"abc","Name":"/db","State":{"Status":"running"},
                                  "Config":{"Image":"pg"},"HostConfig":{}})";
  EXPECT_EQ(docker::parse_inspect(without).spec.stop_timeout, std::nullopt);
}

TEST(AutohealStopTimeout, TheRequestOutlastsTheContainersOwnStopTimeout) {
  using autoheal::request_deadline;
  using autoheal::stop_wait;
  // No StopTimeout: the engine waits its default 10 s.
  EXPECT_EQ(stop_wait(std::nullopt, 600s), 10s);
  EXPECT_EQ(request_deadline(std::nullopt, 30s, 600s), 40s);
  // A database's 120 s grace is waited for, and the request outlasts it.
  EXPECT_EQ(stop_wait(120, 600s), 120s);
  EXPECT_EQ(request_deadline(120, 30s, 600s), 150s);
  EXPECT_EQ(request_deadline(0, 30s, 600s), 30s);
  // Unbounded (negative) or beyond the longest wait: the longest wait.
  EXPECT_EQ(stop_wait(-1, 600s), 600s);
  EXPECT_EQ(request_deadline(86400, 30s, 600s), 630s);
  EXPECT_EQ(request_deadline(std::numeric_limits<std::int64_t>::max(), 30s, 600s), 630s);
}

TEST(AutohealOneOff, AOneOffIsNeverOptedInWhateverItsLabelsSay) {
  auto s = settings();
  s.services = {{"shop", "api"}};
  Policy p(s);
  // `compose run` copies the service's labels, the opt-in label included.
  const std::map<std::string, std::string> run = {{"composewatch.autoheal", "true"},
                                                  {"com.docker.compose.project", "shop"},
                                                  {"com.docker.compose.service", "api"},
                                                  {"com.docker.compose.oneoff", "True"}};
  EXPECT_TRUE(autoheal::is_one_off(run));
  EXPECT_FALSE(p.opted_in(run, "shop", "api"));
  auto replica = run;
  replica["com.docker.compose.oneoff"] = "False";
  EXPECT_FALSE(autoheal::is_one_off(replica));
  EXPECT_TRUE(p.opted_in(replica, "shop", "api"));
  replica.erase("composewatch.autoheal");
  EXPECT_TRUE(p.opted_in(replica, "shop", "api"));  // listed under services
}

TEST(AutohealOneOff, OnlyTheCreateOfAServiceContainerEndsItsSiblingsEpisodes) {
  using autoheal::replaces_service_containers;
  EXPECT_TRUE(replaces_service_containers("create", false));   // compose up re-creating or scaling
  EXPECT_FALSE(replaces_service_containers("create", true));   // compose run, a cron job's run --rm
  EXPECT_FALSE(replaces_service_containers("destroy", false));
  EXPECT_FALSE(replaces_service_containers("destroy", true));
  EXPECT_FALSE(replaces_service_containers("start", false));
}

TEST(AutohealProjectHolds, AUsersStopInAProjectHoldsItUntilTheStopAndAQuietPeriodAreOver) {
  autoheal::ProjectHolds holds(15s);
  EXPECT_FALSE(holds.held_until("shop", T0));
  // compose down: the first container's stop begins (kill, its own 8 s stop timeout).
  holds.observe("shop", T0, 8s);
  EXPECT_EQ(holds.held_until("shop", T0 + 1s), T0 + 23s);
  EXPECT_FALSE(holds.held_until("blog", T0 + 1s)) << "other projects are not held";
  // Its stop ends at once; the hold does not shrink.
  holds.observe("shop", T0 + 1s);
  EXPECT_EQ(holds.held_until("shop", T0 + 2s), T0 + 23s);
  // The next container's stop and removal extend it.
  holds.observe("shop", T0 + 20s, 10s);
  EXPECT_EQ(holds.held_until("shop", T0 + 21s), T0 + 45s);
  holds.observe("shop", T0 + 40s);
  EXPECT_EQ(holds.held_until("shop", T0 + 41s), T0 + 55s);
  // Over: a container still running and unhealthy may be acted on again.
  EXPECT_FALSE(holds.held_until("shop", T0 + 55s));
  holds.expire(T0 + 55s);
  EXPECT_FALSE(holds.held_until("shop", T0 + 54s)) << "forgotten once over";
  // Containers not made by Compose belong to no project: nothing groups them.
  holds.observe("", T0, 10s);
  EXPECT_FALSE(holds.held_until("", T0 + 1s));
}

TEST(AutohealSettings, RestartDependentsIsOffUnlessConfigured) {
  EXPECT_FALSE(config::AutohealConfig{}.restart_dependents);
  const auto without = config::parse_config_text("autoheal:\n  unhealthy_for: 1m\n", "composewatch.yml");
  const auto with = config::parse_config_text("autoheal:\n  restart_dependents: true\n", "composewatch.yml");
  EXPECT_TRUE(without.autoheal.configured);
  EXPECT_FALSE(without.autoheal.restart_dependents);
  EXPECT_TRUE(with.autoheal.restart_dependents);
}
