// The event follower against a fake engine on a unix socket: the stream's lines split
// across chunks, garbage between them, a truncated last line and an abrupt end, then a
// reconnect whose replay repeats what was seen. A fake is used only for what the real
// engine cannot do on demand: send garbage or a truncated stream, replay events on
// reconnect at a chosen moment. The real dockerd is in tests/integration/.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "composewatch/jobs/event_follower.h"
#include "fake_engine.h"
#include "fixture_file.h"

using namespace composewatch;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

using test_support::Exchange;
using test_support::FakeEngine;

std::string event_line(const std::string& action, const std::string& id, const std::string& name, long long t) {
  return R"({"Type":"container","Action":")" + action + R"(","Actor":{"ID":")" + id +
         R"(","Attributes":{"name":")" + name + R"(","image":"img"}},"time":1,"timeNano":)" + std::to_string(t) +
         "}\n";
}

}  // namespace

// The stream: lines split across chunks, garbage between them, a truncated last line and
// an abrupt end; then a reconnect whose inclusive `since` replay repeats the last event.
TEST(EventFollower, SurvivesGarbageResumesWithSinceAndCountsReplaysOnce) {
  std::atomic<int> streams{0};
  const std::string id = std::string(64, 'a');
  const std::string die = R"({"Type":"container","Action":"die","Actor":{"ID":")" + id +
                          R"(","Attributes":{"name":"web","exitCode":"137"}},"timeNano":4000})" + "\n";
  FakeEngine fake;
  fake.on("/v1.41/version", 200, R"({"Version":"99.0","ApiVersion":"1.41"})")
      .on("/v1.41/containers/json?all=1", 200, "[]")
      .on("/v1.41/containers/*", 404, R"({"message":"gone"})")
      .on("/v1.41/events*", [&](Exchange& x) {
        if (x.target().find("&until=") != std::string::npos) {
          // The bounded replay after the reconnect is inclusive: it repeats the last event
          // seen (oom at 3000), then what the agent missed.
          return x.json(200, event_line("oom", id, "web", 3000) + die);
        }
        const int n = ++streams;
        x.begin_stream();
        if (n == 1) {
          std::string create = event_line("create", id, "web", 1000);
          std::string start = event_line("start", id, "web", 2000);
          std::string oom = event_line("oom", id, "web", 3000);
          x.chunk(create + start.substr(0, 20));
          std::this_thread::sleep_for(20ms);
          x.chunk(start.substr(20) + "this is not json\n" + oom);
          x.chunk(event_line("die", id, "web", 4000).substr(0, 30));
          return;  // connection dropped mid-line
        }
        // The live stream from the end of the replay: it repeats the replay's last event.
        x.chunk(die);
        x.stall();
      });

  state::StateModel model;
  asio::io_context ioc;
  jobs::EventFollowerOptions opts;
  opts.backoff_initial = 50ms;
  jobs::EventFollower tracker(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), model, opts);
  asio::co_spawn(ioc, tracker.run(), asio::detached);
  ioc.run_for(1200ms);

  auto snap = model.snapshot();
  ASSERT_EQ(snap->containers.size(), 1u);
  const auto& web = snap->containers[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.counters.oom_kills, 1u) << "the replayed oom must not be counted twice";
  EXPECT_EQ(web.counters.exits, (std::map<state::ExitKey, std::uint64_t>{{{137, state::ExitReason::oom}, 1}}));
  EXPECT_EQ(tracker.events_parse_errors(), 1u);
  EXPECT_EQ(snap->engine.stream_reconnects, 1u);
  EXPECT_TRUE(snap->engine.ready);
  EXPECT_EQ(snap->engine.version, "99.0");

  std::vector<std::string> events_targets;
  for (const auto& t : fake.targets())
    if (t.rfind("/v1.41/events", 0) == 0) events_targets.push_back(t);
  ASSERT_GE(events_targets.size(), 3u);
  EXPECT_EQ(events_targets[0], "/v1.41/events");
  // Resumed from when the stream ended (a second before it), not from the last event:
  // a replay up to now, then the live stream from that moment.
  const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double since = 0, until = 0;
  ASSERT_EQ(std::sscanf(events_targets[1].c_str(), "/v1.41/events?since=%lf&until=%lf", &since, &until), 2)
      << events_targets[1];
  EXPECT_NEAR(since, now - 2, 2.0);
  EXPECT_GT(until, since);
  EXPECT_EQ(events_targets[2], "/v1.41/events?since=" + events_targets[1].substr(events_targets[1].find("until=") + 6));
}

