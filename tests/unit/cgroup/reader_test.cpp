// The reader on fixture trees: cgroup v2 with the systemd and cgroupfs drivers, v1 with
// controllers mounted apart, missing files, unlimited limits, a container removed
// before and during the read, and the daemon-wide cgroup parent found through /proc.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "composewatch/cgroup/reader.h"

using namespace composewatch::cgroup;
using namespace composewatch::docker;
namespace fs = std::filesystem;

namespace {

const std::string kId = "4f1c2d3e4b5a69788a9b0c1d2e3f40516273849a5b6c7d8e9f00112233445566";
const std::string kId2 = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2918273645546372819009a8b7c6d5";
const std::string kId3 = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

fs::path tree(const std::string& name) { return fs::path(COMPOSEWATCH_FIXTURES) / "cgroup" / "trees" / name; }

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Reader reader_for(const fs::path& root, EngineCgroupInfo info) {
  return Reader(detect_layout(slurp(root / "mountinfo"), info, (root / "sys/fs/cgroup").string(),
                              (root / "proc").string()));
}

// A private copy of a fixture tree, for tests that remove parts of it.
struct TempTree {
  fs::path dir;
  explicit TempTree(const std::string& name) {
    dir = fs::temp_directory_path() / ("cgroup-test-" + std::to_string(::getpid()) + "-" + name + "-" +
                                       std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::copy(tree(name), dir, fs::copy_options::recursive);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

TEST(CgroupReader, V2SystemdEveryFigure) {
  Reader r = reader_for(tree("v2-systemd"), {"systemd", "2", false});
  auto s = r.read({kId, 4242, "", "shop_default"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 71225344u);
  EXPECT_EQ(s->memory_working_set_bytes, 71225344u - 2478080u);
  EXPECT_EQ(s->memory_limit_bytes, 134217728u);
  ASSERT_TRUE(s->cpu_seconds);
  EXPECT_DOUBLE_EQ(*s->cpu_seconds, 2.500123);
  EXPECT_DOUBLE_EQ(*s->cpu_throttled_seconds, 1.843027);
  EXPECT_EQ(s->cpu_periods, 412u);
  EXPECT_EQ(s->cpu_throttled_periods, 37u);
  EXPECT_EQ(s->pids, 7u);
  EXPECT_EQ(s->blkio_read_bytes, 24576u);
  EXPECT_EQ(s->blkio_write_bytes, 68157440u);
  EXPECT_EQ(s->network_receive_bytes, 1050624u);
  EXPECT_EQ(s->network_transmit_bytes, 528384u);
  EXPECT_EQ(r.oom_kills({kId, 4242, "", ""}), 3u);
}

TEST(CgroupReader, V2MaxLimitAndMissingFilesLeaveFiguresAbsent) {
  Reader r = reader_for(tree("v2-systemd"), {"systemd", "2", false});
  auto s = r.read({kId2, 0, "", "none"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 1048576u);
  EXPECT_EQ(s->memory_working_set_bytes, std::nullopt);  // no memory.stat
  EXPECT_EQ(s->memory_limit_bytes, std::nullopt);        // "max"
  EXPECT_DOUBLE_EQ(*s->cpu_seconds, 0.001);
  EXPECT_EQ(s->cpu_throttled_seconds, std::nullopt);
  EXPECT_EQ(s->cpu_periods, std::nullopt);
  EXPECT_EQ(s->cpu_throttled_periods, std::nullopt);
  EXPECT_EQ(s->pids, std::nullopt);
  EXPECT_EQ(s->blkio_read_bytes, std::nullopt);
  EXPECT_EQ(s->network_receive_bytes, std::nullopt);  // no pid
  EXPECT_EQ(r.oom_kills({kId2, 0, "", ""}), std::nullopt);
}

TEST(CgroupReader, V2SystemdCgroupParentSlice) {
  Reader r = reader_for(tree("v2-systemd"), {"systemd", "2", false});
  auto s = r.read({kId, 0, "shop-api.slice", ""});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 2097152u);
}

TEST(CgroupReader, V2Cgroupfs) {
  Reader r = reader_for(tree("v2-cgroupfs"), {"cgroupfs", "2", false});
  auto s = r.read({kId, 4242, "", "bridge"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 71225344u);
  EXPECT_EQ(s->memory_limit_bytes, std::nullopt);
  EXPECT_EQ(s->pids, 3u);
  EXPECT_EQ(s->network_receive_bytes, 1050624u);
  auto custom = r.read({kId, 0, "/custom/parent", ""});
  ASSERT_TRUE(custom);
  EXPECT_EQ(custom->memory_usage_bytes, 4096u);
  EXPECT_EQ(custom->memory_limit_bytes, 536870912u);
}

TEST(CgroupReader, DriverGuessedFromTheTreeWithoutInfo) {
  EXPECT_EQ(reader_for(tree("v2-cgroupfs"), {}).layout().driver, Driver::cgroupfs);
  EXPECT_EQ(reader_for(tree("v2-systemd"), {}).layout().driver, Driver::systemd);
}

TEST(CgroupReader, HostNetworkHasNoNetworkFiguresAndSharedIsSkipped) {
  Reader r = reader_for(tree("v2-systemd"), {"systemd", "2", false});
  for (const char* mode : {"host", "container:abc"}) {
    int opened_net_dev = 0;
    r.set_before_open([&](const std::string& p) { opened_net_dev += p.ends_with("/net/dev"); });
    auto s = r.read({kId, 4242, "", mode});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->network_receive_bytes, std::nullopt) << mode;
    EXPECT_EQ(s->network_transmit_bytes, std::nullopt) << mode;
    EXPECT_EQ(opened_net_dev, 0) << mode;
  }
}

TEST(CgroupReader, V1CgroupfsSplitControllers) {
  Reader r = reader_for(tree("v1-cgroupfs"), {"cgroupfs", "1", false});
  auto s = r.read({kId, 4242, "", "bridge"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 71225344u);
  EXPECT_EQ(s->memory_working_set_bytes, 71225344u - 2478080u);
  EXPECT_EQ(s->memory_limit_bytes, std::nullopt);  // the sentinel
  EXPECT_DOUBLE_EQ(*s->cpu_seconds, 2.500123);
  EXPECT_DOUBLE_EQ(*s->cpu_throttled_seconds, 1.843027551);
  EXPECT_EQ(s->cpu_periods, 412u);
  EXPECT_EQ(s->cpu_throttled_periods, 37u);
  EXPECT_EQ(s->pids, 7u);
  EXPECT_EQ(s->blkio_read_bytes, 24576u);
  EXPECT_EQ(s->blkio_write_bytes, 68157440u);
  EXPECT_EQ(s->network_receive_bytes, 1050624u);
  EXPECT_EQ(r.oom_kills({kId, 4242, "", ""}), 2u);
}

TEST(CgroupReader, OomKillsOnlyWhileThePidIsAMember) {
  Reader r = reader_for(tree("v1-cgroupfs"), {"cgroupfs", "1", false});
  // 4243 is not in cgroup.procs: the cgroup may be a later instance's.
  EXPECT_EQ(r.oom_kills({kId, 4243, "", ""}), std::nullopt);
  EXPECT_EQ(r.oom_kills({kId, 0, "", ""}), std::nullopt);
}

TEST(CgroupReader, V1TornDownContainerIsGone) {
  // memory is still there, cpuacct is already removed: the runtime is tearing it down.
  Reader r = reader_for(tree("v1-cgroupfs"), {"cgroupfs", "1", false});
  EXPECT_EQ(r.read({kId2, 0, "", ""}), std::nullopt);
}

TEST(CgroupReader, RemovedContainerIsGone) {
  Reader r = reader_for(tree("v2-systemd"), {"systemd", "2", false});
  EXPECT_EQ(r.read({"0000000000000000000000000000000000000000000000000000000000000000", 0, "", ""}), std::nullopt);
}

TEST(CgroupReader, ContainerRemovedMidReadIsGone) {
  TempTree t("v2-systemd");
  Reader r = reader_for(t.dir, {"systemd", "2", false});
  const fs::path scope = t.dir / "sys/fs/cgroup/system.slice" / ("docker-" + kId + ".scope");
  std::vector<std::string> opened;
  r.set_before_open([&](const std::string& p) {
    opened.push_back(p);
    if (p.ends_with("/cpu.stat")) fs::remove_all(scope);
  });
  EXPECT_EQ(r.read({kId, 4242, "", ""}), std::nullopt);
  EXPECT_TRUE(opened.back().ends_with("/cpu.stat")) << "read on after the cgroup was gone: " << opened.back();
}

TEST(CgroupReader, V1RemovedMidReadIsGone) {
  TempTree t("v1-cgroupfs");
  Reader r = reader_for(t.dir, {"cgroupfs", "1", false});
  r.set_before_open([&](const std::string& p) {
    if (p.ends_with("/pids.current")) fs::remove_all(t.dir / "sys/fs/cgroup/pids/docker" / kId);
  });
  EXPECT_EQ(r.read({kId, 4242, "", ""}), std::nullopt);
}

TEST(CgroupReader, DaemonWideCgroupParentFoundThroughProc) {
  Reader r = reader_for(tree("v1-cgroupfs"), {"cgroupfs", "1", false});
  auto s = r.read({kId3, 5151, "", "none"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage_bytes, 8192u);
  EXPECT_EQ(s->memory_working_set_bytes, 4096u);
  EXPECT_EQ(s->memory_limit_bytes, 268435456u);
  EXPECT_DOUBLE_EQ(*s->cpu_seconds, 1.0);
  EXPECT_EQ(s->cpu_throttled_seconds, 0.0);
  EXPECT_EQ(s->pids, std::nullopt);  // no pids line in its /proc/<pid>/cgroup
  // Without a pid there is nothing to ask.
  EXPECT_EQ(r.read({kId3, 0, "", "none"}), std::nullopt);
}

TEST(CgroupReader, APidOfAnotherNamespaceIsNeverReadAsTheContainer) {
  // An engine in a container of its own pid namespace (a nested engine run without
  // --pid host) reports pids the host gives to other processes: here 5151, whose cgroup is
  // another container's. Its figures are not this container's.
  Reader r = reader_for(tree("v1-cgroupfs"), {"cgroupfs", "1", false});
  const std::string other(64, 'f');
  EXPECT_EQ(r.read({other, 5151, "", "none"}), std::nullopt);
  EXPECT_EQ(r.oom_kills({other, 5151, "", "none"}), std::nullopt);
}

TEST(CgroupReader, ReadableProbe) {
  EXPECT_TRUE(reader_for(tree("v2-systemd"), {"systemd", "2", false}).readable());
  Layout l;
  l.version = Version::v1;
  l.memory.dir = "/nonexistent/memory";
  EXPECT_FALSE(Reader(l).readable());
}

// /proc/vmstat's oom_kill line: the kernel's count of OOM kills on the host.
TEST(CgroupReader, HostOomKillsFromVmstat) {
  const fs::path file = fs::temp_directory_path() / ("vmstat-" + std::to_string(::getpid()));
  std::ofstream(file) << "nr_free_pages 123\noom_kill_other 9\noom_kill 41\npgfault 7\n";
  EXPECT_EQ(host_oom_kills(file.string()), 41u);
  std::ofstream(file) << "nr_free_pages 123\n";  // before Linux 4.13
  EXPECT_EQ(host_oom_kills(file.string()), std::nullopt);
  fs::remove(file);
  EXPECT_EQ(host_oom_kills(file.string()), std::nullopt);
  EXPECT_TRUE(host_oom_kills().has_value()) << "this machine's /proc/vmstat has the line";
}
