// Disk series: usage, reclaimable bytes and objects per kind as `docker system df` counts
// them, each volume's size and use, the image size of each Compose service and the volume
// findings, all from the last /system/df the disk collector job published; and the Docker
// root dir's filesystem, read at every scrape (one statvfs).

#include "composewatch/compose/discovery.h"
#include "composewatch/disk/findings.h"
#include "composewatch/disk/report.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"

namespace composewatch::metrics {
namespace {

using StatFs = std::function<std::optional<disk::FilesystemUsage>(const std::string&)>;

class DiskCollector final : public Collector {
 public:
  explicit DiskCollector(StatFs statfs) : statfs_(std::move(statfs)) {}
  std::string_view name() const override { return "disk"; }
  bool succeeded(const state::Snapshot& s) const override { return s.disk && s.disk->last_ok; }

  void collect(const state::Snapshot& s, TextWriter& out) const override {
    if (!s.disk) return;
    const disk::DiskReport& r = *s.disk;
    if (!r.docker_root_dir.empty()) {
      if (auto fs = statfs_(r.docker_root_dir)) {
        const Labels path{{"path", r.docker_root_dir}};
        out.family("composewatch_filesystem_avail_bytes",
                   "Bytes available to unprivileged users on the Docker root dir's filesystem.", MetricType::gauge);
        out.sample(path, double(fs->avail_bytes));
        out.family("composewatch_filesystem_size_bytes", "Size of the Docker root dir's filesystem.",
                   MetricType::gauge);
        out.sample(path, double(fs->size_bytes));
      }
    }
    if (!r.df) return;
    const docker::SystemDf& df = *r.df;

    const std::pair<const char*, const docker::DiskKindUsage*> kinds[] = {{"images", &r.summary.images},
                                                                          {"containers", &r.summary.containers},
                                                                          {"volumes", &r.summary.volumes},
                                                                          {"build_cache", &r.summary.build_cache}};
    out.family("composewatch_disk_usage_bytes",
               "Disk used by the engine's objects of a kind, as docker system df counts it.", MetricType::gauge);
    for (const auto& [kind, u] : kinds) out.sample({{"kind", kind}}, double(u->total_bytes));
    out.family("composewatch_disk_reclaimable_bytes",
               "What docker system df counts as reclaimable of a kind (not in use).", MetricType::gauge);
    for (const auto& [kind, u] : kinds) out.sample({{"kind", kind}}, double(u->reclaimable_bytes));
    out.family("composewatch_disk_objects", "Objects of a kind the engine holds.", MetricType::gauge);
    for (const auto& [kind, u] : kinds) out.sample({{"kind", kind}}, double(u->objects));

    // The project label is empty for a volume of no Compose project.
    auto volume_labels = [](const docker::VolumeSummary& v) {
      const auto it = v.labels.find(std::string(docker::kLabelProject));
      return Labels{{"volume", v.name}, {"project", it == v.labels.end() ? std::string_view() : it->second}};
    };
    out.family("composewatch_volume_size_bytes", "A volume's size at the last disk collection.", MetricType::gauge);
    for (const auto& v : df.volumes)
      if (v.size >= 0) out.sample(volume_labels(v), double(v.size));
    out.family("composewatch_volume_in_use", "1 when a container (running or not) mounts the volume, else 0.",
               MetricType::gauge);
    for (const auto& v : df.volumes)
      if (v.ref_count >= 0) out.sample(volume_labels(v), v.ref_count > 0 ? 1 : 0);

    static const std::vector<compose::ProjectState> kNoProjects;
    const auto& projects = s.compose ? s.compose->projects : kNoProjects;
    out.family("composewatch_image_size_bytes", "The size of a Compose service's image.", MetricType::gauge);
    for (const auto& si : disk::service_images(df, projects))
      out.sample({{"project", si.project}, {"service", si.service}, {"image", si.image}}, double(si.size_bytes));

    std::map<std::string, double> started;
    for (const auto& c : s.containers)
      if (c.present && c.state == "running" && c.started_at) started[c.id] = *c.started_at;
    const double now = std::chrono::duration<double>(state::Clock::now().time_since_epoch()).count();
    out.family("composewatch_volume_finding",
               "A volume finding: dead-volume or orphan-volume (see composewatch check).", MetricType::gauge);
    for (const auto& f : disk::volume_findings(df, started, projects, now))
      out.sample({{"project", f.project}, {"volume", f.volume}, {"check", f.check}}, 1);
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