// The jobs that follow container changes (the healer) hear of them from the follower once
// the model has taken them in: each container event with the record it applied to (its
// name already moved by a rename, still there after a destroy), never a replayed duplicate
// or another type's event, and each full listing. A fake engine: the stream's exact
// lines and its end on demand.
TEST(EventFollower, TellsListenersOfEachContainerEventOnceAppliedAndOfEachListing) {
  const std::string id = std::string(64, 'b');
  std::atomic<int> streams{0};
  FakeEngine fake;
  fake.on("/v1.41/version", 200, R"({"Version":"99.0","ApiVersion":"1.41"})")
      .on("/v1.41/containers/json?all=1", 200, "[]")
      .on("/v1.41/containers/*", 404, R"({"message":"gone"})")
      .on("/v1.41/events*", [&](Exchange& x) {
        if (x.target().find("&until=") != std::string::npos)
          // The replay after the reconnect repeats the stream's last event.
          return x.json(200, event_line("destroy", id, "web2", 5000));
        const int n = ++streams;
        x.begin_stream();
        if (n == 1) {
          x.chunk(event_line("create", id, "web", 1000) + event_line("health_status: unhealthy", id, "web", 2000) +
                  R"({"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"name":"bridge"}},"timeNano":2500})"
                  "\n" +
                  R"({"Type":"container","Action":"rename","Actor":{"ID":")" + id +
                  R"(","Attributes":{"name":"web2","oldName":"/web"}},"timeNano":3000})" "\n" +
                  event_line("destroy", id, "web2", 5000));
          std::this_thread::sleep_for(100ms);
          return;  // the stream ends: the follower reconnects and lists again
        }
        x.stall();
      });

  state::StateModel model;
  asio::io_context ioc;
  jobs::EventFollowerOptions opts;
  opts.backoff_initial = 50ms;
  jobs::EventFollower tracker(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), model, opts);
  std::vector<std::string> told;
  int listings = 0;
  tracker.add_listener({.event =
                            [&](const docker::Event& e, const state::ContainerRecord* r) {
                              // The record has already changed when the listener hears of it.
                              told.push_back(e.action + ":" + (r ? r->name + "/" + r->health + "/" + r->state : "none"));
                            },
                        .listed = [&] { ++listings; }});
  tracker.add_listener({.event = {}, .listed = {}});  // a listener may leave either empty
  asio::co_spawn(ioc, tracker.run(), asio::detached);
  ioc.run_for(1000ms);

  EXPECT_EQ(told, (std::vector<std::string>{"create:web/none/created", "health_status:web/unhealthy/created",
                                            "rename:web2/unhealthy/created", "destroy:web2/unhealthy/removing"}));
  EXPECT_EQ(listings, 2) << "the first connect and the reconnect each list";
}

// A death while the stream was down that no replayed event tells of (the engine restarted,
// its buffer lost): counted from the container's state and classified from its exit code,
// and the reconnect that found the gap gives the time of the gap.
TEST(EventFollower, ADeathMissedWhileAwayIsClassifiedAndTheGapTimed) {
  std::atomic<int> streams{0};
  const std::string id = "62bc51b451bb20757963d208b65b56e948a7074c661e5ddfb06597d4c4d21d01";
  const auto rfc3339 = [](double s) {
    const std::time_t whole = std::time_t(s);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&whole));
    return std::string(buf) + "." + std::to_string(int((s - double(whole)) * 1e6) + 1000000).substr(1) + "Z";
  };
  const auto now_s = [] { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); };
  FakeEngine fake;
  fake.on("/v1.41/version", 200, R"({"Version":"99.0","ApiVersion":"1.41"})")
      .on("/v1.41/containers/json?all=1", [&](Exchange& x) {
        return x.json(200, streams.load() > 1 ? R"([{"Id":")" + id + R"("}])" : std::string("[]"));
      })
      .on("/v1.41/containers/*", [&](Exchange& x) {
        // Down since 2.4 s before this listing: after the resume point (the end of the first
        // stream less a second), before the replay's end less the 2 s the state may lag.
        std::string body = test_support::read_fixture("inspect/running_unhealthy.json");
        const auto put = [&](const std::string& from, const std::string& to) {
          const auto at = body.find(from);
          if (at != std::string::npos) body.replace(at, from.size(), to);
        };
        put(R"("Status": "running")", R"("Status": "exited")");  // the first: State's, not Health's
        put(R"("Running": true)", R"("Running": false)");
        put(R"("ExitCode": 0,)", R"("ExitCode": 3,)");
        put(R"("Pid": 32322)", R"("Pid": 0)");
        put(R"("StartedAt": "2026-11-26T14:33:22.563978419Z")", R"("StartedAt": ")" + rfc3339(now_s() - 60) + "\"");
        put(R"("FinishedAt": "0001-01-01T00:00:00Z")", R"("FinishedAt": ")" + rfc3339(now_s() - 2.4) + "\"");
        return x.json(200, body);
      })
      .on("/v1.41/events*", [&](Exchange& x) {
        if (x.target().find("&until=") != std::string::npos) return x.json(200, "");
        ++streams;
        x.begin_stream();
        if (streams.load() == 1) return;  // ends at once: the agent reconnects after its backoff
        x.stall();
      });

  state::StateModel model;
  asio::io_context ioc;
  jobs::EventFollowerOptions opts;
  opts.backoff_initial = 3s;  // longer than the 1 s resume margin and the 2 s the state may lag
  jobs::EventFollower tracker(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), model, opts);
  asio::co_spawn(ioc, tracker.run(), asio::detached);
  ioc.run_for(4500ms);

  auto snap = model.snapshot();
  ASSERT_EQ(snap->containers.size(), 1u);
  const auto& r = snap->containers[0];
  EXPECT_EQ(r.counters.exits, (std::map<state::ExitKey, std::uint64_t>{{{3, state::ExitReason::error}, 1}}));
  ASSERT_TRUE(state::current_exit(r));
  EXPECT_EQ(state::current_exit(r)->reason, state::ExitReason::error);
  EXPECT_GT(snap->engine.event_gap_seconds, 0);
  ASSERT_TRUE(snap->engine.event_gap_at);
  EXPECT_NEAR(*snap->engine.event_gap_at, now_s(), 3.0) << "the reconnect's time";
}
