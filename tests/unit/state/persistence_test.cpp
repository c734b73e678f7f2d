// The state file: its format round-trips, anything else is refused with why and set
// aside, writes are atomic, and a model restored from it counts on where it stopped —
// neither losing nor repeating a kill.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "composewatch/state/model.h"
#include "composewatch/state/saved.h"
#include "composewatch/state/store.h"

using namespace composewatch;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("cw-state-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static inline int counter = 0;
};

// The model an agent restarted after `before` saved its file: saved, encoded, decoded, restored.
void restart_into(const state::StateModel& before, state::StateModel& after) {
  state::SavedState saved;
  before.save_to(saved);
  auto d = state::decode_saved_state(state::encode_saved_state(saved));
  ASSERT_TRUE(d.state) << d.error;
  after.restore(*d.state);
}

state::SavedState sample() {
  state::SavedState s;
  s.saved_at = 1764500000.25;
  s.stream.live_until_nano = 1764499999123456789;
  s.stream.recent = {{1764499999000000000, "container", "die", std::string(64, 'a')},
                     {1764499999100000000, "container", "health_status:healthy", std::string(64, 'b')}};
  s.stream_reconnects = 3;
  s.events = {{"container", "die", 7}, {"container", "oom", 2}};
  state::SavedContainer web;
  web.name = "shop-web-1";
  web.id = std::string(64, 'a');
  web.project = "shop";
  web.service = "web";
  web.image = "nginx:1";
  web.state = "running";
  web.counters.oom_kills = 2;
  web.counters.restarts = 5;
  web.counters.exits = {{{137, state::ExitReason::oom}, 2},
                        {{137, state::ExitReason::stopped}, 1},
                        {{1, state::ExitReason::error}, 3},
                        {{-1, state::ExitReason::error}, 1}};
  web.oom_instance = {.pid = 4242, .events = 1, .counted = 2};
  web.last_exit = state::LastExit{std::string(64, 'a'), 137, state::ExitReason::oom, 1764499990.5};
  web.last_oom_kill_at = 1764499990.25;
  state::SavedContainer gone = web;
  gone.name = "old";
  gone.present = false;
  gone.removed_at = 1764499000.5;
  gone.died_since_start = true;
  s.containers = {web, gone};
  return s;
}

docker::Event event(const std::string& action, const std::string& id, const std::string& name, std::int64_t t,
                    std::vector<std::pair<std::string, std::string>> extra = {}) {
  docker::Event e;
  e.type = "container";
  e.action = action;
  e.actor_id = id;
  e.time_nano = t;
  e.attributes = {{"name", name}};
  for (auto& kv : extra) e.attributes.push_back(kv);
  return e;
}

}  // namespace

TEST(SavedState, RoundTrips) {
  const auto s = sample();
  auto d = state::decode_saved_state(state::encode_saved_state(s));
  ASSERT_TRUE(d.state) << d.error;
  EXPECT_EQ(d.state->saved_at, s.saved_at);
  EXPECT_EQ(d.state->stream.live_until_nano, s.stream.live_until_nano);
  EXPECT_EQ(d.state->stream.recent, s.stream.recent);
  EXPECT_EQ(d.state->stream_reconnects, 3u);
  EXPECT_EQ(d.state->events, s.events);
  EXPECT_EQ(d.state->containers, s.containers);
}

