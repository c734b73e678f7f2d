// Project discovery from labels and the config file, and loading with a last good model.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "composewatch/compose/discovery.h"
#include "composewatch/state/model.h"

using namespace composewatch::compose;
using composewatch::docker::LiveContainer;
using composewatch::docker::live_container;
namespace fs = std::filesystem;

namespace {

LiveContainer labelled(const std::string& name, const std::string& project, const std::string& wd,
                       const std::string& files, const std::string& state = "running") {
  LiveContainer c;
  c.name = name;
  c.spec.compose.project = project;
  c.spec.compose.service = "api";
  c.spec.compose.working_dir = wd;
  c.spec.compose.config_files = files;
  c.state = state;
  return c;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("cwdrift-unit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
  static inline int counter = 0;
};

}  // namespace

TEST(ComposeDiscovery, ConfigFileProjects) {
  composewatch::config::ComposeProjectConfig c;
  c.name = "shop";
  c.files = {"/srv/shop/a.yml", "/srv/shop/b.yml"};
  c.env_file = "/srv/shop/.env";
  c.profiles = {"jobs"};
  c.production = true;
  auto s = configured_sources({c});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "shop");
  EXPECT_EQ(s[0].files, c.files);
  EXPECT_EQ(s[0].env_file, c.env_file);
  EXPECT_EQ(s[0].profiles, c.profiles);
  EXPECT_TRUE(s[0].production);
  EXPECT_TRUE(s[0].configured);
}

TEST(ComposeDiscovery, LabelsV1RelativeAndV2Absolute) {
  auto s = discovered_sources({labelled("shop_api_1", "shop", "/srv/shop", "docker-compose.yml,prod.yml"),
                               labelled("blog-web-1", "blog", "/srv/blog", "/srv/blog/compose.yaml")});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "blog");
  EXPECT_EQ(s[0].files, (std::vector<std::string>{"/srv/blog/compose.yaml"}));
  EXPECT_EQ(s[1].name, "shop");
  EXPECT_EQ(s[1].files, (std::vector<std::string>{"/srv/shop/docker-compose.yml", "/srv/shop/prod.yml"}));
  EXPECT_FALSE(s[1].configured);
  EXPECT_TRUE(s[1].problem.empty());
}

TEST(ComposeDiscovery, OneoffContainersAndUnlabelledOnesDoNotNameProjects) {
  LiveContainer run = labelled("shop_api_run_1", "shop", "/srv/shop", "docker-compose.yml");
  run.spec.compose.oneoff = true;
  LiveContainer plain;
  plain.name = "plain";
  EXPECT_TRUE(discovered_sources({run, plain}).empty());
}

TEST(ComposeDiscovery, RunningContainersLabelsWin) {
  auto s = discovered_sources({labelled("shop_api_1", "shop", "/old", "a.yml", "exited"),
                               labelled("shop_api_2", "shop", "/srv/shop", "b.yml", "running")});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].files, (std::vector<std::string>{"/srv/shop/b.yml"}));
}

TEST(ComposeDiscovery, MissingConfigFilesLabelIsAProblem) {
  auto s = discovered_sources({labelled("shop_api_1", "shop", "/srv/shop", "")});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_NE(s[0].problem.find("config_files"), std::string::npos);
  ProjectState st = load_source(s[0], nullptr, {});
  EXPECT_FALSE(st.valid);
  EXPECT_FALSE(st.model);
  EXPECT_EQ(st.error, s[0].problem);
}

TEST(ComposeDiscovery, ConfiguredProjectsWinOverLabels) {
  ProjectSource configured;
  configured.name = "shop";
  configured.files = {"/etc/shop.yml"};
  configured.configured = true;
  auto merged = merge_sources({configured}, discovered_sources({labelled("shop_api_1", "shop", "/srv/shop", "x.yml"),
                                                                labelled("a_api_1", "a", "/srv/a", "x.yml")}));
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].name, "a");
  EXPECT_EQ(merged[1].name, "shop");
  EXPECT_EQ(merged[1].files, configured.files);
}

TEST(ComposeDiscovery, LoadKeepsTheLastGoodModelWhenAFileBreaks) {
  TempDir dir;
  auto file = dir.write("docker-compose.yml",
                        "version: '3.8'\nservices:\n  api:\n    image: composewatch-test/busybox:1\n    mem_limit: 64m\n");
  ProjectSource src;
  src.name = "cwdrift-unit";
  src.files = {file.string()};
  src.configured = true;
  ProjectState good = load_source(src, nullptr, {});
  ASSERT_TRUE(good.valid) << good.error;
  ASSERT_TRUE(good.model);
  EXPECT_EQ(good.name, "cwdrift-unit");
  EXPECT_EQ(good.model->services.at("api").memory_limit_bytes, 64 * 1024 * 1024);
  EXPECT_FALSE(good.findings.empty());  // obsolete version, no restart
  EXPECT_EQ(good.findings.front().check, check_id::obsolete_version);

  dir.write("docker-compose.yml", "services:\n  api: [unclosed\n");
  ProjectState broken = load_source(src, &good, {});
  EXPECT_FALSE(broken.valid);
  EXPECT_NE(broken.error.find("docker-compose.yml"), std::string::npos) << broken.error;
  ASSERT_TRUE(broken.model);
  EXPECT_EQ(broken.model, good.model);
  EXPECT_EQ(broken.findings.size(), good.findings.size());

  fs::remove(file);
  ProjectState missing = load_source(src, nullptr, {});
  EXPECT_FALSE(missing.valid);
  EXPECT_FALSE(missing.model);
  EXPECT_FALSE(missing.error.empty());
}

TEST(ComposeDiscovery, UnnamedSourceTakesTheLoadersName) {
  TempDir dir;
  auto file = dir.write("compose.yml", "name: cwdrift-named\nservices:\n  api:\n    image: x\n");
  ProjectSource src;
  src.files = {file.string()};
  ProjectState st = load_source(src, nullptr, {});
  ASSERT_TRUE(st.valid) << st.error;
  EXPECT_EQ(st.name, "cwdrift-named");
}

TEST(ComposeDiscovery, LiveContainersSkipRemovedRecords) {
  composewatch::state::ContainerRecord a, b;
  a.name = "shop_api_1";
  a.spec.compose.project = "shop";
  a.spec.compose.service = "api";
  a.spec.compose.oneoff = true;
  a.spec.compose.working_dir = "/srv/shop";
  a.spec.compose.config_files = "docker-compose.yml";
  a.spec.memory_reservation = 7;
  a.spec.restart_policy = {"always", 0};
  b.name = "gone";
  b.present = false;
  auto live = composewatch::state::live_containers({a, b});
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].name, "shop_api_1");
  EXPECT_TRUE(live[0].spec.compose.oneoff);
  EXPECT_EQ(live[0].spec.compose.working_dir, "/srv/shop");
  EXPECT_EQ(live[0].spec.compose.config_files, "docker-compose.yml");
  EXPECT_EQ(live[0].spec.memory_reservation, 7);
  EXPECT_EQ(live[0].spec.restart_policy.name, "always");
}
