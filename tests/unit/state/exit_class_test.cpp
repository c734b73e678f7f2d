// Exit classes: every die is counted as completed, stopped, oom or error from the events
// that came before it (docs/resources.md, "How exits are classified").

#include <gtest/gtest.h>

#include "composewatch/state/model.h"
#include "container_events.h"

using namespace composewatch;
using state::ExitReason;

namespace {

docker::Event ev(std::string action, std::int64_t t, test_support::Attributes extra = {}) {
  extra.insert(extra.begin(), {{"com.docker.compose.project", "shop"}, {"com.docker.compose.service", "api"}});
  return test_support::container_event(std::move(action), "id1", "api", t, "img:1", std::move(extra));
}
docker::Event die(std::int64_t t, int code) { return ev("die", t, {{"exitCode", std::to_string(code)}}); }
docker::Event kill(std::int64_t t, std::string signal) { return ev("kill", t, {{"signal", std::move(signal)}}); }

docker::ContainerInfo inspected(std::string state, int exit_code, bool oom_killed) {
  docker::ContainerInfo c;
  c.id = "id1";
  c.name = "api";
  c.state = std::move(state);
  c.exit_code = exit_code;
  c.oom_killed = oom_killed;
  c.finished_at = 50.0;
  c.spec.labels = {{"com.docker.compose.project", "shop"}, {"com.docker.compose.service", "api"}};
  c.spec.compose = docker::ComposeLabels::from(c.spec.labels);
  return c;
}

struct Running {
  state::StateModel m;
  Running() {
    m.apply(ev("create", 1));
    m.apply(ev("start", 2));
  }
  const state::ContainerRecord& r() const { return m.containers().at("api"); }
  std::map<state::ExitKey, std::uint64_t> exits() const { return r().counters.exits; }
  std::optional<ExitReason> down_because() const {
    const state::LastExit* e = state::current_exit(r());
    return e ? std::optional(e->reason) : std::nullopt;
  }
};

using Exits = std::map<state::ExitKey, std::uint64_t>;

}  // namespace

// docker stop (and compose stop/down, docker restart) of a process that ignores SIGTERM:
// kill 15, the grace period, kill 9, die 137, then stop.
TEST(ExitClass, AStopPastItsGracePeriodIsStoppedNotACrash) {
  Running c;
  c.m.apply(kill(3, "15"));
  c.m.apply(kill(13, "9"));
  c.m.apply(die(13, 137));
  EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::stopped}, 1}}));
  EXPECT_EQ(c.down_because(), ExitReason::stopped);
  c.m.apply(ev("stop", 13));
  EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::stopped}, 1}})) << "the stop after the die counts nothing more";
}

TEST(ExitClass, AStopThatEndsTheProcessGracefullyIsStoppedWhateverItsCode) {
  for (int code : {0, 143, 1}) {
    Running c;
    c.m.apply(kill(3, "15"));
    c.m.apply(die(4, code));
    EXPECT_EQ(c.exits(), (Exits{{{code, ExitReason::stopped}, 1}})) << code;
  }
}

TEST(ExitClass, DockerKillIsStopped) {
  Running c;
  c.m.apply(kill(3, "9"));
  c.m.apply(die(3, 137));
  EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::stopped}, 1}}));
  EXPECT_FALSE(c.r().pending_exit);
}

TEST(ExitClass, ACrashIsAnErrorAndExitZeroCompleted) {
  Running crash;
  crash.m.apply(die(3, 3));
  EXPECT_EQ(crash.exits(), (Exits{{{3, ExitReason::error}, 1}}));
  EXPECT_EQ(crash.down_because(), ExitReason::error);

  Running done;
  done.m.apply(die(3, 0));
  EXPECT_EQ(done.exits(), (Exits{{{0, ExitReason::completed}, 1}}));
  EXPECT_EQ(done.down_because(), ExitReason::completed);
}

