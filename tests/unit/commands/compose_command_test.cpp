// `composewatch compose`: flags, exit codes, one-line errors, warnings on stderr.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "composewatch/commands/compose.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code;
  std::string out, err;
};

class ComposeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cw-cmd-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  Result run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    std::ostringstream out, err;
    const int code = composewatch::commands::run_compose(args, env, out, err);
    return {code, out.str(), err.str()};
  }

  fs::path dir_;
};

TEST_F(ComposeCommand, PrintsJson) {
  const std::string a = write("a.yml", "services:\n  web: {image: \"w:${TAG:-1}\", profiles: [p]}\n  db: {image: d}\n");
  const std::string b = write("b.yml", "services:\n  db: {mem_limit: 1k}\n");
  const Result r = run({"-f", a, "--file=" + b, "-p", "Demo", "--profile", "p"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("\"project\": \"demo\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"image\": \"w:1\""), std::string::npos);
  EXPECT_NE(r.out.find("\"memory_limit_bytes\": 1024"), std::string::npos);
}

TEST_F(ComposeCommand, InvalidInputIsOneLineWithFileAndLine) {
  const std::string f = write("c.yml", "services:\n  s:\n    image: a\n    mem_limit: 1x\n");
  const Result r = run({"-f", f});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, f + ":4: mem_limit: unknown memory unit 'x' in '1x' (expected b, k, kb, m, mb, g or gb)\n");
}

TEST_F(ComposeCommand, WarningsGoToStderr) {
  const std::string f = write("c.yml", "services:\n  s:\n    image: a:$NOPE\n");
  const Result r = run({"-f", f}, {{"PATH", "/bin"}});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "warning: " + f + ":3: variable NOPE is not set, using an empty string\n");
}

TEST_F(ComposeCommand, EnvFileAndEnvironment) {
  const std::string f = write("c.yml", "services:\n  s:\n    image: a:${T}\n");
  const std::string e = write("vars.env", "T=file\n");
  EXPECT_NE(run({"-f", f, "--env-file", e}).out.find("a:file"), std::string::npos);
  EXPECT_NE(run({"-f", f, "--env-file", e}, {{"T", "proc"}}).out.find("a:proc"), std::string::npos);
}

TEST_F(ComposeCommand, UsageErrors) {
  EXPECT_EQ(run({"--help"}).code, 0);
  EXPECT_NE(run({"--help"}).out.find("Usage: composewatch compose"), std::string::npos);
  Result r = run({"-f"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "composewatch: flag '-f' needs a value; see 'composewatch compose --help'\n");
  r = run({"--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "composewatch: unknown flag '--bogus'; see 'composewatch compose --help'\n");
  EXPECT_EQ(run({"stray"}).code, 2);
  EXPECT_EQ(run({"-p", "a", "-p", "b"}).code, 2);
}

}  // namespace
