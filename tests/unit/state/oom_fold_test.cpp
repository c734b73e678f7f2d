// Folding the cgroup's own oom_kill counter into composewatch_container_oom_kills_total:
// a kill seen both as an event and in the cgroup counts once, in either order; a kill
// the event stream missed counts; a restart starts a new instance.

#include <gtest/gtest.h>

#include "composewatch/state/model.h"
#include "container_events.h"

using namespace composewatch;

namespace {

docker::Event ev(std::string action, std::string id, std::string name, std::int64_t t,
                 test_support::Attributes extra = {}) {
  return test_support::container_event(std::move(action), std::move(id), std::move(name), t, "img:1",
                                       std::move(extra));
}

docker::ContainerInfo running(std::string id, std::string name, int pid) {
  docker::ContainerInfo c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.state = "running";
  c.spec.image = "img:1";
  c.health = "none";
  c.pid = pid;
  return c;
}

// A container started and inspected, as the tracker drives the model.
struct Fixture {
  state::StateModel m;
  void start(const std::string& id, int pid, std::int64_t t) {
    m.apply(ev("start", id, "api", t));
    std::uint64_t seq = m.sequence_of(id);
    m.update(running(id, "api", pid), seq);
  }
  std::uint64_t ooms() const { return m.containers().at("api").counters.oom_kills; }
};

}  // namespace

TEST(StateModelOomFold, EventFirstThenCgroupCountsOnce) {
  Fixture f;
  f.m.apply(ev("create", "c1", "api", 1));
  f.start("c1", 100, 2);
  f.m.apply(ev("oom", "c1", "api", 3));
  EXPECT_EQ(f.ooms(), 1u);
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 1), 0u);
  EXPECT_EQ(f.ooms(), 1u);
}

TEST(StateModelOomFold, CgroupFirstThenLateEventCountsOnce) {
  Fixture f;
  f.start("c1", 100, 2);
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 1), 1u);
  EXPECT_EQ(f.ooms(), 1u);
  f.m.apply(ev("oom", "c1", "api", 3));  // the same kill, told late
  EXPECT_EQ(f.ooms(), 1u);
  f.m.apply(ev("oom", "c1", "api", 4));  // a second kill
  EXPECT_EQ(f.ooms(), 2u);
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 2), 0u);
  EXPECT_EQ(f.ooms(), 2u);
}

TEST(StateModelOomFold, MissedEventsAreCountedFromTheCgroup) {
  Fixture f;
  f.start("c1", 100, 2);
  f.m.apply(ev("oom", "c1", "api", 3));
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 3), 2u);  // two kills no event told of
  EXPECT_EQ(f.ooms(), 3u);
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 3), 0u);  // read again: nothing new
  EXPECT_EQ(f.ooms(), 3u);
}

TEST(StateModelOomFold, EachStartIsANewInstance) {
  Fixture f;
  f.start("c1", 100, 2);
  f.m.apply(ev("oom", "c1", "api", 3));
  f.m.apply(ev("die", "c1", "api", 3, {{"exitCode", "137"}}));
  f.start("c1", 200, 4);  // the new cgroup counts from 0 again
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 200, 1), 1u);
  EXPECT_EQ(f.ooms(), 2u);
  f.m.apply(ev("oom", "c1", "api", 5));  // the same second kill, late
  EXPECT_EQ(f.ooms(), 2u);
}

TEST(StateModelOomFold, AReadOfAnotherInstanceIsIgnored) {
  Fixture f;
  f.start("c1", 100, 2);
  // Read while the pid was 999: not the instance the model follows.
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 999, 5), 0u);
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("unknown", 100, 5), 0u);
  EXPECT_EQ(f.ooms(), 0u);
  // After a die the model has no pid: nothing to fold.
  f.m.apply(ev("die", "c1", "api", 3, {{"exitCode", "0"}}));
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 1), 0u);
  EXPECT_EQ(f.ooms(), 0u);
}

TEST(StateModelOomFold, BeforeTheInspectAfterAStartNothingIsFolded) {
  Fixture f;
  f.start("c1", 100, 2);
  f.m.apply(ev("die", "c1", "api", 3, {{"exitCode", "0"}}));
  f.m.apply(ev("start", "c1", "api", 4));
  // The model still knows no pid of the new instance.
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 1), 0u);
  EXPECT_EQ(f.ooms(), 0u);
}

TEST(StateModelOomFold, AStaleInspectDoesNotStartANewInstance) {
  Fixture f;
  f.start("c1", 100, 2);
  std::uint64_t old_seq = f.m.sequence_of("c1");
  f.m.apply(ev("die", "c1", "api", 3, {{"exitCode", "137"}}));
  f.m.apply(ev("start", "c1", "api", 4));
  std::uint64_t seq = f.m.sequence_of("c1");
  f.m.apply(ev("oom", "c1", "api", 5));                 // kill 1 of the new instance
  f.m.update(running("c1", "api", 100), old_seq);       // stale answer naming the old init
  f.m.update(running("c1", "api", 200), seq - 0);       // stale too (an event came after)
  EXPECT_EQ(f.ooms(), 1u);
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 200, 1), 0u);  // pid not adopted from a stale answer
  f.m.update(running("c1", "api", 200), f.m.sequence_of("c1"));  // fresh
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 200, 1), 0u);  // the event already counted it
  EXPECT_EQ(f.ooms(), 1u);
}

TEST(StateModelOomFold, ARestartNobodySawStartsANewInstance) {
  Fixture f;
  f.start("c1", 100, 2);
  f.m.apply(ev("oom", "c1", "api", 3));
  // Events lost while disconnected; the re-list finds a new init.
  f.m.reconcile({running("c1", "api", 300)});
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 300, 1), 1u);
  EXPECT_EQ(f.ooms(), 2u);
}

TEST(StateModelOomFold, EventsWithoutCgroupStillCountEveryKill) {
  Fixture f;
  f.start("c1", 100, 2);
  for (int i = 0; i < 3; ++i) f.m.apply(ev("oom", "c1", "api", 3 + i));
  EXPECT_EQ(f.ooms(), 3u);
  f.m.apply(ev("die", "c1", "api", 9, {{"exitCode", "137"}}));
  f.m.apply(ev("start", "c1", "api", 10));
  f.m.apply(ev("oom", "c1", "api", 11));  // before the inspect
  EXPECT_EQ(f.ooms(), 4u);
}

TEST(StateModelOomFold, RenameCarriesTheInstance) {
  Fixture f;
  f.start("c1", 100, 2);
  f.m.apply(ev("oom", "c1", "api", 3));
  f.m.apply(ev("rename", "c1", "api2", 4, {{"oldName", "/api"}}));
  f.m.update(running("c1", "api2", 100), f.m.sequence_of("c1"));
  EXPECT_EQ(f.m.fold_cgroup_oom_kills("c1", 100, 1), 0u);  // already counted (under the old name)
}
