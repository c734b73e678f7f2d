#include <gtest/gtest.h>

#include "composewatch/state/model.h"
#include "container_events.h"

using namespace composewatch;
using namespace std::chrono_literals;
using state::Followup;

namespace {

// A container event as the engine sends it (labels in Actor.Attributes).
docker::Event ev(std::string action, std::string id, std::string name, std::int64_t t,
                 test_support::Attributes extra = {}) {
  extra.insert(extra.begin(), {{"com.docker.compose.project", "shop"}, {"com.docker.compose.service", "api"}});
  return test_support::container_event(std::move(action), std::move(id), std::move(name), t, "img:1", std::move(extra));
}

docker::Event die(std::string id, std::string name, std::int64_t t, int code) {
  return ev("die", std::move(id), std::move(name), t, {{"exitCode", std::to_string(code)}});
}

const state::ContainerRecord& rec(const state::StateModel& m, const std::string& name) {
  return m.containers().at(name);
}

docker::ContainerInfo info(std::string id, std::string name, std::string st) {
  docker::ContainerInfo c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.state = std::move(st);
  c.spec.image = "img:1";
  c.health = "none";
  c.spec.labels = {{"com.docker.compose.project", "shop"}, {"com.docker.compose.service", "api"}};
  c.spec.compose = docker::ComposeLabels::from(c.spec.labels);
  return c;
}

}  // namespace

TEST(StateModel, CreateMakesCountersAppearAtZero) {
  state::StateModel m;
  EXPECT_EQ(m.apply(ev("create", "id1", "shop_api_1", 1)), Followup::inspect);
  const auto& r = rec(m, "shop_api_1");
  EXPECT_EQ(r.spec.compose.project, "shop");
  EXPECT_EQ(r.spec.compose.service, "api");
  EXPECT_EQ(r.state, "created");
  EXPECT_EQ(r.counters.oom_kills, 0u);
  EXPECT_EQ(r.counters.restarts, 0u);
  EXPECT_TRUE(r.present);
}

TEST(StateModel, OomIsCountedFromTheEventEvenWhenThePolicyRestartsAtOnce) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.apply(ev("start", "id1", "c", 2));
  m.apply(ev("oom", "id1", "c", 3));
  m.apply(die("id1", "c", 3, 137));
  m.apply(ev("start", "id1", "c", 4));  // restart: always — inspect would say OOMKilled=false now
  const auto& r = rec(m, "c");
  EXPECT_EQ(r.counters.oom_kills, 1u);
  EXPECT_EQ(r.counters.restarts, 1u);
  EXPECT_EQ(r.counters.exits.at({137, state::ExitReason::oom}), 1u);
  EXPECT_EQ(r.state, "running");
}

TEST(StateModel, OnFailureRestartsCountDieThenStartPairs) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.apply(ev("start", "id1", "c", 2));
  for (int i = 0; i < 3; ++i) {
    m.apply(die("id1", "c", 3 + 2 * i, 3));
    m.apply(ev("start", "id1", "c", 4 + 2 * i));
  }
  m.apply(die("id1", "c", 20, 3));
  const auto& r = rec(m, "c");
  EXPECT_EQ(r.counters.restarts, 3u);
  EXPECT_EQ(r.counters.exits.at({3, state::ExitReason::error}), 4u);
  EXPECT_EQ(r.state, "exited");
}

TEST(StateModel, DieSetsTheExitCodeAndAStaleInspectKeepsIt) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.update(info("id1", "c", "created"), m.sequence_of("id1"));
  m.apply(ev("start", "id1", "c", 2));
  const std::uint64_t asked = m.sequence_of("id1");  // an inspect sent after the start ...
  m.apply(die("id1", "c", 3, 3));
  EXPECT_EQ(rec(m, "c").exit_code, 3);
  EXPECT_EQ(rec(m, "c").state, "exited");
  m.update(info("id1", "c", "running"), asked);  // ... answered from before the die
  EXPECT_EQ(rec(m, "c").exit_code, 3);
  m.apply(ev("start", "id1", "c", 4));
  m.apply(die("id1", "c", 5, 0));
  EXPECT_EQ(rec(m, "c").exit_code, 0);
}

