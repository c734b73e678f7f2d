// `composewatch check`'s command line: its own flags and the ones it shares with status.

#include <gtest/gtest.h>

#include <sstream>

#include "composewatch/app/cli.h"
#include "composewatch/commands/check.h"
#include "composewatch/config/cli.h"

using namespace composewatch;

TEST(CheckCommand, TakesItsOwnFlagsAndLeavesTheOthers) {
  const auto cl = config::parse_command_line({"check", "-f", "a.yml", "--file=b.yml", "-fc.yml", "-p", "shop",
                                              "--env-file", "x.env", "--format=json", "--docker.host=unix:///x.sock",
                                              "--config.file", "c.yml"});
  commands::CheckOptions o = commands::check_options(cl);
  EXPECT_EQ(o.files, (std::vector<std::string>{"a.yml", "b.yml", "c.yml"}));
  EXPECT_EQ(o.project_name, "shop");
  EXPECT_EQ(o.env_file, "x.env");
  EXPECT_EQ(o.format, "json");
  EXPECT_EQ(cl.flags.docker_host, "unix:///x.sock");
  EXPECT_EQ(cl.flags.config_file, "c.yml");

  o = commands::check_options(config::parse_command_line({"check", "--project-name=blog", "--format", "text"}));
  EXPECT_EQ(o.project_name, "blog");
  EXPECT_EQ(o.format, "text");
  EXPECT_TRUE(o.files.empty());
}

TEST(CheckCommand, RejectsMissingValuesAndBadFormats) {
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"-f"}, {"-f", "--format=json"}, {"--format=yaml"}, {"--env-file"}, {"--file="}, {"-p"}, {"-p", "a", "-p", "b"}}) {
    bad.insert(bad.begin(), "check");
    EXPECT_THROW(config::parse_command_line(bad), config::UsageError) << bad[1];
  }
}

TEST(CheckCommand, ParsesThroughTheCommandLine) {
  auto cl = config::parse_command_line({"check", "-f", "a.yml", "--docker.host=tcp://h:1", "--format", "json"});
  EXPECT_EQ(cl.command, "check");
  EXPECT_EQ(cl.flags.docker_host, "tcp://h:1");
  EXPECT_THROW(config::parse_command_line({"check", "--web.listen-address=:1"}), config::UsageError);
  EXPECT_THROW(config::parse_command_line({"check", "--bogus"}), config::UsageError);
  EXPECT_THROW(config::parse_command_line({"check", "--format=xml"}), config::UsageError);
}

TEST(CheckCommand, HelpNamesTheFlagsAndExitCodes) {
  const std::string h = config::help_text("check");
  for (const char* s : {"-f, --file", "-p, --project-name", "--env-file", "--format", "--docker.host", "--config.file",
                        "0 when clean, 1 with findings, 2 when it could not check"})
    EXPECT_NE(h.find(s), std::string::npos) << s;
}

TEST(CheckCommand, UnreachableEngineExits2) {
  std::ostringstream out, err;
  const int code = app::run_command_line({"check", "--docker.host=unix:///nonexistent/cwdrift.sock"}, {}, out, err,
                                         app::default_handlers(), "/nonexistent/config.yml");
  EXPECT_EQ(code, 2) << err.str();
  EXPECT_NE(err.str().find("could not check"), std::string::npos) << err.str();
}
