// The disk series at scrape time from the last DiskReport: usage per kind, the Docker
// filesystem, volumes, and the collector's success.

#include <gtest/gtest.h>

#include "composewatch/disk/report.h"
#include "composewatch/jobs/disk_collector.h"
#include "composewatch/metrics/collector.h"
#include "fixture_file.h"

using namespace composewatch;

namespace {

std::shared_ptr<disk::DiskReport> report_from_fixture() {
  auto r = std::make_shared<disk::DiskReport>();
  r->docker_root_dir = "/var/lib/docker";
  r->df = std::make_shared<const docker::SystemDf>(
      docker::parse_system_df(test_support::read_fixture("engine/system_df.json")));
  r->summary = docker::summarize(*r->df);
  r->last_ok = true;
  return r;
}

const prometheus::MetricFamily* family(const metrics::Families& fs, const std::string& name) {
  for (const auto& f : fs)
    if (f.name == name) return &f;
  return nullptr;
}

double value(const metrics::Families& fs, const std::string& name, const std::string& label, const std::string& v) {
  const auto* f = family(fs, name);
  if (!f) throw std::runtime_error("no family " + name);
  for (const auto& m : f->metric)
    for (const auto& l : m.label)
      if (l.name == label && l.value == v) return m.gauge.value;
  throw std::runtime_error("no series " + name + "{" + label + "=" + v + "}");
}

metrics::Exposition exposition() {
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_disk_collector([](const std::string& path) -> std::optional<disk::FilesystemUsage> {
    if (path != "/var/lib/docker") return std::nullopt;
    return disk::FilesystemUsage{.size_bytes = 1000, .avail_bytes = 150};
  }));
  return metrics::Exposition(std::move(cs));
}

}  // namespace

TEST(MetricsDiskCollector, KindsFilesystemAndVolumesFromTheLastReport) {
  state::Snapshot s;
  s.disk = report_from_fixture();
  const auto fs = exposition().gather(s);
  const auto& sum = s.disk->summary;
  EXPECT_EQ(value(fs, "composewatch_disk_usage_bytes", "kind", "images"), double(sum.images.total_bytes));
  EXPECT_EQ(value(fs, "composewatch_disk_reclaimable_bytes", "kind", "build_cache"),
            double(sum.build_cache.reclaimable_bytes));
  EXPECT_EQ(value(fs, "composewatch_disk_objects", "kind", "volumes"), double(sum.volumes.objects));
  EXPECT_EQ(value(fs, "composewatch_filesystem_avail_bytes", "path", "/var/lib/docker"), 150);
  EXPECT_EQ(value(fs, "composewatch_filesystem_size_bytes", "path", "/var/lib/docker"), 1000);
  ASSERT_FALSE(s.disk->df->volumes.empty());
  const auto& v = s.disk->df->volumes.front();
  EXPECT_EQ(value(fs, "composewatch_volume_size_bytes", "volume", v.name), double(v.size));
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 1);
}

TEST(MetricsDiskCollector, AFailedCollectionKeepsTheLastFiguresAndSaysSo) {
  state::Snapshot s;
  auto r = report_from_fixture();
  r->last_ok = false;
  r->last_error = "GET /v1.41/system/df: no answer within 1s";
  s.disk = r;
  const auto fs = exposition().gather(s);
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 0);
  EXPECT_EQ(value(fs, "composewatch_disk_usage_bytes", "kind", "images"), double(r->summary.images.total_bytes));
}

TEST(MetricsDiskCollector, NothingBeforeTheFirstReportAndAnUnreadableRootDirIsLeftOut) {
  state::Snapshot s;
  auto fs = exposition().gather(s);
  EXPECT_EQ(family(fs, "composewatch_disk_usage_bytes"), nullptr);
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 0);
  auto r = report_from_fixture();
  r->docker_root_dir = "/not/mounted";
  s.disk = r;
  fs = exposition().gather(s);
  EXPECT_EQ(family(fs, "composewatch_filesystem_avail_bytes"), nullptr);
  EXPECT_NE(family(fs, "composewatch_disk_usage_bytes"), nullptr);
}
