// The disk series at scrape time from the last DiskReport: usage per kind, the Docker
// filesystem, volumes, and the collector's success.

#include "composewatch/jobs/disk_collector.h"

#include <gtest/gtest.h>

#include <sstream>

#include "composewatch/disk/report.h"
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

// Whether the exposition has the family `name`.
bool has_family(const std::string& text, const std::string& name) {
  return text.find("# TYPE " + name + " ") != std::string::npos;
}

// The value of the one sample of `name` that carries label=v.
double value(const std::string& text, const std::string& name, const std::string& label, const std::string& v) {
  if (!has_family(text, name)) throw std::runtime_error("no family " + name);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(name + "{") && line.find(label + "=\"" + v + "\"") != std::string::npos)
      return std::stod(line.substr(line.rfind(' ') + 1));
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
  const auto fs = exposition().render(s);
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
  const auto fs = exposition().render(s);
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 0);
  EXPECT_EQ(value(fs, "composewatch_disk_usage_bytes", "kind", "images"), double(r->summary.images.total_bytes));
}

TEST(MetricsDiskCollector, NothingBeforeTheFirstReportAndAnUnreadableRootDirIsLeftOut) {
  state::Snapshot s;
  auto fs = exposition().render(s);
  EXPECT_FALSE(has_family(fs, "composewatch_disk_usage_bytes"));
  EXPECT_EQ(value(fs, "composewatch_collector_success", "collector", "disk"), 0);
  auto r = report_from_fixture();
  r->docker_root_dir = "/not/mounted";
  s.disk = r;
  fs = exposition().render(s);
  EXPECT_FALSE(has_family(fs, "composewatch_filesystem_avail_bytes"));
  EXPECT_TRUE(has_family(fs, "composewatch_disk_usage_bytes"));
}
