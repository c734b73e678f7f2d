// The command line: commands, flags in both spellings, help and version, errors and the
// exit codes of the contract.

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

#include "composewatch/app/cli.h"
#include "composewatch/config/cli.h"
#include "composewatch/config/config.h"
#include "composewatch/version.h"

namespace cfg = composewatch::config;

namespace {

std::string fixture(const std::string& name) {
  return std::string(COMPOSEWATCH_FIXTURES) + "/config/" + name;
}

const std::string kNoDefaultFile = fixture("does-not-exist.yml");

std::string usage_error(const std::vector<std::string>& args) {
  try {
    cfg::parse_command_line(args);
  } catch (const cfg::UsageError& e) {
    return e.what();
  }
  return "";
}

// Runs the CLI with fake commands that record what they were given.
struct Outcome {
  int code = -1;
  std::string out, err;
  int agent_calls = 0, status_calls = 0, logging_calls = 0;
  cfg::AgentConfig config;
  std::string status_format;
};

Outcome run(const std::vector<std::string>& args, const cfg::Environment& env = {},
        int command_result = 0, bool command_throws = false) {
  Outcome r;
  std::ostringstream out, err;
  composewatch::app::CommandHandlers handlers{
      .setup_logging = [&](const cfg::AgentConfig&) { ++r.logging_calls; },
      .run_agent =
          [&](const cfg::AgentConfig& c) {
            ++r.agent_calls;
            r.config = c;
            if (command_throws) throw std::runtime_error("listen 127.0.0.1:9469: address already in use");
            return command_result;
          },
      .commands = {{"status",
                    [&](const cfg::AgentConfig& c, const cfg::CommandLine& cl, std::ostream&, std::ostream&) {
                      ++r.status_calls;
                      r.config = c;
                      r.status_format = cl.option("format", "text");
                      if (command_throws) throw std::runtime_error("engine unreachable");
                      return command_result;
                    }}},
  };
  r.code = composewatch::app::run_command_line(args, env, out, err, handlers, kNoDefaultFile);
  r.out = out.str();
  r.err = err.str();
  return r;
}

#define EXPECT_CONTAINS(haystack, needle)                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
      << "expected to find [" << (needle) << "] in [" << (haystack) << "]"

}  // namespace

TEST(CliParse, NoArgumentsIsTheAgent) {
  const auto cl = cfg::parse_command_line({});
  EXPECT_EQ(cl.command, "run");
  EXPECT_FALSE(cl.help);
  EXPECT_FALSE(cl.version);
  EXPECT_FALSE(cl.flags.listen_address.has_value());
}

TEST(CliParse, BothFlagSpellings) {
  const auto a = cfg::parse_command_line({"--web.listen-address=:9100", "--docker.host", "tcp://h:2375"});
  EXPECT_EQ(a.command, "run");
  EXPECT_EQ(a.flags.listen_address, ":9100");
  EXPECT_EQ(a.flags.docker_host, "tcp://h:2375");
  const auto b = cfg::parse_command_line({"run", "--web.listen-address", ":9100", "--docker.host=tcp://h:2375"});
  EXPECT_EQ(b.command, "run");
  EXPECT_EQ(b.flags.listen_address, ":9100");
  EXPECT_EQ(b.flags.docker_host, "tcp://h:2375");
}

TEST(CliParse, EveryAgentFlag) {
  const auto cl = cfg::parse_command_line(
      {"--web.listen-address=a", "--web.telemetry-path=b", "--web.config.file=c", "--web.max-requests=d",
       "--docker.host=e", "--config.file=f", "--stats.source=g", "--state.dir=h", "--log.level=i",
       "--log.format=j"});
  EXPECT_EQ(cl.flags.listen_address, "a");
  EXPECT_EQ(cl.flags.telemetry_path, "b");
  EXPECT_EQ(cl.flags.web_config_file, "c");
  EXPECT_EQ(cl.flags.max_requests, "d");
  EXPECT_EQ(cl.flags.docker_host, "e");
  EXPECT_EQ(cl.flags.config_file, "f");
  EXPECT_EQ(cl.flags.stats_source, "g");
  EXPECT_EQ(cl.flags.state_dir, "h");
  EXPECT_EQ(cl.flags.log_level, "i");
  EXPECT_EQ(cl.flags.log_format, "j");
}

