// What only Compose v2 reads, where the oracle (tests/integration/compose_oracle_test.cpp)
// cannot look: environment values (it compares keys only) and merge tags in the first file.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "composewatch/compose/loader.h"

namespace cc = composewatch::compose;
namespace fs = std::filesystem;

namespace {

class ComposeLoaderV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cw-loader-v2-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  cc::Project load(std::vector<std::string> files) {
    cc::LoadOptions options;
    for (auto& f : files) options.files.push_back((dir_ / f).string());
    return cc::load_project(options);
  }

  fs::path dir_;
};

TEST_F(ComposeLoaderV2, RawEnvFileKeepsValuesAsWritten) {
  write("raw.env", "QUOTED=\"kept\"\nREF=${NOT_A_VARIABLE}\n");
  write("dotenv.env", "QUOTED2=\"stripped\"\n");
  write("compose.yaml",
        "services:\n  app:\n    image: a\n    env_file:\n      - path: raw.env\n        format: raw\n"
        "      - dotenv.env\n");
  const cc::Service app = load({"compose.yaml"}).services.at("app");
  EXPECT_EQ(app.environment.at("QUOTED").value, "\"kept\"");
  EXPECT_EQ(app.environment.at("REF").value, "${NOT_A_VARIABLE}");
  EXPECT_EQ(app.environment.at("QUOTED2").value, "stripped");
}

TEST_F(ComposeLoaderV2, ResetInTheOnlyFileLeavesTheKeyUnset) {
  write("compose.yaml", "services:\n  app:\n    image: a\n    mem_limit: !reset 1g\n    restart: !reset always\n");
  const cc::Service app = load({"compose.yaml"}).services.at("app");
  EXPECT_FALSE(app.memory_limit_bytes);
  EXPECT_EQ(app.restart, "");
}

TEST_F(ComposeLoaderV2, OverrideReplacesAMappingInsteadOfMerging) {
  write("compose.yaml",
        "services:\n  app:\n    image: a\n    depends_on: [db, cache]\n    labels: {a: '1', b: '2'}\n"
        "  db: {image: d}\n  cache: {image: c}\n");
  write("override.yaml", "services:\n  app:\n    depends_on: !override {db: {condition: service_healthy}}\n"
                         "    labels: !override {c: '3'}\n");
  const cc::Service app = load({"compose.yaml", "override.yaml"}).services.at("app");
  ASSERT_EQ(app.depends_on.size(), 1u);
  EXPECT_EQ(app.depends_on.at("db").condition, "service_healthy");
  EXPECT_EQ(app.labels, (std::map<std::string, std::string>{{"c", "3"}}));
}

TEST_F(ComposeLoaderV2, ResetOfAWholeService) {
  write("compose.yaml", "services:\n  app: {image: a}\n  debug: {image: b}\n");
  write("override.yaml", "services:\n  debug: !reset\n");
  const cc::Project p = load({"compose.yaml", "override.yaml"});
  EXPECT_TRUE(p.services.contains("app"));
  EXPECT_FALSE(p.services.contains("debug"));
}

}  // namespace