TEST(ExitClass, AnOomKillIsOom) {
  Running c;
  c.m.apply(ev("oom", 3));
  c.m.apply(die(3, 137));
  EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::oom}, 1}}));
  EXPECT_EQ(c.down_because(), ExitReason::oom);
  EXPECT_EQ(c.r().last_oom_kill_at, 3.0);
}

// The engine sends the oom event and the die from two sources; under load the oom may
// come second, or never (then inspect's OOMKilled tells).
TEST(ExitClass, ADieBySigkillWaitsForWhatFollowsToTellOomFromError) {
  {
    Running c;
    c.m.apply(die(3, 137));
    EXPECT_TRUE(c.exits().empty()) << "not counted until it is known why";
    c.m.apply(ev("oom", 3));
    EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::oom}, 1}}));
    EXPECT_EQ(c.r().counters.oom_kills, 1u);
  }
  {
    Running c;
    const auto seq = [&] { return c.r().seq; };
    c.m.apply(die(3, 137));
    c.m.update(inspected("exited", 137, true), seq());
    EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::oom}, 1}})) << "the oom event was lost; inspect says";
    EXPECT_EQ(c.r().counters.oom_kills, 1u);
    EXPECT_EQ(c.r().last_oom_kill_at, 50.0) << "State.FinishedAt";
  }
  {
    Running c;
    c.m.apply(die(3, 137));
    c.m.update(inspected("exited", 137, false), c.r().seq);
    EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::error}, 1}})) << "killed from inside the container";
    EXPECT_EQ(c.down_because(), ExitReason::error);
  }
  {
    Running c;  // removed at once (--rm): no inspect will answer
    c.m.apply(die(3, 137));
    c.m.apply(ev("destroy", 3));
    EXPECT_EQ(c.exits(), (Exits{{{137, ExitReason::error}, 1}}));
  }
  {
    Running c;  // the state file taken meanwhile counts it as it stands
    c.m.apply(die(3, 137));
    state::SavedState saved;
    c.m.save_to(saved);
    EXPECT_EQ(saved.containers.at(0).counters.exits, (Exits{{{137, ExitReason::error}, 1}}));
  }
}

TEST(ExitClass, APolicyRestartAfterACrashCountsTheErrorThenTheRestart) {
  Running c;
  c.m.apply(die(3, 3));
  c.m.apply(ev("start", 4));
  EXPECT_EQ(c.exits(), (Exits{{{3, ExitReason::error}, 1}}));
  EXPECT_EQ(c.r().counters.restarts, 1u);
  EXPECT_FALSE(c.down_because()) << "running again: the crash is no longer why it is down";
  c.m.apply(die(5, 3));
  EXPECT_EQ(c.exits(), (Exits{{{3, ExitReason::error}, 2}}));
  EXPECT_EQ(c.down_because(), ExitReason::error);
}

TEST(ExitClass, ASignalToReloadIsNotAStopAndAStartForgetsTheStop) {
  Running c;
  c.m.apply(kill(3, "1"));  // docker kill -s HUP: reload
  c.m.apply(die(4, 1));
  EXPECT_EQ(c.exits(), (Exits{{{1, ExitReason::error}, 1}}));

  Running d;
  d.m.apply(kill(3, "15"));
  d.m.apply(die(4, 0));
  d.m.apply(ev("start", 5));  // docker restart
  d.m.apply(die(6, 2));       // then it crashed
  EXPECT_EQ(d.exits(), (Exits{{{0, ExitReason::stopped}, 1}, {{2, ExitReason::error}, 1}}));
}

TEST(ExitClass, AStopAfterAnOomKillOfAChildIsStoppedAndAnOomDuringTheStopIsOom) {
  Running c;
  c.m.apply(ev("oom", 3));  // a worker was killed, the container ran on
  c.m.apply(kill(10, "15"));
  c.m.apply(die(11, 0));
  EXPECT_EQ(c.exits(), (Exits{{{0, ExitReason::stopped}, 1}}));

  Running d;
  d.m.apply(kill(10, "15"));
  d.m.apply(ev("oom", 11));
  d.m.apply(die(11, 137));
  EXPECT_EQ(d.exits(), (Exits{{{137, ExitReason::oom}, 1}}));
}