TEST(StateModel, FirstStartIsNotARestart) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.apply(ev("start", "id1", "c", 2));
  EXPECT_EQ(rec(m, "c").counters.restarts, 0u);
}

TEST(StateModel, CountersSurviveRemovalAndRecreationUnderTheSameName) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.apply(ev("start", "id1", "c", 2));
  m.apply(ev("oom", "id1", "c", 3));
  m.apply(die("id1", "c", 3, 137));
  m.apply(ev("destroy", "id1", "c", 4));
  EXPECT_FALSE(rec(m, "c").present);
  EXPECT_EQ(rec(m, "c").counters.oom_kills, 1u);

  m.apply(ev("create", "id2", "c", 5));
  m.apply(ev("start", "id2", "c", 6));
  m.apply(ev("oom", "id2", "c", 7));
  const auto& r = rec(m, "c");
  EXPECT_TRUE(r.present);
  EXPECT_EQ(r.id, "id2");
  EXPECT_EQ(r.counters.oom_kills, 2u);
  EXPECT_EQ(r.counters.restarts, 1u);  // compose re-creation after a crash
}

TEST(StateModel, RemovedContainersExpireAfterTheRetention) {
  state::StateModel m(state::StateOptions{std::chrono::seconds(900)});
  auto t0 = state::Clock::now();
  m.apply(ev("create", "id1", "c", 1), t0);
  m.apply(ev("destroy", "id1", "c", 2), t0);
  m.expire(t0 + 899s);
  EXPECT_EQ(m.containers().count("c"), 1u);
  m.expire(t0 + 900s);
  EXPECT_EQ(m.containers().count("c"), 0u);
}

TEST(StateModel, HealthFromEventsAndStreakFromInspect) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.apply(ev("start", "id1", "c", 2));
  EXPECT_EQ(m.apply(ev("health_status: unhealthy", "id1", "c", 3)), Followup::inspect);
  EXPECT_EQ(rec(m, "c").health, "unhealthy");
  auto i = info("id1", "c", "running");
  i.health = "unhealthy";
  i.failing_streak = 4;
  m.update(i, m.sequence_of("id1"));
  EXPECT_EQ(rec(m, "c").failing_streak, 4);
  m.apply(ev("health_status: healthy", "id1", "c", 4));
  EXPECT_EQ(rec(m, "c").health, "healthy");
}

TEST(StateModel, StaleInspectDoesNotOverrideNewerEvents) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.apply(ev("start", "id1", "c", 2));
  std::uint64_t seq = m.sequence_of("id1");  // inspect sent here
  m.apply(die("id1", "c", 3, 1));             // the container died meanwhile
  auto i = info("id1", "c", "running");       // the answer describes the past
  i.spec.memory_limit = 1 << 20;
  m.update(i, seq);
  EXPECT_EQ(rec(m, "c").state, "exited");
  EXPECT_EQ(rec(m, "c").spec.memory_limit, 1 << 20);  // fields events do not carry are taken
}

TEST(StateModel, InspectOfADestroyedContainerIsIgnored) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  std::uint64_t seq = m.sequence_of("id1");
  m.apply(ev("destroy", "id1", "c", 2));
  m.update(info("id1", "c", "running"), seq);
  EXPECT_FALSE(rec(m, "c").present);
}

TEST(StateModel, PauseAndUnpause) {
  state::StateModel m;
  m.apply(ev("start", "id1", "c", 1));
  m.apply(ev("pause", "id1", "c", 2));
  EXPECT_EQ(rec(m, "c").state, "paused");
  m.apply(ev("unpause", "id1", "c", 3));
  EXPECT_EQ(rec(m, "c").state, "running");
}

