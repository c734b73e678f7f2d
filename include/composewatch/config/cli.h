#pragma once
// The command line: `composewatch [run] [flags]`, `composewatch <command> [own flags]
// [flags]`, `--help`, `--version`. Pure parsing, tested without a process; app/cli.h runs
// the commands.
//
// Error policy: parse_command_line throws UsageError for a command line that cannot be
// understood (unknown command or flag, missing value, stray argument, a value outside a
// flag's choices); bad values of the shared flags are caught later by resolve_config as
// ConfigError naming the flag.

#include <map>
#include <string>
#include <vector>

#include "composewatch/config/config.h"

namespace composewatch::config {

// The command line is malformed. The message is one line ending with a hint to --help.
struct UsageError : ConfigError {
  using ConfigError::ConfigError;
};

struct CommandLine {
  // run | status | check | compose | prune | diagnose. `compose` parses no further than
  // its name: it reads only files and has flags of its own (app/compose_command.h).
  std::string command = "run";
  bool help = false;     // --help: print help_text(command), exit 0
  bool version = false;  // --version: print version_text(), exit 0
  FlagValues flags;      // as given; validated by resolve_config
  // The command's own flags, by long name without dashes ("file", "project-name",
  // "env-file", "format", "policy", "dry-run", "logs"): the values in the order given,
  // "true" for a flag without a value. Choices (--format text|json) are checked here.
  std::map<std::string, std::vector<std::string>> options;

  // The last value of an own flag, or `fallback` when it was not given.
  const std::string& option(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> option_list(const std::string& name) const;
  bool has(const std::string& name) const;
};

// Parses argv without argv[0]. The first argument names the command unless it starts
// with '-'; then the command is run. Flags take "--flag=value" or "--flag value"; a
// command's own short flags also "-f value" and "-fvalue". Throws UsageError.
CommandLine parse_command_line(const std::vector<std::string>& args);

// --help output for `command` ("run" gives the overview with the agent flags).
std::string help_text(const std::string& command);
// "composewatch <version> (revision <revision>)\n"
std::string version_text();

}  // namespace composewatch::config