TEST(ExitClass, SignalsThatEndAProcess) {
  for (const char* s : {"15", "9", "2", "3", "SIGTERM", "KILL", "sigquit"}) EXPECT_TRUE(state::ends_process(s)) << s;
  for (const char* s : {"1", "10", "12", "28", "SIGHUP", "usr1", "WINCH"}) EXPECT_FALSE(state::ends_process(s)) << s;
}

TEST(ExitClass, ExitCodesAloneAreClassifiedAsWellAsTheyCanBe) {
  EXPECT_EQ(state::exit_reason_of_code(0), ExitReason::completed);
  EXPECT_EQ(state::exit_reason_of_code(143), ExitReason::stopped);
  EXPECT_EQ(state::exit_reason_of_code(137), ExitReason::stopped);
  EXPECT_EQ(state::exit_reason_of_code(130), ExitReason::stopped);
  EXPECT_EQ(state::exit_reason_of_code(1), ExitReason::error);
  EXPECT_EQ(state::exit_reason_of_code(139), ExitReason::error) << "SIGSEGV: the application";
  EXPECT_EQ(state::exit_reason_of_code(137, true), ExitReason::oom);
}

// The agent's first listing: containers already down are classified from inspect, not counted.
TEST(ExitClass, AContainerFoundExitedIsClassifiedFromInspectButNotCounted) {
  for (auto [code, oom, want] : {std::tuple{0, false, ExitReason::completed}, std::tuple{143, false, ExitReason::stopped},
                                 std::tuple{137, true, ExitReason::oom}, std::tuple{2, false, ExitReason::error}}) {
    state::StateModel m;
    m.reconcile({inspected("exited", code, oom)});
    const auto& r = m.containers().at("api");
    const state::LastExit* e = state::current_exit(r);
    ASSERT_TRUE(e) << code;
    EXPECT_EQ(e->reason, want) << code;
    EXPECT_TRUE(r.counters.exits.empty());
  }
  state::StateModel m;
  m.reconcile({inspected("running", 0, false)});
  EXPECT_FALSE(state::current_exit(m.containers().at("api")));
}

TEST(ExitClass, AMissedDeathIsClassifiedFromTheContainersState) {
  state::StateModel m;
  m.reconcile({inspected("exited", 137, true)});
  m.count_missed_death("id1", "api", 137, true, false, 40.0);
  const auto& r = m.containers().at("api");
  EXPECT_EQ(r.counters.exits, (Exits{{{137, ExitReason::oom}, 1}}));
  EXPECT_EQ(r.last_oom_kill_at, 40.0) << "when it happened, not when the agent found it";
  ASSERT_TRUE(state::current_exit(r));
  EXPECT_EQ(state::current_exit(r)->reason, ExitReason::oom);

  m.count_missed_death("id1", "api", 143, false, true, 45.0);
  EXPECT_EQ(m.containers().at("api").counters.exits,
            (Exits{{{137, ExitReason::oom}, 1}, {{143, ExitReason::stopped}, 1}}));
}

TEST(ExitClass, TheEventGapTimeIsThatOfTheLastGapFound) {
  state::StateModel m;
  const auto t = [](int s) { return state::Clock::time_point(std::chrono::seconds(s)); };
  m.set_event_gap(0, t(100));
  m.publish();
  EXPECT_FALSE(m.snapshot()->engine.event_gap_at) << "no gap yet";
  m.set_event_gap(12.5, t(200));
  m.set_event_gap(0, t(300));
  m.publish();
  EXPECT_EQ(m.snapshot()->engine.event_gap_at, 200.0);
  EXPECT_EQ(m.snapshot()->engine.event_gap_seconds, 0);
}
