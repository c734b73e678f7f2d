#pragma once
// The command line: `composewatch [run] [flags]`, `composewatch status [--format F]`,
// `--help`, `--version`. Parsing is pure (tested without a process); run_command_line is
// the whole of main with the commands and streams passed in.
//
// Error policy: parse_command_line throws UsageError for a command line that cannot be
// understood (unknown command or flag, missing value, stray argument); bad values are
// caught later by resolve_config as ConfigError naming the flag. run_command_line never
// throws: it turns both into "composewatch: <reason>" on `err` and the contract's exit code.

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "composewatch/config/config.h"

namespace composewatch::config {

// The command line is malformed. The message is one line ending with a hint to --help.
struct UsageError : ConfigError {
  using ConfigError::ConfigError;
};

struct CommandLine {
  // run | status | check | compose | prune | diagnose. Only run and status are available
  // in this version; the others parse no further than their name.
  std::string command = "run";
  bool help = false;     // --help: print help_text(command), exit 0
  bool version = false;  // --version: print version_text(), exit 0
  FlagValues flags;      // as given; validated by resolve_config
  std::string status_format = "text";  // status --format: text | json
};

// Parses argv without argv[0]. The first argument names the command unless it starts
// with '-'; then the command is run. Flags take "--flag=value" or "--flag value".
// Throws UsageError.
CommandLine parse_command_line(const std::vector<std::string>& args);

// Whether `command` is implemented in this version (run, status).
bool command_available(const std::string& command);

// --help output for `command` ("run" gives the overview with the agent flags).
std::string help_text(const std::string& command);
// "composewatch <version> (revision <revision>)\n"
std::string version_text();

// What run_command_line calls once the configuration is resolved. Tests pass fakes.
struct CommandHandlers {
  std::function<void(const AgentConfig&)> setup_logging;  // may throw std::exception
  std::function<int(const AgentConfig&)> run_agent;
  std::function<int(const AgentConfig&, const std::string& format)> run_status;
};

// The whole CLI: parse, print help or version, resolve the configuration (flag > file >
// environment > default), set up logging, dispatch. Returns the exit code:
//   0   help, version, or what the command returned
//   2   usage error; unavailable command; bad configuration for a one-shot command;
//       status failing with an exception
//   1   bad configuration or an exception for run (a fatal start-up error)
// Errors go to `err` as one line "composewatch: <reason>"; help and version to `out`.
int run_command_line(const std::vector<std::string>& args, const Environment& env,
                     std::ostream& out, std::ostream& err, const CommandHandlers& handlers,
                     const std::string& default_config_file = kDefaultConfigFile);

}  // namespace composewatch::config
