// Compose series: project validity, replicas, declared memory limits, drift per field,
// orphans and lint findings. Drift is computed here, at scrape time, from the snapshot's
// containers and the compose models the engine thread published with it.

#include <algorithm>
#include <set>
#include <tuple>

#include "composewatch/compose/discovery.h"
#include "composewatch/compose/drift.h"
#include "composewatch/images/report.h"
#include "composewatch/metrics/collector.h"
#include "family.h"

namespace composewatch::metrics {
namespace {

using prometheus::MetricType;

class ComposeCollector final : public Collector {
 public:
  std::string_view name() const override { return "compose"; }
  void collect(const state::Snapshot& s, Families& out) const override {
    auto valid = detail::family("composewatch_compose_project_valid",
                                "Whether the project's compose files loaded cleanly (1) or not (0; see the log or "
                                "composewatch check).",
                                MetricType::Gauge);
    auto desired = detail::family("composewatch_service_replicas_desired",
                                  "Replicas the compose file declares for an enabled service.", MetricType::Gauge);
    auto running = detail::family("composewatch_service_replicas_running",
                                  "The service's non-one-off containers that are running.", MetricType::Gauge);
    auto mem = detail::family("composewatch_service_memory_limit_bytes",
                              "The memory limit the compose file declares for the service.", MetricType::Gauge);
    auto drift = detail::family("composewatch_service_drift",
                                "1 where the service's live containers differ from the compose file in this field, "
                                "0 where they match; absent where the file's value depends on a variable the agent "
                                "does not have (composewatch check names it).",
                                MetricType::Gauge);
    auto completed = detail::family("composewatch_service_completed",
                                    "1 for a one-shot service that ran to completion (exit 0 under restart \"no\" or "
                                    "on-failure, or waited on with service_completed_successfully): not missing, its "
                                    "replicas drift is 0.",
                                    MetricType::Gauge);
    auto gave_up = detail::family("composewatch_service_gave_up",
                                  "1 for a service under restart on-failure:N whose container exited non-zero with "
                                  "its N retries used: the engine restarts it no more.",
                                  MetricType::Gauge);
    auto orphan = detail::family("composewatch_container_orphan",
                                 "A container of the project whose compose file has no such service.",
                                 MetricType::Gauge);
    auto lint = detail::family("composewatch_compose_lint_finding",
                               "A finding of the compose checklist (see composewatch check for why and the fix).",
                               MetricType::Gauge);

    if (s.compose) {
      const auto live = state::live_containers(s.containers);
      for (const auto& p : s.compose->projects) {
        // Labels that do not say where the files are: not a project composewatch can check.
        if (!p.source.configured && !p.source.problem.empty()) continue;
        detail::add(valid, {{"project", p.name}}, p.valid ? 1 : 0);
        if (!p.model) continue;  // never loaded: nothing to compare with
        const auto d = compose::compare_project(
            *p.model, live,
            {.profiles_known = p.source.configured, .current_images = s.images ? &s.images->current_images : nullptr});
        for (const auto& svc : d.services) {
          detail::Labels l = {{"project", p.name}, {"service", svc.service}};
          // What the file's value depends on a variable the agent lacks for is not exported.
          auto known = [&](compose::DriftField f) {
            return std::none_of(svc.unknown.begin(), svc.unknown.end(), [&](const auto& u) { return u.field == f; });
          };
          if (known(compose::DriftField::replicas)) detail::add(desired, l, svc.desired);
          detail::add(running, l, svc.running);
          detail::add(completed, l, svc.completion == compose::Completion::completed ? 1 : 0);
          detail::add(gave_up, l, svc.completion == compose::Completion::gave_up ? 1 : 0);
          if (svc.memory_limit_bytes && known(compose::DriftField::memory_limit))
            detail::add(mem, l, static_cast<double>(*svc.memory_limit_bytes));
          for (const auto& [field, differs] : svc.fields) {
            auto fl = l;
            fl.push_back({"field", std::string(compose::field_name(field))});
            detail::add(drift, std::move(fl), differs ? 1 : 0);
          }
        }
        for (const auto& o : d.orphans)
          detail::add(orphan, {{"project", p.name}, {"service", o.service}, {"container", o.container}}, 1);
        // One series per (service, check): several secrets in one service are one finding here.
        std::set<std::tuple<std::string, std::string>> seen;
        for (const auto& f : p.findings) {
          if (!seen.emplace(f.service, f.check).second) continue;
          detail::add(lint, {{"project", p.name}, {"service", f.service}, {"check", f.check}}, 1);
        }
      }
    }
    for (auto* f : {&valid, &desired, &running, &completed, &gave_up, &mem, &drift, &orphan, &lint}) out.push_back(std::move(*f));
  }
};

}  // namespace

std::unique_ptr<Collector> make_compose_collector() { return std::make_unique<ComposeCollector>(); }

}  // namespace composewatch::metrics