TEST(CliParse, Status) {
  EXPECT_EQ(cfg::parse_command_line({"status"}).option("format", "text"), "text");
  EXPECT_FALSE(cfg::parse_command_line({"status"}).has("format"));
  const auto cl = cfg::parse_command_line({"status", "--format", "json", "--docker.host=tcp://h:1"});
  EXPECT_EQ(cl.command, "status");
  EXPECT_EQ(cl.option("format", "text"), "json");
  EXPECT_EQ(cl.flags.docker_host, "tcp://h:1");
  EXPECT_EQ(cfg::parse_command_line({"status", "--format=text"}).option("format", ""), "text");
  EXPECT_CONTAINS(usage_error({"status", "--format=xml"}), "--format: invalid value 'xml'");
  EXPECT_CONTAINS(usage_error({"status", "--web.listen-address=:1"}),
                  "flag '--web.listen-address' does not apply to status");
  EXPECT_CONTAINS(usage_error({"--format=json"}), "unknown flag '--format'");
}

TEST(CliParse, HelpAndVersionFlags) {
  EXPECT_TRUE(cfg::parse_command_line({"--help"}).help);
  EXPECT_TRUE(cfg::parse_command_line({"run", "--help"}).help);
  EXPECT_TRUE(cfg::parse_command_line({"status", "--help"}).help);
  EXPECT_TRUE(cfg::parse_command_line({"--version"}).version);
}

TEST(CliParse, UnknownFlags) {
  EXPECT_EQ(usage_error({"--web.listen_address=:1"}),
            "unknown flag '--web.listen_address' (did you mean '--web.listen-address'?); "
            "see 'composewatch --help'");
  EXPECT_EQ(usage_error({"--frobnicate"}), "unknown flag '--frobnicate'; see 'composewatch --help'");
  EXPECT_CONTAINS(usage_error({"-web.listen-address", ":1"}), "flags take two dashes: '--web.listen-address'");
  EXPECT_CONTAINS(usage_error({"-h"}), "unknown flag '-h'");
  EXPECT_CONTAINS(usage_error({"status", "--bogus"}), "see 'composewatch status --help'");
  // No abbreviations: a prefix of a flag is not that flag.
  EXPECT_CONTAINS(usage_error({"--web.listen=:1"}), "unknown flag '--web.listen'");
}

TEST(CliParse, UnknownCommandAndStrayArguments) {
  EXPECT_EQ(usage_error({"start"}), "unknown command 'start'; see 'composewatch --help'");
  EXPECT_CONTAINS(usage_error({"stauts"}), "did you mean 'status'?");
  EXPECT_EQ(usage_error({"run", "now"}), "unexpected argument 'now'; see 'composewatch --help'");
  EXPECT_CONTAINS(usage_error({"--log.level=debug", "status"}), "unexpected argument 'status'");
}

TEST(CliParse, MissingRepeatedAndEmptyValues) {
  EXPECT_EQ(usage_error({"--docker.host"}), "flag '--docker.host' needs a value; see 'composewatch --help'");
  EXPECT_CONTAINS(usage_error({"--web.listen-address", "--docker.host", "x"}),
                  "flag '--web.listen-address' needs a value");
  EXPECT_CONTAINS(usage_error({"--docker.host=a", "--docker.host=b"}), "flag '--docker.host' given more than once");
  EXPECT_CONTAINS(usage_error({"--docker.host="}), "flag '--docker.host' has an empty value");
  EXPECT_CONTAINS(usage_error({"--help=yes"}), "flag '--help' takes no value");
}

