#pragma once
// What the prune scheduler reports, per policy, for the Prune metric group: plain data the
// state model publishes, and the one function that folds a run into it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "composewatch/prune/executor.h"

namespace composewatch::prune {

struct PolicyStatus {
  std::string policy;
  Kind kind = Kind::images;
  std::uint64_t runs_apply = 0;    // runs that deleted (or tried to)
  std::uint64_t runs_dry_run = 0;  // runs that only planned because of dry_run
  std::uint64_t failures = 0;      // failed deletions, and runs that could not run
  std::uint64_t reclaimed_bytes = 0;
  std::uint64_t deleted_objects = 0;
  std::optional<double> last_success;  // end of the last run without a failure, seconds since the epoch
  bool planned = false;                // a plan exists: the candidate figures mean something
  std::int64_t candidate_bytes = 0;    // of the last plan
  std::size_t candidates = 0;
  std::optional<double> next_run;  // when it is due next, seconds since the epoch
  double interval_seconds = 0;     // between two runs: the period, or for cron the gap after the next run
};

struct PruneStatus {
  std::vector<PolicyStatus> policies;  // in the config file's order
  std::string suspended;               // non-empty: why no policy runs now
};

// A run that planned: candidates; then by mode, deletions, reclaimed bytes and failures.
// A run not applied because of when.disk_free_below is no run (only its plan counts); a
// refused one counts as a failure.
void record_run(PolicyStatus& status, const PolicyRun& run, double now);
// A run that could not plan at all (the engine did not answer).
void record_failure(PolicyStatus& status);

}  // namespace composewatch::prune
