// Compose series: project validity, replicas, declared memory limits, drift per field,
// orphans and lint findings. Drift is computed here, at scrape time, from the snapshot's
// containers and the compose models the engine thread published with it.

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "composewatch/compose/discovery.h"
#include "composewatch/compose/drift.h"
#include "composewatch/images/report.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"

namespace composewatch::metrics {
namespace {

class ComposeCollector final : public Collector {
 public:
  std::string_view name() const override { return "compose"; }
  void collect(const state::Snapshot& s, TextWriter& out) const override {
    // The projects composewatch can check (labels that do not say where the files are are
    // not one), each with its drift when its model loaded: computed once, then written
    // family by family.
    struct Checked {
      const compose::ProjectState* project;
      std::optional<compose::ProjectDrift> drift;  // nullopt: never loaded, nothing to compare with
    };
    std::vector<Checked> checked;
    if (s.compose) {
      // Each project is compared with its own containers only (compare_project reads no
      // other): copying every container at each scrape cost more than the comparisons.
      std::vector<std::string_view> compared;
      for (const auto& p : s.compose->projects)
        if (p.model) compared.push_back(p.model->name);
      const auto live = state::live_containers_by_project(s.containers, compared);
      for (const auto& p : s.compose->projects) {
        if (!p.source.configured && !p.source.problem.empty()) continue;
        Checked c{&p, std::nullopt};
        if (p.model)
          c.drift = compose::compare_project(*p.model, live.find(p.model->name)->second,
                                             {.profiles_known = p.source.configured,
                                              .current_images = s.images ? &s.images->current_images : nullptr});
        checked.push_back(std::move(c));
      }
    }
    // What the file's value depends on a variable the agent lacks for is not exported.
    auto known = [](const compose::ServiceDrift& svc, compose::DriftField f) {
      return std::none_of(svc.unknown.begin(), svc.unknown.end(), [&](const auto& u) { return u.field == f; });
    };
    // `write(project name, service drift)` for every service of every loaded project.
    auto each_service = [&](auto write) {
      for (const auto& c : checked)
        if (c.drift)
          for (const auto& svc : c.drift->services) write(c.project->name, svc);
    };
    auto service_labels = [](std::string_view project, const compose::ServiceDrift& svc) {
      return Labels{{"project", project}, {"service", svc.service}};
    };

    out.family("composewatch_compose_project_valid",
               "Whether the project's compose files loaded cleanly (1) or not (0; see the log or composewatch check).",
               MetricType::gauge);
    for (const auto& c : checked) out.sample({{"project", c.project->name}}, c.project->valid ? 1 : 0);
    out.family("composewatch_service_replicas_desired", "Replicas the compose file declares for an enabled service.",
               MetricType::gauge);
    each_service([&](std::string_view p, const compose::ServiceDrift& svc) {
      if (known(svc, compose::DriftField::replicas)) out.sample(service_labels(p, svc), svc.desired);
    });
    out.family("composewatch_service_replicas_running", "The service's non-one-off containers that are running.",
               MetricType::gauge);
    each_service(
        [&](std::string_view p, const compose::ServiceDrift& svc) { out.sample(service_labels(p, svc), svc.running); });
    out.family("composewatch_service_completed",
               "1 for a one-shot service that ran to completion (exit 0 under restart \"no\" or on-failure, or "
               "waited on with service_completed_successfully): not missing, its replicas drift is 0.",
               MetricType::gauge);
    each_service([&](std::string_view p, const compose::ServiceDrift& svc) {
      out.sample(service_labels(p, svc), svc.completion == compose::Completion::completed ? 1 : 0);
    });
    out.family("composewatch_service_gave_up",
               "1 for a service under restart on-failure:N whose container exited non-zero with its N retries used: "
               "the engine restarts it no more.",
               MetricType::gauge);
    each_service([&](std::string_view p, const compose::ServiceDrift& svc) {
      out.sample(service_labels(p, svc), svc.completion == compose::Completion::gave_up ? 1 : 0);
    });
    out.family("composewatch_service_memory_limit_bytes", "The memory limit the compose file declares for the service.",
               MetricType::gauge);
    each_service([&](std::string_view p, const compose::ServiceDrift& svc) {
      if (svc.memory_limit_bytes && known(svc, compose::DriftField::memory_limit))
        out.sample(service_labels(p, svc), static_cast<double>(*svc.memory_limit_bytes));
    });
    out.family("composewatch_service_drift",
               "1 where the service's live containers differ from the compose file in this field, 0 where they match; "
               "absent where the file's value depends on a variable the agent does not have (composewatch check "
               "names it).",
               MetricType::gauge);
    each_service([&](std::string_view p, const compose::ServiceDrift& svc) {
      for (const auto& [field, differs] : svc.fields)
        out.sample(service_labels(p, svc).with("field", compose::field_name(field)), differs ? 1 : 0);
    });
    out.family("composewatch_container_orphan", "A container of the project whose compose file has no such service.",
               MetricType::gauge);
    for (const auto& c : checked)
      if (c.drift)
        for (const auto& o : c.drift->orphans)
          out.sample({{"project", c.project->name}, {"service", o.service}, {"container", o.container}}, 1);
    out.family("composewatch_compose_lint_finding",
               "A finding of the compose checklist (see composewatch check for why and the fix).", MetricType::gauge);
    for (const auto& c : checked) {
      if (!c.drift) continue;
      // One series per (service, check): several secrets in one service are one finding here.
      std::set<std::pair<std::string_view, std::string_view>> seen;
      for (const auto& f : c.project->findings)
        if (seen.emplace(f.service, f.check).second)
          out.sample({{"project", c.project->name}, {"service", f.service}, {"check", f.check}}, 1);
    }
  }
};

}  // namespace

std::unique_ptr<Collector> make_compose_collector() { return std::make_unique<ComposeCollector>(); }

}  // namespace composewatch::metrics
