// The cgroup, /proc and mountinfo parsers on the kernel's documented formats.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "composewatch/cgroup/parse.h"
#include "composewatch/cgroup/reader.h"

using namespace composewatch::cgroup;
using namespace composewatch::docker;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream f(std::string(COMPOSEWATCH_FIXTURES) + "/cgroup/files/" + name);
  if (!f) throw std::runtime_error("missing fixture " + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const std::string kId = "4f1c2d3e4b5a69788a9b0c1d2e3f40516273849a5b6c7d8e9f00112233445566";

}  // namespace

TEST(CgroupParse, SingleValues) {
  EXPECT_EQ(parse_u64("71225344\n"), 71225344u);
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64(" 18446744073709551615 \n"), 18446744073709551615ull);
  EXPECT_EQ(parse_u64(""), std::nullopt);
  EXPECT_EQ(parse_u64("12abc"), std::nullopt);
  EXPECT_EQ(parse_u64("-1"), std::nullopt);
  EXPECT_EQ(parse_u64("max\n"), std::nullopt);
}

TEST(CgroupParse, V2LimitMaxIsUnlimited) {
  EXPECT_EQ(parse_v2_limit("max\n"), std::nullopt);
  EXPECT_EQ(parse_v2_limit("134217728\n"), 134217728u);
  EXPECT_EQ(parse_v2_limit("garbage"), std::nullopt);
}

TEST(CgroupParse, V1LimitSentinelIsUnlimited) {
  EXPECT_EQ(parse_v1_limit("9223372036854771712\n"), std::nullopt);  // 4 KiB pages
  EXPECT_EQ(parse_v1_limit("9223372036854710272\n"), std::nullopt);  // 64 KiB pages
  EXPECT_EQ(parse_v1_limit("134217728\n"), 134217728u);
  EXPECT_EQ(parse_v1_limit("4611686018427387903\n"), 4611686018427387903u);  // just below 2^62: a real limit
}

TEST(CgroupParse, FlatKeyedFindsExactKeys) {
  const std::string v1 = fixture("v1_memory.stat");
  EXPECT_EQ(flat_keyed(v1, "total_inactive_file"), 2478080u);
  EXPECT_EQ(flat_keyed(v1, "inactive_file"), 2478080u);
  EXPECT_EQ(flat_keyed(v1, "cache"), 69627904u);  // not total_cache's line
  EXPECT_EQ(flat_keyed(v1, "nope"), std::nullopt);
  EXPECT_EQ(flat_keyed(fixture("v1_cpu.stat"), "throttled_time"), 1843027551u);
  EXPECT_EQ(flat_keyed(fixture("v1_memory.oom_control"), "oom_kill"), 2u);
  EXPECT_EQ(flat_keyed(fixture("v2_memory.events"), "oom_kill"), 3u);
  EXPECT_EQ(flat_keyed(fixture("v2_memory.events"), "oom"), 3u);
  EXPECT_EQ(flat_keyed(fixture("v2_cpu.stat"), "usage_usec"), 2500123u);
  EXPECT_EQ(flat_keyed(fixture("v2_cpu.stat"), "throttled_usec"), 1843027u);
  EXPECT_EQ(flat_keyed("oom_kill_disable 0\nunder_oom 0\n", "oom_kill"), std::nullopt);  // kernels < 4.13
  EXPECT_EQ(flat_keyed("", "x"), std::nullopt);
}

TEST(CgroupParse, WorkingSetIsFlooredAtZero) {
  EXPECT_EQ(working_set(71225344, 2478080), 68747264u);
  EXPECT_EQ(working_set(1000, 4096), 0u);
  EXPECT_EQ(working_set(1000, std::nullopt), 1000u);
  EXPECT_EQ(working_set(0, 0), 0u);
}

TEST(CgroupParse, BlkioV1SumsReadAndWriteOverDevices) {
  auto io = parse_blkio_v1(fixture("v1_blkio.throttle.io_service_bytes"));
  EXPECT_EQ(io.read, 4096u + 20480u);
  EXPECT_EQ(io.write, 1048576u + 67108864u);
  auto none = parse_blkio_v1(fixture("v1_blkio_empty"));
  EXPECT_EQ(none.read, 0u);
  EXPECT_EQ(none.write, 0u);
}

TEST(CgroupParse, IoStatV2SumsBytesOverDevices) {
  auto io = parse_io_stat_v2(fixture("v2_io.stat"));
  EXPECT_EQ(io.read, 4096u + 20480u);
  EXPECT_EQ(io.write, 1048576u + 67108864u);
  auto none = parse_io_stat_v2("");
  EXPECT_EQ(none.read + none.write, 0u);
}

TEST(CgroupParse, NetDevSkipsLoopback) {
  auto n = parse_net_dev(fixture("net_dev"));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->receive, 1048576u + 2048u);
  EXPECT_EQ(n->transmit, 524288u + 4096u);
}

TEST(CgroupParse, NetDevOnlyLoopbackIsZero) {
  std::string text = fixture("net_dev");
  text = text.substr(0, text.find("  eth0"));
  auto n = parse_net_dev(text);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->receive, 0u);
  EXPECT_EQ(n->transmit, 0u);
}

TEST(CgroupParse, NetDevRejectsOtherText) {
  EXPECT_EQ(parse_net_dev("hello\n"), std::nullopt);
  EXPECT_EQ(parse_net_dev(""), std::nullopt);
  std::string text = fixture("net_dev");
  EXPECT_EQ(parse_net_dev(text + "  eth2: 1 2 3\n"), std::nullopt);  // truncated line
}

