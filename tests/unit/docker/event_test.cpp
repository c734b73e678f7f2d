// The event stream's parsers: events on fixtures, the line splitter, and the
// de-duplication of replayed events, also across a restart from the saved keys.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "composewatch/docker/event.h"

using namespace composewatch::docker;

namespace {
std::vector<std::string> fixture_lines(const std::string& name) {
  std::ifstream f(std::string(COMPOSEWATCH_FIXTURES) + "/events/" + name);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  return lines;
}

constexpr std::int64_t kS = 1'000'000'000;

Event container_event(const std::string& action, const std::string& id, const std::string& name, std::int64_t t) {
  Event e;
  e.type = "container";
  e.action = action;
  e.actor_id = id;
  e.time_nano = t;
  e.attributes = {{"name", name}};
  return e;
}
}  // namespace

TEST(EventParser, ParsesContainerEventWithLabelsAndExitCode) {
  auto lines = fixture_lines("lifecycle.jsonl");
  ASSERT_EQ(lines.size(), 9u);
  auto r = parse_event(lines[3]);
  ASSERT_TRUE(r.event) << r.error;
  const Event& e = *r.event;
  EXPECT_EQ(e.type, "container");
  EXPECT_EQ(e.action, "die");
  EXPECT_EQ(e.action_detail, "");
  EXPECT_EQ(e.actor_id.substr(0, 12), "4f1c2d3e4b5a");
  EXPECT_EQ(e.attribute("exitCode"), "137");
  EXPECT_EQ(e.attribute("name"), "shop_api_1");
  EXPECT_EQ(e.attribute("com.docker.compose.project"), "shop");
  EXPECT_EQ(e.attribute("missing"), "");
  EXPECT_FALSE(e.has_attribute("missing"));
  EXPECT_EQ(e.time_nano, 1764166802000000004);
}

TEST(EventParser, ExecActionKeepsOnlyThePartBeforeTheColon) {
  auto r = parse_event(fixture_lines("lifecycle.jsonl")[5]);
  ASSERT_TRUE(r.event);
  EXPECT_EQ(r.event->action, "exec_start");
  EXPECT_EQ(r.event->action_detail, "sh -c echo hi");
}

TEST(EventParser, HealthActionCarriesTheStatus) {
  auto r = parse_event(fixture_lines("lifecycle.jsonl")[6]);
  ASSERT_TRUE(r.event);
  EXPECT_EQ(r.event->action, "health_status");
  EXPECT_EQ(r.event->action_detail, "unhealthy");
  auto healthy = parse_event(R"({"Type":"container","Action":"health_status: healthy","Actor":{"ID":"x"},"timeNano":5})");
  ASSERT_TRUE(healthy.event);
  EXPECT_EQ(healthy.event->action_detail, "healthy");
}

TEST(EventParser, UnknownActionsAndTypesAreKept) {
  auto r = parse_event(R"({"Type":"plugin","Action":"frobnicate","Actor":{"ID":"p1","Attributes":{}},"timeNano":1})");
  ASSERT_TRUE(r.event) << r.error;
  EXPECT_EQ(r.event->type, "plugin");
  EXPECT_EQ(r.event->action, "frobnicate");
}

TEST(EventParser, RejectsGarbageWithAReason) {
  for (const char* bad : {"", "garbage", "{", "[1,2,3]", "42", R"({"Type":"container"})",
                          R"({"Type":"container","Action":""})", R"({"Type":1,"Action":"start"})"}) {
    auto r = parse_event(bad);
    EXPECT_FALSE(r.event) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
  }
}

TEST(EventParser, RejectsTruncatedLines) {
  std::string line = fixture_lines("lifecycle.jsonl")[1];
  for (std::size_t cut : {line.size() - 1, line.size() / 2, std::size_t(10)}) {
    auto r = parse_event(std::string_view(line).substr(0, cut));
    EXPECT_FALSE(r.event) << "cut at " << cut;
  }
}

TEST(EventParser, RejectsAbsurdNesting) {
  std::string deep(10000, '[');
  EXPECT_FALSE(parse_event(deep).event);
  std::string nested = R"({"Type":"container","Action":"start","Actor":{"ID":"x","Attributes":)" +
                       std::string(100, '[') + std::string(100, ']') + "}}";
  EXPECT_FALSE(parse_event(nested).event);
}

TEST(EventParser, FallsBackToSecondsWithoutTimeNano) {
  auto r = parse_event(R"({"Type":"container","Action":"start","Actor":{"ID":"x"},"time":100})");
  ASSERT_TRUE(r.event);
  EXPECT_EQ(r.event->time_nano, 100'000'000'000);
}

TEST(EventParser, FormatsSinceAsSecondsDotNanoseconds) {
  EXPECT_EQ(format_since(1764166802000000004), "1764166802.000000004");
  EXPECT_EQ(format_since(5), "0.000000005");
}

TEST(LineSplitter, SplitsAcrossChunkBoundariesAndTrimsCR) {
  LineSplitter s;
  std::vector<std::string> got;
  auto take = [&](std::string_view l) { got.emplace_back(l); };
  s.feed("{\"a\":1}\n{\"b\"", take);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_GT(s.pending(), 0u);
  s.feed(":2}\r\n\n", take);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "{\"a\":1}");
  EXPECT_EQ(got[1], "{\"b\":2}");
  EXPECT_EQ(s.pending(), 0u);
}

