// --stats.source: the API when asked, when the engine is remote or rootless; a forced
// cgroup source that cannot work is a start-up error.

#include <gtest/gtest.h>

#include "composewatch/cgroup/source.h"

using namespace composewatch::cgroup;
using namespace composewatch::docker;

TEST(CgroupSource, ApiWhenAsked) {
  auto c = choose_stats_source("api", true, EngineCgroupInfo{"cgroupfs", "1", false});
  EXPECT_EQ(c.reader, nullptr);
}

TEST(CgroupSource, AutoFallsBackForRemoteAndRootlessEngines) {
  auto remote = choose_stats_source("auto", false, EngineCgroupInfo{"cgroupfs", "1", false});
  EXPECT_EQ(remote.reader, nullptr);
  EXPECT_NE(remote.reason.find("tcp://"), std::string::npos) << remote.reason;
  auto rootless = choose_stats_source("auto", true, EngineCgroupInfo{"systemd", "2", true});
  EXPECT_EQ(rootless.reader, nullptr);
  EXPECT_NE(rootless.reason.find("rootless"), std::string::npos) << rootless.reason;
  EXPECT_EQ(choose_stats_source("auto", true, EngineCgroupInfo{"none", "", false}).reader, nullptr);
}

TEST(CgroupSource, ForcedCgroupThatCannotWorkThrows) {
  EXPECT_THROW(choose_stats_source("cgroup", true, EngineCgroupInfo{"systemd", "2", true}), std::runtime_error);
}

TEST(CgroupSource, ForcedCgroupOverTcpReadsTheLocalCgroups) {
  // A socket proxy in front of the local engine: the user says its cgroups are here, so a
  // refusal can only be about them, never about tcp://.
  // Whether this machine's cgroups can be read decides which of the two holds; one must.
  SourceChoice choice;
  std::string refusal;
  try {
    choice = choose_stats_source("cgroup", false, EngineCgroupInfo{"cgroupfs", "1", false});
  } catch (const std::runtime_error& e) {
    refusal = e.what();
  }
  if (refusal.empty()) {
    EXPECT_NE(choice.reader, nullptr) << "a forced cgroup source reads the local cgroups: " << choice.reason;
  } else {
    EXPECT_EQ(refusal.find("tcp://"), std::string::npos) << refusal;
  }
}
