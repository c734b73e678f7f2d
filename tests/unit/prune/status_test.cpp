// How a policy run counts (prune/status.h) and the Prune series built from it.

#include <gtest/gtest.h>

#include "composewatch/metrics/collector.h"
#include "composewatch/prune/status.h"

using namespace composewatch;
using prune::Outcome;

namespace {

prune::PolicyRun run_with(bool dry_run, std::vector<Outcome::Result> results, std::int64_t size = 100) {
  prune::PolicyRun r;
  r.dry_run = dry_run;
  r.plan.kind = prune::Kind::images;
  for (auto res : results) {
    prune::Entry e;
    e.kind = prune::Kind::images;
    e.id = "sha256:x";
    e.size = size;
    r.plan.candidates.push_back(e);
    if (!dry_run) r.result.outcomes.push_back(Outcome{e, res, "", res == Outcome::Result::deleted ? size : 0});
  }
  return r;
}

std::string render(const prune::PruneStatus& st) {
  state::Snapshot s;
  s.prune = std::make_shared<const prune::PruneStatus>(st);
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_prune_collector());
  return metrics::Exposition(std::move(cs)).render(s);
}

#define EXPECT_LINE(text, line) EXPECT_NE((text).find(std::string(line) + "\n"), std::string::npos) << (text)

}  // namespace

TEST(PruneStatus, DryRunsCountAsRunsAndSetTheCandidateFigures) {
  prune::PolicyStatus s;
  prune::record_run(s, run_with(true, {Outcome::Result::deleted, Outcome::Result::deleted}), 1000);
  EXPECT_EQ(s.runs_dry_run, 1u);
  EXPECT_EQ(s.runs_apply, 0u);
  EXPECT_EQ(s.candidates, 2u);
  EXPECT_EQ(s.candidate_bytes, 200);
  EXPECT_EQ(s.deleted_objects, 0u);
  EXPECT_EQ(s.last_success, 1000);
}

TEST(PruneStatus, AppliedRunsCountDeletionsBytesAndFailures) {
  prune::PolicyStatus s;
  prune::record_run(s, run_with(false, {Outcome::Result::deleted, Outcome::Result::skipped}), 1000);
  EXPECT_EQ(s.runs_apply, 1u);
  EXPECT_EQ(s.deleted_objects, 1u);
  EXPECT_EQ(s.reclaimed_bytes, 100u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_EQ(s.last_success, 1000);
  prune::record_run(s, run_with(false, {Outcome::Result::failed, Outcome::Result::deleted}), 2000);
  EXPECT_EQ(s.runs_apply, 2u);
  EXPECT_EQ(s.failures, 1u);
  EXPECT_EQ(s.deleted_objects, 2u);
  EXPECT_EQ(s.last_success, 1000) << "a run with a failed deletion is no success";
}

TEST(PruneStatus, ADiskTriggerThatDoesNotHoldIsNoRunButARefusalIsAFailure) {
  prune::PolicyStatus s;
  auto idle = run_with(false, {Outcome::Result::deleted});
  idle.result = {};
  idle.not_applied = "disk free 60% is not below 20%";
  prune::record_run(s, idle, 1000);
  EXPECT_EQ(s.runs_apply + s.runs_dry_run + s.failures, 0u);
  EXPECT_EQ(s.candidates, 1u) << "its plan still shows what it would free";
  auto refused = run_with(false, {});
  refused.plan.refused = "compose project shop does not load";
  refused.not_applied = "refused: ...";
  prune::record_run(s, refused, 1000);
  EXPECT_EQ(s.failures, 1u);
  prune::record_failure(s);
  EXPECT_EQ(s.failures, 2u);
}

TEST(PruneMetrics, SeriesPerPolicyWithModeAndKind) {
  prune::PruneStatus st;
  prune::PolicyStatus a;
  a.policy = "nightly";
  a.kind = prune::Kind::build_cache;
  a.runs_apply = 3;
  a.runs_dry_run = 1;
  a.failures = 2;
  a.reclaimed_bytes = 4096;
  a.deleted_objects = 7;
  a.last_success = 1800000000;
  a.planned = true;
  a.candidate_bytes = 1024;
  a.candidates = 2;
  a.interval_seconds = 86400;
  prune::PolicyStatus b;
  b.policy = "never-ran";
  b.kind = prune::Kind::volumes;
  st.policies = {a, b};
  const std::string text = render(st);
  EXPECT_LINE(text, R"(composewatch_prune_runs_total{policy="nightly",mode="apply"} 3)");
  EXPECT_LINE(text, R"(composewatch_prune_runs_total{policy="nightly",mode="dry_run"} 1)");
  EXPECT_LINE(text, R"(composewatch_prune_failures_total{policy="nightly"} 2)");
  EXPECT_LINE(text, R"(composewatch_prune_reclaimed_bytes_total{policy="nightly",kind="build_cache"} 4096)");
  EXPECT_LINE(text, R"(composewatch_prune_deleted_objects_total{policy="nightly",kind="build_cache"} 7)");
  EXPECT_LINE(text, R"(composewatch_prune_last_success_timestamp_seconds{policy="nightly"} 1800000000)");
  EXPECT_LINE(text, R"(composewatch_prune_candidate_bytes{policy="nightly",kind="build_cache"} 1024)");
  EXPECT_LINE(text, R"(composewatch_prune_candidates{policy="nightly",kind="build_cache"} 2)");
  EXPECT_LINE(text, R"(composewatch_prune_interval_seconds{policy="nightly"} 86400)");
  EXPECT_LINE(text, R"(composewatch_prune_runs_total{policy="never-ran",mode="apply"} 0)");
  EXPECT_EQ(text.find(R"(composewatch_prune_candidates{policy="never-ran")"), std::string::npos)
      << "no plan yet: no candidate series";
  EXPECT_EQ(text.find(R"(composewatch_prune_last_success_timestamp_seconds{policy="never-ran"})"), std::string::npos);
}
