// An OOM kill the engine lost (no `oom` event, no OOMKilled flag: containerd drops its
// notification when the cgroup is gone first) is counted from the kernel's host-wide
// count, /proc/vmstat oom_kill: once, only for a death by a SIGKILL Docker did not send,
// only for a kill of the last seconds no event, flag or cgroup explains.

#include <gtest/gtest.h>

#include "composewatch/state/host_oom_ledger.h"
#include "composewatch/state/model.h"
#include "container_events.h"

using namespace composewatch;
using state::ExitReason;
using state::HostOomLedger;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::system_clock;
Clock::time_point at(std::int64_t seconds) { return Clock::time_point(std::chrono::seconds(seconds)); }

docker::Event ev(std::string action, std::string name, std::int64_t t, test_support::Attributes extra = {}) {
  return test_support::container_event(std::move(action), "id-" + name, name, t, "img:1", std::move(extra));
}
docker::Event die(std::string name, std::int64_t t, int code) {
  return ev("die", std::move(name), t, {{"exitCode", std::to_string(code)}});
}

// A model whose host counter the test sets; events at second t are applied at second t.
struct Host {
  std::uint64_t kernel_kills = 40;  // kills before the agent started: nobody's now
  state::StateModel m;
  Host() {
    m.set_host_oom_reader([this] { return std::optional<std::uint64_t>(kernel_kills); });
    m.reconcile({}, at(100));  // the connect: the first reading
  }
  void apply(const docker::Event& e) { m.apply(e, Clock::time_point(std::chrono::nanoseconds(e.time_nano))); }
  void run(const std::string& name, std::int64_t t) {
    apply(ev("create", name, t));
    apply(ev("start", name, t));
  }
  std::uint64_t ooms(const std::string& name) const { return m.containers().at(name).counters.oom_kills; }
  std::uint64_t exits(const std::string& name, int code, ExitReason r) const {
    const auto& e = m.containers().at(name).counters.exits;
    auto it = e.find({code, r});
    return it == e.end() ? 0 : it->second;
  }
};

}  // namespace

TEST(HostOomLedger, AKillNothingExplainsIsTakenOnce) {
  HostOomLedger l;
  l.sample(at(100), 7);
  EXPECT_FALSE(l.take_unexplained(at(101), 7)) << "no kill since the first reading";
  EXPECT_TRUE(l.take_unexplained(at(102), 8));
  EXPECT_FALSE(l.take_unexplained(at(102), 8)) << "the one kill is taken";
  EXPECT_EQ(l.unexplained(at(102)), 0u);
}

TEST(HostOomLedger, ExplainedKillsAreNotTaken) {
  HostOomLedger l;
  l.sample(at(100), 7);
  l.explained(at(101));  // an oom event
  EXPECT_FALSE(l.take_unexplained(at(102), 8));
  l.explained(at(103));
  EXPECT_TRUE(l.take_unexplained(at(103), 10)) << "three kills, two explained";
  EXPECT_FALSE(l.take_unexplained(at(103), 10));
}

TEST(HostOomLedger, KillsOlderThanTheWindowAreNeverTaken) {
  HostOomLedger l(10s);
  l.sample(at(100), 7);
  l.sample(at(105), 8);  // a host process killed between 100 and 105
  l.sample(at(115), 8);
  l.sample(at(125), 8);
  EXPECT_EQ(l.unexplained(at(125)), 0u);
  EXPECT_FALSE(l.take_unexplained(at(126), 8)) << "the kill of 100..105 is past the window";
}

TEST(HostOomLedger, TheFirstReadingIsTheBase) {
  HostOomLedger l;
  EXPECT_FALSE(l.take_unexplained(at(100), 50)) << "50 kills since boot are nobody's";
  EXPECT_TRUE(l.take_unexplained(at(101), 51));
}

TEST(HostOomLedger, ACounterThatWentBackStartsOver) {
  HostOomLedger l;
  l.sample(at(100), 70);
  l.sample(at(101), 3);
  EXPECT_FALSE(l.take_unexplained(at(102), 3));
  EXPECT_TRUE(l.take_unexplained(at(103), 4));
}

TEST(HostOomLedger, AnExplanationBeforeTheBaseIsNotHeldAgainstLaterKills) {
  HostOomLedger l(10s);
  l.sample(at(100), 7);
  l.explained(at(101));
  l.sample(at(102), 8);   // the explained kill, counted
  l.sample(at(113), 8);   // the base from 123 on
  EXPECT_TRUE(l.take_unexplained(at(123), 9));
}

