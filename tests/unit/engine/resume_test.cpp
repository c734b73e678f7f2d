// Resuming the event stream after a restart: the resume check tells what the replay missed
// (a death no event told of, a gap when the engine's buffer no longer reaches back).

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "composewatch/engine/resume.h"

using namespace composewatch;

namespace {
docker::ContainerInfo listed(const std::string& id, const std::string& name, std::optional<double> started,
                             std::optional<double> finished, int code = 0, bool oom = false) {
  docker::ContainerInfo c;
  c.id = id;
  c.name = name;
  c.started_at = started;
  c.finished_at = finished;
  c.exit_code = code;
  c.oom_killed = oom;
  c.state = started && (!finished || *started > *finished) ? "running" : "exited";
  return c;
}
constexpr std::int64_t kS = 1'000'000'000;
}  // namespace

TEST(ResumeCheck, AReplayThatToldEverythingLeavesNoGap) {
  const auto seen = [](std::string_view, std::string_view, std::int64_t) { return true; };
  auto r = engine::check_resume({listed("a", "web", 150, 140, 137, true)}, 100 * kS, 120 * kS, 3, 200 * kS, seen);
  EXPECT_TRUE(r.deaths.empty());
  EXPECT_TRUE(r.missed_starts.empty());
  EXPECT_EQ(r.gap_seconds, 0);
}

TEST(ResumeCheck, ADeathNoEventToldOfIsCountedFromTheContainersStateAndGivesAGap) {
  // The engine restarted at 160 (its buffer lost): the replay starts at 170.
  const auto seen = [](std::string_view, std::string_view action, std::int64_t) { return action == "start"; };
  auto r = engine::check_resume({listed("a", "db", 175, 150, 137, true), listed("b", "old", 90, 95)}, 100 * kS,
                                170 * kS, 4, 200 * kS, seen);
  ASSERT_EQ(r.deaths.size(), 1u) << "only deaths after the resume point";
  EXPECT_EQ(r.deaths[0].name, "db");
  EXPECT_EQ(r.deaths[0].exit_code, 137);
  EXPECT_TRUE(r.deaths[0].oom_killed);
  EXPECT_TRUE(r.deaths[0].started_again);
  EXPECT_EQ(r.deaths[0].finished_at, 150.0) << "when it died: the time of its OOM kill";
  EXPECT_DOUBLE_EQ(r.gap_seconds, 70);
}

TEST(ResumeCheck, WhatHappenedAfterTheReplayIsLeftToTheLiveStream) {
  const auto seen = [](std::string_view, std::string_view, std::int64_t) { return false; };
  auto r = engine::check_resume({listed("a", "web", 199, 120), listed("b", "db", 250, 140)}, 100 * kS, 110 * kS, 3,
                                200 * kS, seen);
  ASSERT_EQ(r.deaths.size(), 2u) << "the deaths at 120 and 140 were missed";
  EXPECT_TRUE(r.missed_starts.empty()) << "starts at 199 and 250 come with the live stream";
}

TEST(ResumeCheck, AFullBufferThatBeginsAfterTheResumePointIsAGap) {
  const auto seen = [](std::string_view, std::string_view, std::int64_t) { return true; };
  auto r = engine::check_resume({}, 100 * kS, 130 * kS, engine::kEngineEventBuffer, 200 * kS, seen);
  EXPECT_TRUE(r.buffer_overrun);
  EXPECT_DOUBLE_EQ(r.gap_seconds, 30);
  r = engine::check_resume({}, 100 * kS, 100 * kS, engine::kEngineEventBuffer, 200 * kS, seen);
  EXPECT_FALSE(r.buffer_overrun) << "a full buffer that reaches back to the resume point lost nothing";
  EXPECT_EQ(r.gap_seconds, 0);
}

TEST(ResumeCheck, NothingToResumeOnAFirstStart) {
  const auto seen = [](std::string_view, std::string_view, std::int64_t) { return false; };
  auto r = engine::check_resume({listed("a", "web", 150, 140)}, 0, 0, 0, 200 * kS, seen);
  EXPECT_TRUE(r.deaths.empty());
  EXPECT_EQ(r.gap_seconds, 0);
}
