// Disk series: usage, reclaimable bytes and objects per kind as `docker system df` counts
// them, each volume's size and use, the image size of each Compose service and the volume
// findings, all from the last /system/df the disk collector job published; and the Docker
// root dir's filesystem, read at every scrape (one statvfs).

#include "composewatch/compose/discovery.h"
#include "composewatch/disk/findings.h"
#include "composewatch/disk/report.h"
#include "composewatch/metrics/collector.h"
#include "family.h"

namespace composewatch::metrics {
namespace {

using prometheus::MetricType;
using StatFs = std::function<std::optional<disk::FilesystemUsage>(const std::string&)>;

class DiskCollector final : public Collector {
 public:
  explicit DiskCollector(StatFs statfs) : statfs_(std::move(statfs)) {}
  std::string_view name() const override { return "disk"; }
  bool succeeded(const state::Snapshot& s) const override { return s.disk && s.disk->last_ok; }

  void collect(const state::Snapshot& s, Families& out) const override {
    if (!s.disk) return;
    const disk::DiskReport& r = *s.disk;
    if (!r.docker_root_dir.empty()) {
      if (auto fs = statfs_(r.docker_root_dir)) {
        auto avail = detail::family("composewatch_filesystem_avail_bytes",
                                    "Bytes available to unprivileged users on the Docker root dir's filesystem.",
                                    MetricType::Gauge);
        auto size = detail::family("composewatch_filesystem_size_bytes",
                                   "Size of the Docker root dir's filesystem.", MetricType::Gauge);
        detail::add(avail, {{"path", r.docker_root_dir}}, double(fs->avail_bytes));
        detail::add(size, {{"path", r.docker_root_dir}}, double(fs->size_bytes));
        out.push_back(std::move(avail));
        out.push_back(std::move(size));
      }
    }
    if (!r.df) return;
    const docker::SystemDf& df = *r.df;

    auto usage = detail::family("composewatch_disk_usage_bytes",
                                "Disk used by the engine's objects of a kind, as docker system df counts it.",
                                MetricType::Gauge);
    auto reclaimable = detail::family("composewatch_disk_reclaimable_bytes",
                                      "What docker system df counts as reclaimable of a kind (not in use).",
                                      MetricType::Gauge);
    auto objects = detail::family("composewatch_disk_objects", "Objects of a kind the engine holds.",
                                  MetricType::Gauge);
    for (const auto& [kind, u] : {std::pair{"images", &r.summary.images}, std::pair{"containers", &r.summary.containers},
                                  std::pair{"volumes", &r.summary.volumes},
                                  std::pair{"build_cache", &r.summary.build_cache}}) {
      detail::add(usage, {{"kind", kind}}, double(u->total_bytes));
      detail::add(reclaimable, {{"kind", kind}}, double(u->reclaimable_bytes));
      detail::add(objects, {{"kind", kind}}, double(u->objects));
    }
    out.push_back(std::move(usage));
    out.push_back(std::move(reclaimable));
    out.push_back(std::move(objects));

    auto vsize = detail::family("composewatch_volume_size_bytes", "A volume's size at the last disk collection.",
                                MetricType::Gauge);
    auto vuse = detail::family("composewatch_volume_in_use",
                               "1 when a container (running or not) mounts the volume, else 0.", MetricType::Gauge);
    for (const auto& v : df.volumes) {
      const auto it = v.labels.find(std::string(docker::kLabelProject));
      const detail::Labels l = {{"volume", v.name}, {"project", it == v.labels.end() ? "" : it->second}};
      if (v.size >= 0) detail::add(vsize, l, double(v.size));
      if (v.ref_count >= 0) detail::add(vuse, l, v.ref_count > 0 ? 1 : 0);
    }
    out.push_back(std::move(vsize));
    out.push_back(std::move(vuse));

    static const std::vector<compose::ProjectState> kNoProjects;
    const auto& projects = s.compose ? s.compose->projects : kNoProjects;
    auto isize = detail::family("composewatch_image_size_bytes", "The size of a Compose service's image.",
                                MetricType::Gauge);
    for (const auto& si : disk::service_images(df, projects))
      detail::add(isize, {{"project", si.project}, {"service", si.service}, {"image", si.image}},
                  double(si.size_bytes));
    out.push_back(std::move(isize));

    std::map<std::string, double> started;
    for (const auto& c : s.containers)
      if (c.present && c.state == "running" && c.started_at) started[c.id] = *c.started_at;
    const double now = std::chrono::duration<double>(state::Clock::now().time_since_epoch()).count();
    auto finding = detail::family("composewatch_volume_finding",
                                  "A volume finding: dead-volume or orphan-volume (see composewatch check).",
                                  MetricType::Gauge);
    for (const auto& f : disk::volume_findings(df, started, projects, now))
      detail::add(finding, {{"project", f.project}, {"volume", f.volume}, {"check", f.check}}, 1);
    out.push_back(std::move(finding));
  }

 private:
  StatFs statfs_;
};

}  // namespace

std::unique_ptr<Collector> make_disk_collector(StatFs statfs) {
  return std::make_unique<DiskCollector>(std::move(statfs));
}

std::unique_ptr<Collector> make_disk_collector() { return make_disk_collector(disk::filesystem_usage); }

}  // namespace composewatch::metrics
