// The OOM folder job: one pass reads the oom_kill counter of each running container's
// cgroup (a fixture tree) and folds what no event reported into the model.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "composewatch/jobs/oom_folder.h"
#include "composewatch/cgroup/reader.h"
#include "container_events.h"

using namespace composewatch;
namespace fs = std::filesystem;

namespace {

const std::string kId = "4f1c2d3e4b5a69788a9b0c1d2e3f40516273849a5b6c7d8e9f00112233445566";

std::shared_ptr<const cgroup::Reader> v1_reader() {
  fs::path root = fs::path(COMPOSEWATCH_FIXTURES) / "cgroup/trees/v1-cgroupfs";
  std::ifstream f(root / "mountinfo");
  std::stringstream ss;
  ss << f.rdbuf();
  return std::make_shared<const cgroup::Reader>(cgroup::detect_layout(
      ss.str(), {"cgroupfs", "1", false}, (root / "sys/fs/cgroup").string(), (root / "proc").string()));
}

void start(state::StateModel& m, const std::string& id, int pid) {
  m.apply(test_support::container_event("start", id, "api", 1000, "img:1", {}));
  docker::ContainerInfo c;
  c.id = id;
  c.name = "api";
  c.state = "running";
  c.health = "none";
  c.pid = pid;
  m.update(c, m.sequence_of(id));
}

}  // namespace

TEST(OomFolder, FoldsTheCgroupCounterOnceAndPublishes) {
  boost::asio::io_context ioc;
  state::StateModel model;
  start(model, kId, 4242);
  model.publish();
  jobs::OomFolder folder(ioc.get_executor(), v1_reader(), model);

  EXPECT_EQ(folder.fold_once(), 2u);  // the fixture's memory.oom_control says oom_kill 2
  EXPECT_EQ(model.snapshot()->containers.at(0).counters.oom_kills, 2u) << "published";
  EXPECT_EQ(folder.fold_once(), 0u) << "the same kills are not counted twice";
  EXPECT_EQ(model.containers().at("api").counters.oom_kills, 2u);
}

TEST(OomFolder, SkipsContainersThatAreNotRunning) {
  boost::asio::io_context ioc;
  state::StateModel model;
  start(model, kId, 4242);
  model.apply(test_support::container_event("die", kId, "api", 2000, "img:1", {{"exitCode", "137"}}));
  jobs::OomFolder folder(ioc.get_executor(), v1_reader(), model);
  EXPECT_EQ(folder.fold_once(), 0u);
  EXPECT_EQ(model.containers().at("api").counters.oom_kills, 0u);
}