TEST(LineSplitter, DropsOverlongLinesAndRecovers) {
  LineSplitter s(16);
  std::vector<std::string> got;
  auto take = [&](std::string_view l) { got.emplace_back(l); };
  s.feed(std::string(100, 'x') + "\nshort\n", take);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "short");
  EXPECT_EQ(s.dropped_lines(), 1u);
}

TEST(EventDeduplicator, RecognisesAReplayedBoundary) {
  auto lines = fixture_lines("lifecycle.jsonl");
  EventDeduplicator d;
  for (const auto& l : lines) EXPECT_TRUE(d.first_time(*parse_event(l).event));
  EXPECT_EQ(d.newest_time_nano(), 1764166806000000009);
  // `since` is inclusive: the replay starts with the last event(s) already seen.
  EXPECT_FALSE(d.first_time(*parse_event(lines.back()).event));
  EXPECT_FALSE(d.first_time(*parse_event(lines[7]).event));
}

TEST(EventDeduplicator, DistinguishesEventsInTheSameNanosecond) {
  EventDeduplicator d;
  auto a = parse_event(R"({"Type":"container","Action":"die","Actor":{"ID":"a"},"timeNano":7})").event;
  auto b = parse_event(R"({"Type":"container","Action":"die","Actor":{"ID":"b"},"timeNano":7})").event;
  auto c = parse_event(R"({"Type":"container","Action":"oom","Actor":{"ID":"a"},"timeNano":7})").event;
  EXPECT_TRUE(d.first_time(*a));
  EXPECT_TRUE(d.first_time(*b));
  EXPECT_TRUE(d.first_time(*c));
  EXPECT_FALSE(d.first_time(*b));
}

TEST(EventDeduplicator, CapacityIsBounded) {
  EventDeduplicator d(4);
  for (int i = 1; i <= 10; ++i) {
    Event e;
    e.type = "container";
    e.action = "start";
    e.actor_id = "x";
    e.time_nano = i;
    EXPECT_TRUE(d.first_time(e));
  }
  Event last;
  last.type = "container";
  last.action = "start";
  last.actor_id = "x";
  last.time_nano = 10;
  EXPECT_FALSE(d.first_time(last));
}

TEST(EventDeduplicator, RemembersSavedKeysAndFindsEventsNearAState) {
  EventDeduplicator first;
  first.first_time(container_event("start", "a", "web", 10 * kS));
  first.first_time(container_event("die", "a", "web", 20 * kS));
  first.first_time(container_event("start", "a", "web", 30 * kS));
  const auto keys = first.recent(15 * kS);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].time_nano, 20 * kS);

  EventDeduplicator next;
  next.remember(keys);
  EXPECT_FALSE(next.first_time(container_event("start", "a", "web", 30 * kS))) << "replayed after the restart";
  EXPECT_TRUE(next.first_time(container_event("oom", "a", "web", 31 * kS)));
  EXPECT_TRUE(next.seen_near("a", "die", 21 * kS, 2 * kS));
  EXPECT_FALSE(next.seen_near("a", "die", 25 * kS, 2 * kS));
  EXPECT_FALSE(next.seen_near("b", "die", 20 * kS, 2 * kS));
}

// Under load the engine's buffer is not strictly ordered by time: a replay of events that
// arrived out of order is still recognised.
TEST(EventDeduplicator, RecognisesAReplayOfEventsThatArrivedOutOfOrder) {
  EventDeduplicator d;
  EXPECT_TRUE(d.first_time(container_event("die", "a", "web", 20 * kS)));
  EXPECT_TRUE(d.first_time(container_event("start", "b", "db", 19 * kS)));
  EXPECT_FALSE(d.first_time(container_event("die", "a", "web", 20 * kS)));
  EXPECT_FALSE(d.first_time(container_event("start", "b", "db", 19 * kS)));
}

// Fuzz finding: `time` in seconds was multiplied into nanoseconds without a range check
// (signed overflow, undefined behaviour). Out-of-range times are parse errors.
TEST(EventParser, OutOfRangeTimesAreErrors) {
  for (const char* time : {"18446744071", "9223372036854775807", "-1", "18446744073709551615"}) {
    const auto r = parse_event(std::string(R"({"Type":"container","Action":"start","Actor":{"ID":"x"},"time":)") + time + "}");
    EXPECT_FALSE(r.event) << time;
    EXPECT_EQ(r.error, "time out of range") << time;
  }
  for (const char* nano : {"-5", "18446744073709551615"}) {
    const auto r = parse_event(std::string(R"({"Type":"container","Action":"start","Actor":{"ID":"x"},"timeNano":)") + nano + "}");
    EXPECT_FALSE(r.event) << nano;
    EXPECT_EQ(r.error, "timeNano out of range") << nano;
  }
  // The last second that fits (2262-04-11) still parses.
  const auto last = parse_event(R"({"Type":"container","Action":"start","Actor":{"ID":"x"},"time":9223372036})");
  ASSERT_TRUE(last.event);
  EXPECT_EQ(last.event->time_nano, 9'223'372'036'000'000'000);
}