TEST(StateModel, RenameMovesTheLiveContainerAndLeavesTheCountersBehind) {
  state::StateModel m;
  m.apply(ev("create", "id1", "shop_api_1", 1));
  m.apply(ev("start", "id1", "shop_api_1", 2));
  auto inspected = info("id1", "shop_api_1", "running");
  inspected.spec.memory_limit = 64 << 20;
  inspected.spec.memory_reservation = 32 << 20;
  inspected.spec.healthcheck = docker::HealthcheckConfig{{"CMD", "true"}, 1'000'000'000, 0, 0, 2};
  inspected.spec.restart_policy = {"always", 0};
  m.update(inspected, m.sequence_of("id1"));
  m.apply(ev("oom", "id1", "shop_api_1", 3));
  m.apply(ev("rename", "id1", "abc_shop_api_1", 4, {{"oldName", "/shop_api_1"}}));
  EXPECT_FALSE(rec(m, "shop_api_1").present);
  EXPECT_EQ(rec(m, "shop_api_1").counters.oom_kills, 1u);
  const auto& moved = rec(m, "abc_shop_api_1");
  EXPECT_TRUE(moved.present);
  EXPECT_EQ(moved.state, "running");
  EXPECT_EQ(moved.counters.oom_kills, 0u);
  // Everything inspect said about the container moves with it, not only the state.
  EXPECT_EQ(moved.spec.memory_limit, 64 << 20);
  EXPECT_EQ(moved.spec.memory_reservation, 32 << 20);
  EXPECT_EQ(moved.spec.healthcheck, inspected.spec.healthcheck);
  EXPECT_EQ(moved.spec.restart_policy.name, "always");
  m.apply(ev("destroy", "id1", "abc_shop_api_1", 5));
  EXPECT_FALSE(rec(m, "abc_shop_api_1").present);
}

TEST(StateModel, ReconcileMarksVanishedContainersRemovedAndKeepsCounters) {
  state::StateModel m;
  m.apply(ev("create", "id1", "a", 1));
  m.apply(ev("oom", "id1", "a", 2));
  m.apply(ev("create", "id2", "b", 3));
  m.reconcile({info("id2", "b", "running"), info("id3", "c", "exited")});
  EXPECT_FALSE(rec(m, "a").present);
  EXPECT_EQ(rec(m, "a").counters.oom_kills, 1u);
  EXPECT_EQ(rec(m, "b").state, "running");
  EXPECT_EQ(rec(m, "c").state, "exited");
  EXPECT_EQ(rec(m, "c").spec.compose.project, "shop");
}

TEST(StateModel, CountsEveryEventByTypeAndAction) {
  state::StateModel m;
  m.apply(ev("exec_start: sh -c x", "id1", "c", 1));
  m.apply(ev("exec_start: ls", "id1", "c", 2));
  docker::Event net;
  net.type = "network";
  net.action = "connect";
  net.actor_id = "n";
  m.apply(net);
  m.publish();
  auto snap = m.snapshot();
  ASSERT_EQ(snap->events.size(), 2u);
  EXPECT_EQ(snap->events[0].type, "container");
  EXPECT_EQ(snap->events[0].action, "exec_start");
  EXPECT_EQ(snap->events[0].count, 2u);
  EXPECT_EQ(snap->events[1].type, "network");
}

TEST(StateModel, SnapshotsAreImmutable) {
  state::StateModel m;
  m.apply(ev("create", "id1", "c", 1));
  m.publish();
  auto before = m.snapshot();
  m.apply(ev("oom", "id1", "c", 2));
  m.publish();
  EXPECT_EQ(before->containers.at(0).counters.oom_kills, 0u);
  EXPECT_EQ(m.snapshot()->containers.at(0).counters.oom_kills, 1u);
}

TEST(StateModel, LiveContainersByProjectGroupsThePresentOnesOfTheProjectsAsked) {
  auto record = [](std::string name, std::string project, bool present) {
    state::ContainerRecord r;
    r.name = std::move(name);
    r.spec.compose.project = std::move(project);
    r.present = present;
    return r;
  };
  const std::vector<state::ContainerRecord> records = {
      record("shop-api-1", "shop", true),    record("shop-db-1", "shop", true),
      record("shop-old-1", "shop", false),   // removed: not live
      record("blog-web-1", "blog", true),    // a project not asked for
      record("standalone", "", true),
  };
  const auto live = state::live_containers_by_project(records, {"shop", "empty"});
  ASSERT_EQ(live.size(), 2u);
  const auto& shop = live.find("shop")->second;
  ASSERT_EQ(shop.size(), 2u);
  EXPECT_EQ(shop[0].name, "shop-api-1");
  EXPECT_EQ(shop[1].name, "shop-db-1");
  EXPECT_TRUE(live.find("empty")->second.empty());
}