// A state file as agents before the saved container held the model's own Counters and
// OomInstance wrote it (format version 1, the same keys since): an upgraded agent loads
// the same counters and instance, and writes the same keys back.
TEST(SavedState, AFileOfAnEarlierAgentLoadsWithTheSameCounters) {
  const std::string earlier =
      R"({"format":"composewatch-state","version":1,"saved_at":1764500000.5,)"
      R"("stream":{"live_until_nano":1764499999123456789,"recent":[],"reconnects":3},)"
      R"("events":[{"type":"container","action":"die","count":7}],)"
      R"("containers":[{"name":"shop-web-1","id":"aaaa","project":"shop","service":"web","image":"nginx:1",)"
      R"("state":"running","present":true,"oom_kills":2,"restarts":5,"exits":{"137":2,"1":3,"-1":1},)"
      R"("died_since_start":false,"oom_instance":{"pid":4242,"events":1,"counted":2}},)"
      R"({"name":"old","id":"bbbb","project":"","service":"","image":"busybox","state":"exited","present":false,)"
      R"("removed_at":1764499000.5,"oom_kills":0,"restarts":1,"exits":{"0":1},"died_since_start":true,)"
      R"("oom_instance":{"pid":0,"events":0,"counted":0}}]})";
  auto d = state::decode_saved_state(earlier);
  ASSERT_TRUE(d.state) << d.error;
  ASSERT_EQ(d.state->containers.size(), 2u);
  const auto& web = d.state->containers[0];
  // Exits by code alone are classified by code, as a death found afterwards would be.
  EXPECT_EQ(web.counters, (state::Counters{.oom_kills = 2,
                                           .restarts = 5,
                                           .exits = {{{137, state::ExitReason::stopped}, 2},
                                                     {{1, state::ExitReason::error}, 3},
                                                     {{-1, state::ExitReason::error}, 1}}}));
  EXPECT_FALSE(web.last_exit) << "unknown: classified from inspect at the first listing";
  EXPECT_FALSE(web.last_oom_kill_at) << "unknown: an old kill is not presented as new";
  EXPECT_EQ(web.oom_instance, (state::OomInstance{.pid = 4242, .events = 1, .counted = 2}));
  EXPECT_FALSE(web.died_since_start);
  const auto& old = d.state->containers[1];
  EXPECT_EQ(old.counters,
            (state::Counters{.oom_kills = 0, .restarts = 1, .exits = {{{0, state::ExitReason::completed}, 1}}}));
  EXPECT_EQ(old.oom_instance, state::OomInstance{});
  EXPECT_TRUE(old.died_since_start);
  EXPECT_EQ(old.removed_at, 1764499000.5);

  // Into a model and out again: the counters are the same, under the same keys.
  state::StateModel model;
  model.restore(*d.state);
  EXPECT_EQ(model.containers().at("shop-web-1").counters, web.counters);
  EXPECT_EQ(model.containers().at("shop-web-1").oom_instance, web.oom_instance);
  state::SavedState again;
  model.save_to(again);
  const std::string text = state::encode_saved_state(again);
  for (const std::string key : {R"("oom_kills":2,"restarts":5,"exits":{)", R"("oom_instance":{"pid":4242,"events":1,"counted":2})",
                                R"("oom_kills":0,"restarts":1,"exits":{"0":1},"exits_by_reason":{"completed":{"0":1}},"died_since_start":true)"})
    EXPECT_NE(text.find(key), std::string::npos) << key << "\n" << text;
}

TEST(SavedState, RefusesWhatItCannotReadAndSaysWhy) {
  const std::string good = state::encode_saved_state(sample());
  struct Case {
    std::string text, error;
  };
  std::string newer = good;
  newer.replace(newer.find("\"version\":1"), 11, "\"version\":2");
  std::string mistyped = good;
  mistyped.replace(mistyped.find("\"oom_kills\":2"), 13, "\"oom_kills\":-2");
  std::string bad_exit = good;
  bad_exit.replace(bad_exit.find("\"137\":"), 6, "\"x37\":");
  std::string bad_reason = good;
  bad_reason.replace(bad_reason.find("\"stopped\":"), 10, "\"killed\":");
  std::string bad_last = good;
  bad_last.replace(bad_last.find("\"reason\":\"oom\""), 14, "\"reason\":\"xyz\"");
  for (const Case& c : std::vector<Case>{
           {"", "not JSON"},
           {good.substr(0, good.size() / 2), "not JSON"},
           {",", "not JSON"},
           {"[]", "not an object"},
           {R"({"format":"something-else","version":1})", "not a composewatch state file"},
           {R"({"groups":[]})", "not a composewatch state file"},
           {newer, "written by a newer composewatch (format version 2, this one reads 1)"},
           {mistyped, "containers[0].oom_kills: not a count"},
           {bad_exit, "containers[0].exits: x37 is not an exit code"},
           {bad_reason, "containers[0].exits_by_reason.killed: not completed, stopped, oom or error"},
           {bad_last, "containers[0].last_exit.reason: not completed, stopped, oom or error"},
       }) {
    auto d = state::decode_saved_state(c.text);
    EXPECT_FALSE(d.state) << c.text;
    EXPECT_NE(d.error.find(c.error), std::string::npos) << "got: " << d.error << "\nfor: " << c.text.substr(0, 80);
  }
}

TEST(StateFile, SavesAtomicallyAndLoadsWhatItSaved) {
  TempDir dir;
  state::StateFile file(dir.path);
  EXPECT_FALSE(file.load()) << "no file yet: a first start";
  file.save(sample());
  EXPECT_EQ(dir.names(), std::vector<std::string>{"state.json"}) << "no temporary file left behind";
  auto loaded = file.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->containers, sample().containers);
  EXPECT_EQ(fs::status(file.path()).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

  auto next = sample();
  next.containers[0].counters.oom_kills = 9;
  file.save(next);
  EXPECT_EQ(file.load()->containers[0].counters.oom_kills, 9u);
}