TEST(CliParse, PruneAndDiagnoseTakeTheirOwnFlags) {
  const auto prune = cfg::parse_command_line({"prune", "--policy", "a", "--policy=b", "--dry-run",
                                              "--config.file=/x.yml"});
  EXPECT_EQ(prune.command, "prune");
  EXPECT_EQ(prune.option_list("policy"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(prune.has("dry-run"));
  EXPECT_EQ(prune.flags.config_file, "/x.yml");
  EXPECT_FALSE(cfg::parse_command_line({"prune"}).has("dry-run"));
  EXPECT_CONTAINS(usage_error({"prune", "--dry-run=false"}), "flag '--dry-run' takes no value");
  EXPECT_CONTAINS(usage_error({"prune", "--policy"}), "flag '--policy' needs a value");
  EXPECT_CONTAINS(usage_error({"prune", "-f", "x.yml"}), "unknown flag '-f'");
  EXPECT_CONTAINS(usage_error({"prune", "--format=json"}), "unknown flag '--format'");

  const auto diag = cfg::parse_command_line({"diagnose", "--format", "json", "--logs=5"});
  EXPECT_EQ(diag.option("format", "text"), "json");
  EXPECT_EQ(diag.option("logs", "20"), "5");
  EXPECT_CONTAINS(usage_error({"diagnose", "--format=yaml"}), "--format: invalid value 'yaml'");
  EXPECT_CONTAINS(usage_error({"diagnose", "--format=json", "--format=text"}), "given more than once");
}

TEST(CliRun, ACommandWithoutAHandlerIsNotAvailable) {
  std::ostringstream out, err;
  const int code = composewatch::app::run_command_line({"diagnose"}, {}, out, err, {}, kNoDefaultFile);
  EXPECT_EQ(code, 2);
  EXPECT_CONTAINS(err.str(), "the 'diagnose' command is not available");
}

TEST(CliRun, VersionPrintsVersionAndRevision) {
  const Outcome r = run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("composewatch ") + composewatch::kVersion + " (revision " +
                       composewatch::kRevision + ")\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.agent_calls, 0);
}

TEST(CliRun, HelpListsCommandsAndEveryFlag) {
  const Outcome r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.agent_calls, 0);
  for (const char* text : {"Usage: composewatch [run] [flags]", "status", "check", "compose", "prune",
                           "diagnose", "--web.listen-address=ADDR", "--web.telemetry-path=PATH",
                           "--web.config.file=FILE", "--web.max-requests=N", "--docker.host=URL",
                           "--config.file=FILE", "--stats.source=SOURCE", "--state.dir=DIR",
                           "--log.level=LEVEL", "--log.format=FORMAT", "--version", "127.0.0.1:9469"}) {
    EXPECT_CONTAINS(r.out, text);
  }
  EXPECT_EQ(run({"run", "--help"}).out, r.out);
}

TEST(CliRun, StatusHelp) {
  const Outcome r = run({"status", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_CONTAINS(r.out, "Usage: composewatch status [--format text|json]");
  EXPECT_CONTAINS(r.out, "--docker.host=URL");
  EXPECT_EQ(r.out.find("--web.listen-address"), std::string::npos);
  EXPECT_EQ(r.status_calls, 0);
}

TEST(CliRun, HelpDoesNotReadTheConfig) {
  const Outcome r = run({"--help", "--config.file=" + fixture("unknown_key.yml")});
  EXPECT_EQ(r.code, 0);
}

TEST(CliRun, UnknownFlagExits2WithOneLine) {
  const Outcome r = run({"--no-such-flag"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "composewatch: unknown flag '--no-such-flag'; see 'composewatch --help'\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.agent_calls, 0);
  EXPECT_EQ(run({"status", "--no-such-flag"}).code, 2);
  EXPECT_EQ(run({"bogus"}).code, 2);
}

TEST(CliRun, EveryCommandHasHelp) {
  for (const char* command : {"status", "check", "prune", "diagnose"}) {
    const Outcome r = run({command, "--help"});
    EXPECT_EQ(r.code, 0) << command;
    EXPECT_CONTAINS(r.out, std::string("Usage: composewatch ") + command);
    EXPECT_EQ(r.err, "");
  }
}

TEST(CliRun, AgentGetsTheResolvedConfig) {
  const Outcome r = run({"--web.listen-address=:9100", "--config.file=" + fixture("flags_and_file.yml")},
                    {.docker_host = "tcp://env:1", .state_directory = "/run/state"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.agent_calls, 1);
  EXPECT_EQ(r.logging_calls, 1);
  EXPECT_EQ(r.config.listen_address, ":9100");               // flag over file
  EXPECT_EQ(r.config.docker_host, "tcp://file-host:2375");   // file over environment
  EXPECT_EQ(r.config.state_dir, "/run/state");               // environment over default
  EXPECT_EQ(r.config.log_format, "logfmt");                  // default
  EXPECT_EQ(run({"run"}).agent_calls, 1);
}

TEST(CliRun, AgentExitCodes) {
  EXPECT_EQ(run({}, {}, 0).code, 0);
  EXPECT_EQ(run({}, {}, 3).code, 3);
  const Outcome failed = run({}, {}, 0, /*command_throws=*/true);
  EXPECT_EQ(failed.code, 1);
  EXPECT_EQ(failed.err, "composewatch: listen 127.0.0.1:9469: address already in use\n");
}

// A configuration error is 78 for the agent (the unit's RestartPreventExitStatus=: no
// restart loop on a file only the administrator can fix), whatever found it: the flags, the
// config file, or the agent itself loading the web config and its TLS files.
TEST(CliRun, BadConfigIsExit78ForTheAgentAndExit2ForStatus) {
  const Outcome agent = run({"--log.level=loud"});
  EXPECT_EQ(agent.code, cfg::kExitConfigError);
  EXPECT_EQ(cfg::kExitConfigError, 78);
  EXPECT_EQ(agent.err, "composewatch: --log.level: invalid value 'loud' (expected debug, info, warn or error)\n");
  EXPECT_EQ(agent.agent_calls, 0);
  EXPECT_EQ(agent.logging_calls, 0);

  const Outcome file = run({"--config.file=" + fixture("unknown_key.yml")});
  EXPECT_EQ(file.code, 78);
  EXPECT_CONTAINS(file.err, "composewatch: " + fixture("unknown_key.yml") + ":12: ");

  const Outcome status = run({"status", "--docker.host=ftp://x"});
  EXPECT_EQ(status.code, 2);
  EXPECT_EQ(status.status_calls, 0);
  EXPECT_CONTAINS(status.err, "composewatch: --docker.host: 'ftp://x'");
}

TEST(CliRun, StatusGetsFormatAndExitCode) {
  const Outcome r = run({"status", "--format=json"}, {}, 2);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.status_calls, 1);
  EXPECT_EQ(r.status_format, "json");
  EXPECT_EQ(run({"status"}, {}, 0, /*command_throws=*/true).code, 2);
}

TEST(CliRun, AConfigErrorFromTheAgentIsExit78AndOtherFailuresExit1) {
  std::string thrown;
  composewatch::app::CommandHandlers handlers{
      .run_agent = [&](const cfg::AgentConfig&) -> int {
        if (thrown == "config") throw cfg::ConfigError("/etc/composewatch/web.yml: Permission denied");
        throw std::runtime_error("listen 127.0.0.1:9469: address already in use");
      },
  };
  std::ostringstream out, err;
  thrown = "config";
  EXPECT_EQ(composewatch::app::run_command_line({"run"}, {}, out, err, handlers, kNoDefaultFile), 78);
  EXPECT_EQ(err.str(), "composewatch: /etc/composewatch/web.yml: Permission denied\n");
  thrown = "other";
  EXPECT_EQ(composewatch::app::run_command_line({"run"}, {}, out, err, handlers, kNoDefaultFile), 1);
}
