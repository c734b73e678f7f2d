// The image and build checklist: composewatch_image_finding, one series per (project,
// service, check) with a finding, from the ImageReport the image checker job last
// published (jobs/image_checker.h). Nothing here reads files or calls the engine.

#include <set>
#include <tuple>

#include "composewatch/images/report.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"

namespace composewatch::metrics {
namespace {

class ImageCollector final : public Collector {
 public:
  std::string_view name() const override { return "images"; }
  // The engine part failed at the last check: the image findings are the last known ones.
  bool succeeded(const state::Snapshot& s) const override { return !s.images || s.images->last_ok; }

  void collect(const state::Snapshot& s, TextWriter& out) const override {
    if (!s.images) return;
    out.family("composewatch_image_finding",
               "A finding of the image and Dockerfile checklist (see composewatch check and "
               "docs/images.md).",
               MetricType::gauge);
    // Two unpinned FROMs in one Dockerfile are one series.
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& svc : s.images->services)
      for (const auto& f : svc.findings)
        if (seen.emplace(svc.project, svc.service, f.check).second)
          out.sample({{"project", svc.project}, {"service", svc.service}, {"check", f.check}}, 1);
  }
};

}  // namespace

std::unique_ptr<Collector> make_image_collector() { return std::make_unique<ImageCollector>(); }

}  // namespace composewatch::metrics