TEST(HostOomUnreported, ADeathBySigkillWithNoEventIsAnOomKillWhenTheKernelCountedOne) {
  Host h;
  h.run("hog", 101);
  h.kernel_kills = 41;  // the kernel killed it; the engine told nothing but the die
  h.apply(die("hog", 102, 137));
  EXPECT_EQ(h.ooms("hog"), 1u);
  EXPECT_EQ(h.exits("hog", 137, ExitReason::oom), 1u);
  EXPECT_EQ(h.m.host_oom_attributions(), 1u);
  h.apply(ev("oom", "hog", 102));  // the engine's own word, late: the same kill
  EXPECT_EQ(h.ooms("hog"), 1u);
}

TEST(HostOomUnreported, NoKernelKillNoOomKill) {
  Host h;
  h.run("app", 101);
  h.apply(die("app", 102, 137));  // someone ran kill -9 on the host
  EXPECT_EQ(h.ooms("app"), 0u);
  EXPECT_EQ(h.m.host_oom_attributions(), 0u);
}

TEST(HostOomUnreported, AKillDockerSentIsNeverAnOomKill) {
  Host h;
  h.run("app", 101);
  h.apply(ev("kill", "app", 102, {{"signal", "9"}}));  // docker kill
  h.kernel_kills = 41;                                 // while a host process was OOM-killed
  h.apply(die("app", 102, 137));
  EXPECT_EQ(h.ooms("app"), 0u);
  EXPECT_EQ(h.exits("app", 137, ExitReason::stopped), 1u);
}

TEST(HostOomUnreported, AKillTheEngineReportedIsNotCountedAgain) {
  Host h;
  h.run("a", 101);
  h.run("b", 101);
  h.kernel_kills = 42;  // both killed
  h.apply(ev("oom", "a", 102));
  h.apply(die("a", 102, 137));
  h.apply(die("b", 102, 137));  // b's oom event was lost
  EXPECT_EQ(h.ooms("a"), 1u);
  EXPECT_EQ(h.ooms("b"), 1u);
  h.run("c", 103);
  h.apply(die("c", 104, 137));  // no third kill in the kernel's count
  EXPECT_EQ(h.ooms("c"), 0u);
}

TEST(HostOomUnreported, AnOomKillOfAHostProcessLongAgoIsNotAContainers) {
  Host h;
  h.kernel_kills = 41;  // a host process, at 100..110
  h.m.sample_host_oom_kills(at(110));
  h.m.sample_host_oom_kills(at(120));
  h.m.sample_host_oom_kills(at(130));
  h.run("app", 131);
  h.apply(die("app", 132, 137));
  EXPECT_EQ(h.ooms("app"), 0u);
}

TEST(HostOomUnreported, AReplayedDeathIsJudgedByItsInspectOnly) {
  Host h;
  h.run("app", 101);
  h.kernel_kills = 41;
  // A die from a minute ago, replayed after a reconnect, applied now.
  h.m.apply(die("app", 102, 137), at(160));
  EXPECT_EQ(h.ooms("app"), 0u);
}

TEST(HostOomUnreported, WithoutAReaderNothingIsAttributed) {
  state::StateModel m;
  m.apply(ev("start", "app", 101), at(101));
  m.apply(die("app", 102, 137), at(102));
  EXPECT_EQ(m.containers().at("app").counters.oom_kills, 0u);
}

// A restart policy starts the next run within a second; the `oom` of the run that died
// may come after that start. It is the kill already counted, not one of the new run.
TEST(HostOomUnreported, ALateOomAfterThePolicysRestartIsTheKillAlreadyCounted) {
  Host h;
  h.run("loop", 101);
  h.kernel_kills = 41;
  h.apply(die("loop", 102, 137));
  h.apply(ev("start", "loop", 102));
  h.apply(ev("oom", "loop", 102));  // late
  EXPECT_EQ(h.ooms("loop"), 1u);
  h.apply(die("loop", 103, 0));
  EXPECT_EQ(h.exits("loop", 0, ExitReason::completed), 1u) << "the new run had no OOM kill";
  // A real kill of a later run, reported by the engine, counts.
  h.apply(ev("start", "loop", 104));
  h.kernel_kills = 42;
  h.apply(ev("oom", "loop", 105));
  h.apply(die("loop", 105, 137));
  EXPECT_EQ(h.ooms("loop"), 2u);
  EXPECT_EQ(h.exits("loop", 137, ExitReason::oom), 2u);
}

// The engine's oom of the next run, taken for the late word of the last one, still
// counts: the run's die finds the kernel's kill nothing explains.
TEST(HostOomUnreported, AnOomOfTheNextRunTakenForALateOneStillCounts) {
  Host h;
  h.run("loop", 101);
  h.kernel_kills = 41;
  h.apply(die("loop", 102, 137));  // counted from the host's count; its oom never comes
  h.apply(ev("start", "loop", 102));
  h.kernel_kills = 42;
  h.apply(ev("oom", "loop", 103));  // the second run's
  h.apply(die("loop", 103, 137));
  EXPECT_EQ(h.ooms("loop"), 2u);
  EXPECT_EQ(h.exits("loop", 137, ExitReason::oom), 2u);
}
