#include "composewatch/prune/status.h"

namespace composewatch::prune {

void record_run(PolicyStatus& s, const PolicyRun& run, double now) {
  s.planned = true;
  s.candidate_bytes = run.plan.candidate_bytes();
  s.candidates = run.plan.candidates.size();
  if (!run.plan.refused.empty()) {
    ++s.failures;
    return;
  }
  if (run.dry_run) {
    ++s.runs_dry_run;
    s.last_success = now;
    return;
  }
  if (!run.applied()) return;  // the disk trigger did not hold: nothing was due
  ++s.runs_apply;
  const std::size_t failed = run.result.count(Outcome::Result::failed);
  s.failures += failed;
  s.deleted_objects += run.result.count(Outcome::Result::deleted);
  s.reclaimed_bytes += std::uint64_t(std::max<std::int64_t>(run.result.reclaimed_bytes(), 0));
  if (failed == 0) s.last_success = now;
}

void record_failure(PolicyStatus& s) { ++s.failures; }

}  // namespace composewatch::prune
