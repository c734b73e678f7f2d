// Prune series per policy from the scheduler's last status: runs by mode, failures,
// deletions and reclaimed bytes, the last success, and what the last plan would delete
// now (so a dashboard shows it before anyone turns dry_run off).

#include "composewatch/metrics/collector.h"
#include "composewatch/prune/status.h"
#include "family.h"

namespace composewatch::metrics {
namespace {

using prometheus::MetricType;

class PruneCollector final : public Collector {
 public:
  std::string_view name() const override { return "prune"; }
  void collect(const state::Snapshot& s, Families& out) const override {
    if (!s.prune || s.prune->policies.empty()) return;
    auto runs = detail::family("composewatch_prune_runs_total",
                               "Prune policy runs, by mode: apply (deleted) or dry_run (planned only).",
                               MetricType::Counter);
    auto failures = detail::family("composewatch_prune_failures_total",
                                   "Deletions that failed, and runs that could not run or were refused.",
                                   MetricType::Counter);
    auto reclaimed = detail::family("composewatch_prune_reclaimed_bytes_total", "Bytes freed by prune deletions.",
                                    MetricType::Counter);
    auto deleted = detail::family("composewatch_prune_deleted_objects_total", "Objects deleted by prune policies.",
                                  MetricType::Counter);
    auto last = detail::family("composewatch_prune_last_success_timestamp_seconds",
                               "When the policy last ran without a failure.", MetricType::Gauge);
    auto cand_bytes = detail::family("composewatch_prune_candidate_bytes",
                                     "What the policy's last plan would free (dry run or not).", MetricType::Gauge);
    auto cands = detail::family("composewatch_prune_candidates", "Objects the policy's last plan would delete.",
                                MetricType::Gauge);
    auto interval = detail::family("composewatch_prune_interval_seconds",
                                   "Time between two runs of the policy, from its schedule (for alerts on a "
                                   "policy that has not succeeded for a while).",
                                   MetricType::Gauge);
    for (const auto& p : s.prune->policies) {
      const std::string kind(prune::kind_name(p.kind));
      detail::add(runs, {{"policy", p.policy}, {"mode", "apply"}}, double(p.runs_apply));
      detail::add(runs, {{"policy", p.policy}, {"mode", "dry_run"}}, double(p.runs_dry_run));
      detail::add(failures, {{"policy", p.policy}}, double(p.failures));
      detail::add(reclaimed, {{"policy", p.policy}, {"kind", kind}}, double(p.reclaimed_bytes));
      detail::add(deleted, {{"policy", p.policy}, {"kind", kind}}, double(p.deleted_objects));
      if (p.last_success) detail::add(last, {{"policy", p.policy}}, *p.last_success);
      if (p.interval_seconds > 0) detail::add(interval, {{"policy", p.policy}}, p.interval_seconds);
      if (p.planned) {
        detail::add(cand_bytes, {{"policy", p.policy}, {"kind", kind}}, double(p.candidate_bytes));
        detail::add(cands, {{"policy", p.policy}, {"kind", kind}}, double(p.candidates));
      }
    }
    for (auto* f : {&runs, &failures, &reclaimed, &deleted, &last, &cand_bytes, &cands, &interval})
      out.push_back(std::move(*f));
  }
};

}  // namespace

std::unique_ptr<Collector> make_prune_collector() { return std::make_unique<PruneCollector>(); }

}  // namespace composewatch::metrics