TEST(StateFile, ACorruptFileIsSetAsideNotFatalAndNotLost) {
  for (const std::string text : {std::string("{\"format\":\"composewatch-state\",\"vers"), std::string(","),
                                 std::string("{\"format\":\"composewatch-state\",\"version\":7}")}) {
    TempDir dir;
    state::StateFile file(dir.path);
    std::ofstream(file.path()) << text;
    EXPECT_FALSE(file.load());
    const auto names = dir.names();
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].rfind("state.json.bad-", 0), 0u) << names[0];
    std::ifstream aside(dir.path / names[0]);
    std::stringstream kept;
    kept << aside.rdbuf();
    EXPECT_EQ(kept.str(), text) << "set aside as it was";
    file.save(sample());  // the next save starts a new file beside it
    EXPECT_TRUE(file.load());
  }
}

TEST(StateFile, AnUnwritableDirectoryIsAnErrorNamingThePath) {
  state::StateFile file("/nonexistent/cw-state");
  try {
    file.save(sample());
    FAIL() << "saved into a directory that does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cw-state/state.json.tmp"), std::string::npos) << e.what();
  }
}

// A model saved and restored into a new one exports the same counters, and a container
// that still runs the same instance does not get its cgroup OOM kills counted again.
TEST(StateModelPersistence, RestoredCountersCarryOnWithoutCountingTwice) {
  const std::string id(64, 'c');
  state::StateModel before;
  before.apply(event("create", id, "web", 1));
  before.apply(event("start", id, "web", 2));
  before.apply(event("oom", id, "web", 3));
  before.apply(event("die", id, "web", 4, {{"exitCode", "137"}}));
  before.apply(event("start", id, "web", 5));
  docker::ContainerInfo info;
  info.id = id;
  info.name = "web";
  info.state = "running";
  info.pid = 77;
  before.update(info, before.sequence_of(id));
  EXPECT_EQ(before.fold_cgroup_oom_kills(id, 77, 1), 1u);  // a kill in the new instance, seen by the cgroup only
  state::SavedState saved;
  before.save_to(saved);

  state::StateModel after;
  after.restore(state::decode_saved_state(state::encode_saved_state(saved)).state.value());
  after.reconcile({info});
  EXPECT_EQ(after.fold_cgroup_oom_kills(id, 77, 1), 0u) << "the same instance's kill is already counted";
  after.apply(event("die", id, "web", 6, {{"exitCode", "1"}}));
  after.apply(event("start", id, "web", 7));
  after.publish();
  const auto& web = after.snapshot()->containers.at(0);
  EXPECT_EQ(web.counters.oom_kills, 2u);
  EXPECT_EQ(web.counters.restarts, 2u);
  EXPECT_EQ(web.counters.exits.at({137, state::ExitReason::oom}), 1u);
  // The restored instance's cgroup kill came before this die: it is why, as it would be
  // had the agent not restarted in between.
  EXPECT_EQ(web.counters.exits.at({1, state::ExitReason::oom}), 1u);
  bool found = false;
  for (const auto& e : after.snapshot()->events)
    if (e.type == "container" && e.action == "die") found = e.count == 2;
  EXPECT_TRUE(found) << "events_total carries on";
}

TEST(StateModelPersistence, RemovedContainersKeepTheirRemovalTimeAndExpire) {
  const std::string id(64, 'd');
  state::StateModel before;
  const auto t0 = state::Clock::now() - std::chrono::minutes(10);
  before.apply(event("create", id, "gone", 1), t0);
  before.apply(event("destroy", id, "gone", 2), t0);
  state::SavedState saved;
  before.save_to(saved);
  state::StateModel after;
  after.restore(saved);
  after.expire(t0 + std::chrono::minutes(14));
  after.publish();
  EXPECT_EQ(after.snapshot()->containers.size(), 1u);
  after.expire(t0 + std::chrono::minutes(16));
  after.publish();
  EXPECT_TRUE(after.snapshot()->containers.empty()) << "retention counts from the removal, not from the restart";
}