TEST(CgroupParse, ProcsContains) {
  EXPECT_TRUE(procs_contains("4242\n4250\n", 4250));
  EXPECT_TRUE(procs_contains("4242", 4242));
  EXPECT_FALSE(procs_contains("42420\n", 4242));
  EXPECT_FALSE(procs_contains("", 1));
}

TEST(CgroupParse, MountinfoFindsHierarchies) {
  auto mounts = parse_mountinfo(fixture("mountinfo_v1_hybrid_systemd"));
  ASSERT_EQ(mounts.size(), 6u);  // the tmpfs is not a hierarchy
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(mounts[0].v2);
  EXPECT_EQ(mounts[2].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts[2].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(mounts[1].controllers, (std::vector<std::string>{"xattr", "name=systemd"}));
  EXPECT_EQ(mounts[3].root, "/");
}

TEST(CgroupParse, MountinfoUnescapesMountPoints) {
  auto mounts = parse_mountinfo("40 31 0:37 /sub /srv/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].mount_point, "/srv/my cgroups");
  EXPECT_EQ(mounts[0].root, "/sub");
}

TEST(CgroupLayout, ContainerPathsPerDriver) {
  EXPECT_EQ(container_path(Driver::cgroupfs, kId, ""), "/docker/" + kId);
  EXPECT_EQ(container_path(Driver::cgroupfs, kId, "/custom/parent/"), "/custom/parent/" + kId);
  EXPECT_EQ(container_path(Driver::cgroupfs, kId, "custom"), "/custom/" + kId);
  EXPECT_EQ(container_path(Driver::systemd, kId, ""), "/system.slice/docker-" + kId + ".scope");
  EXPECT_EQ(container_path(Driver::systemd, kId, "shop-api.slice"),
            "/shop.slice/shop-api.slice/docker-" + kId + ".scope");
  EXPECT_EQ(container_path(Driver::systemd, kId, "a-b-c.slice"),
            "/a.slice/a-b.slice/a-b-c.slice/docker-" + kId + ".scope");
  EXPECT_EQ(container_path(Driver::systemd, kId, "-.slice"), "/docker-" + kId + ".scope");
}

TEST(CgroupLayout, ProcCgroupPaths) {
  const std::string v1 = fixture("proc_cgroup_v1");
  EXPECT_EQ(parse_proc_cgroup(v1, "memory"), "/docker/" + kId);
  EXPECT_EQ(parse_proc_cgroup(v1, "cpuacct"), "/docker/" + kId);
  EXPECT_EQ(parse_proc_cgroup(v1, "cpu"), "/docker/" + kId);
  EXPECT_EQ(parse_proc_cgroup(v1, "blkio"), std::nullopt);
  EXPECT_EQ(parse_proc_cgroup(v1, ""), "/system.slice/containerd.service");
  EXPECT_EQ(parse_proc_cgroup(fixture("proc_cgroup_v2"), ""), "/system.slice/docker-" + kId + ".scope");
}

TEST(CgroupLayout, V1FromMountinfoAndInfo) {
  Layout l = detect_layout(fixture("mountinfo_v1_split"), {"cgroupfs", "1", false}, "/x/cg", "/x/proc");
  EXPECT_EQ(l.version, Version::v1);
  EXPECT_EQ(l.driver, Driver::cgroupfs);
  EXPECT_EQ(l.memory.dir, "/x/cg/memory");
  EXPECT_EQ(l.cpu.dir, "/x/cg/cpu");
  EXPECT_EQ(l.cpuacct.dir, "/x/cg/cpuacct");
  EXPECT_EQ(l.pids.dir, "/x/cg/pids");
  EXPECT_EQ(l.blkio.dir, "/x/cg/blkio");
  EXPECT_EQ(l.proc, "/x/proc");
}

TEST(CgroupLayout, HybridHostFollowsTheEnginesVersion) {
  const std::string mi = fixture("mountinfo_v1_hybrid_systemd");
  Layout l = detect_layout(mi, {"systemd", "1", false});
  EXPECT_EQ(l.version, Version::v1);
  EXPECT_EQ(l.driver, Driver::systemd);
  EXPECT_EQ(l.cpu.dir, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l.cpuacct.dir, "/sys/fs/cgroup/cpu,cpuacct");
  // No /info answer: a v1 memory hierarchy means v1.
  EXPECT_EQ(detect_layout(mi, {}).version, Version::v1);
}

TEST(CgroupLayout, UnifiedHost) {
  Layout l = detect_layout(fixture("mountinfo_v2"), {"systemd", "2", false}, "/t");
  EXPECT_EQ(l.version, Version::v2);
  EXPECT_EQ(l.unified.dir, "/t");
  EXPECT_FALSE(l.memory.present());
  EXPECT_EQ(detect_layout(fixture("mountinfo_v2"), {}, "/t").version, Version::v2);
  EXPECT_THROW(detect_layout(fixture("mountinfo_v2"), {"cgroupfs", "1", false}), std::runtime_error);
  EXPECT_THROW(detect_layout("", {}), std::runtime_error);
}

TEST(CgroupLayout, EngineInfo) {
  auto i = parse_engine_info(R"({"CgroupDriver":"systemd","CgroupVersion":"2",
                                 "SecurityOptions":["name=seccomp,profile=default","name=rootless"]})");
  EXPECT_EQ(i.driver, "systemd");
  EXPECT_EQ(i.version, "2");
  EXPECT_TRUE(i.rootless);
  auto old = parse_engine_info(R"({"CgroupDriver":"cgroupfs"})");
  EXPECT_EQ(old.version, "");
  EXPECT_FALSE(old.rootless);
  EXPECT_EQ(parse_engine_info("not json").driver, "");
}
