// Prune series per policy from the scheduler's last status: runs by mode, failures,
// deletions and reclaimed bytes, the last success, and what the last plan would delete
// now (so a dashboard shows it before anyone turns dry_run off).

#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"
#include "composewatch/prune/status.h"

namespace composewatch::metrics {
namespace {

class PruneCollector final : public Collector {
 public:
  std::string_view name() const override { return "prune"; }
  void collect(const state::Snapshot& s, TextWriter& out) const override {
    if (!s.prune || s.prune->policies.empty()) return;
    const auto& policies = s.prune->policies;
    auto kind = [](const auto& p) { return prune::kind_name(p.kind); };
    out.family("composewatch_prune_runs_total",
               "Prune policy runs, by mode: apply (deleted) or dry_run (planned only).", MetricType::counter);
    for (const auto& p : policies) {
      out.sample({{"policy", p.policy}, {"mode", "apply"}}, double(p.runs_apply));
      out.sample({{"policy", p.policy}, {"mode", "dry_run"}}, double(p.runs_dry_run));
    }
    out.family("composewatch_prune_failures_total",
               "Deletions that failed, and runs that could not run or were refused.", MetricType::counter);
    for (const auto& p : policies) out.sample({{"policy", p.policy}}, double(p.failures));
    out.family("composewatch_prune_reclaimed_bytes_total", "Bytes freed by prune deletions.", MetricType::counter);
    for (const auto& p : policies) out.sample({{"policy", p.policy}, {"kind", kind(p)}}, double(p.reclaimed_bytes));
    out.family("composewatch_prune_deleted_objects_total", "Objects deleted by prune policies.", MetricType::counter);
    for (const auto& p : policies) out.sample({{"policy", p.policy}, {"kind", kind(p)}}, double(p.deleted_objects));
    out.family("composewatch_prune_last_success_timestamp_seconds", "When the policy last ran without a failure.",
               MetricType::gauge);
    for (const auto& p : policies)
      if (p.last_success) out.sample({{"policy", p.policy}}, *p.last_success);
    out.family("composewatch_prune_candidate_bytes", "What the policy's last plan would free (dry run or not).",
               MetricType::gauge);
    for (const auto& p : policies)
      if (p.planned) out.sample({{"policy", p.policy}, {"kind", kind(p)}}, double(p.candidate_bytes));
    out.family("composewatch_prune_candidates", "Objects the policy's last plan would delete.", MetricType::gauge);
    for (const auto& p : policies)
      if (p.planned) out.sample({{"policy", p.policy}, {"kind", kind(p)}}, double(p.candidates));
    out.family("composewatch_prune_interval_seconds",
               "Time between two runs of the policy, from its schedule (for alerts on a policy that has not "
               "succeeded for a while).",
               MetricType::gauge);
    for (const auto& p : policies)
      if (p.interval_seconds > 0) out.sample({{"policy", p.policy}}, p.interval_seconds);
  }
};

}  // namespace

std::unique_ptr<Collector> make_prune_collector() { return std::make_unique<PruneCollector>(); }

}  // namespace composewatch::metrics