// An OOM kill whose `oom` event the engine lost is counted from the inspect that follows
// its die (State.OOMKilled), once; with the event it is not counted twice.
TEST(StateModelOom, AKillWithoutItsEventIsCountedFromTheInspectAfterTheDie) {
  const std::string id(64, 'e');
  docker::ContainerInfo info;
  info.id = id;
  info.name = "hog";
  info.state = "exited";
  info.exit_code = 137;
  info.oom_killed = true;

  state::StateModel lost;
  lost.apply(event("create", id, "hog", 1));
  lost.apply(event("start", id, "hog", 2));
  EXPECT_EQ(lost.apply(event("die", id, "hog", 3, {{"exitCode", "137"}})), state::Followup::inspect);
  lost.update(info, lost.sequence_of(id));
  lost.apply(event("oom", id, "hog", 4));  // had it come late after all
  lost.publish();
  EXPECT_EQ(lost.snapshot()->containers.at(0).counters.oom_kills, 1u);

  state::StateModel seen;
  seen.apply(event("create", id, "hog", 1));
  seen.apply(event("start", id, "hog", 2));
  seen.apply(event("oom", id, "hog", 3));
  seen.apply(event("die", id, "hog", 4, {{"exitCode", "137"}}));
  seen.update(info, seen.sequence_of(id));
  seen.publish();
  EXPECT_EQ(seen.snapshot()->containers.at(0).counters.oom_kills, 1u) << "the event already counted it";

  // Restarted before the inspect answered: the answer may describe the new instance.
  state::StateModel restarted;
  restarted.apply(event("create", id, "hog", 1));
  restarted.apply(event("start", id, "hog", 2));
  restarted.apply(event("die", id, "hog", 3, {{"exitCode", "137"}}));
  const auto seq = restarted.sequence_of(id);
  restarted.apply(event("start", id, "hog", 4));
  restarted.update(info, seq);
  restarted.publish();
  EXPECT_EQ(restarted.snapshot()->containers.at(0).counters.oom_kills, 0u);

  // A plain SIGKILL: the flag is false, nothing is counted.
  state::StateModel killed;
  killed.apply(event("create", id, "hog", 1));
  killed.apply(event("start", id, "hog", 2));
  killed.apply(event("die", id, "hog", 3, {{"exitCode", "137"}}));
  info.oom_killed = false;
  killed.update(info, killed.sequence_of(id));
  killed.publish();
  EXPECT_EQ(killed.snapshot()->containers.at(0).counters.oom_kills, 0u);
}

// The classes, the last exit and the last OOM kill's time survive a restart of the agent:
// a restarted agent presents neither a different class nor an old kill as new.
TEST(SavedState, ExitClassesAndTheLastOomKillSurviveARestart) {
  state::StateModel before;
  const std::string id(64, 'c');
  before.apply(event("create", id, "api", 1'000'000'000));
  before.apply(event("start", id, "api", 2'000'000'000));
  before.apply(event("kill", id, "api", 3'000'000'000, {{"signal", "15"}}));
  before.apply(event("die", id, "api", 4'000'000'000, {{"exitCode", "143"}}));
  before.apply(event("start", id, "api", 5'000'000'000));
  before.apply(event("oom", id, "api", 6'000'000'000));
  before.apply(event("die", id, "api", 6'000'000'000, {{"exitCode", "137"}}));
  state::StateModel after;
  ASSERT_NO_FATAL_FAILURE(restart_into(before, after));
  const auto& r = after.containers().at("api");
  EXPECT_EQ(r.counters.exits, (std::map<state::ExitKey, std::uint64_t>{{{143, state::ExitReason::stopped}, 1},
                                                                        {{137, state::ExitReason::oom}, 1}}));
  ASSERT_TRUE(r.last_exit);
  EXPECT_EQ(*r.last_exit, (state::LastExit{id, 137, state::ExitReason::oom, 6.0}));
  EXPECT_EQ(r.last_oom_kill_at, 6.0);
  EXPECT_EQ(r.counters, before.containers().at("api").counters);
}

// docker stop under way (SIGTERM sent, the grace period running) when the agent restarts:
// the replay will not repeat the kill it already counted, so the file keeps that it was asked.
TEST(SavedState, AStopUnderWayAcrossARestartIsStillAStop) {
  state::StateModel before;
  const std::string id(64, 'd');
  before.apply(event("create", id, "api", 1'000'000'000));
  before.apply(event("start", id, "api", 2'000'000'000));
  before.apply(event("kill", id, "api", 3'000'000'000, {{"signal", "15"}}));
  state::StateModel after;
  ASSERT_NO_FATAL_FAILURE(restart_into(before, after));
  // SIGTERM ended it after the restart: no new kill event, the die alone.
  after.apply(event("die", id, "api", 4'000'000'000, {{"exitCode", "143"}}));
  EXPECT_EQ(after.containers().at("api").counters.exits,
            (std::map<state::ExitKey, std::uint64_t>{{{143, state::ExitReason::stopped}, 1}}));
}
