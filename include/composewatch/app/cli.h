#pragma once
// The whole CLI: parse (config/cli.h), print help or version, resolve the configuration
// (flag > file > environment > default), set up logging, run the command. main() is this
// with the process's streams and environment.

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "composewatch/config/cli.h"
#include "composewatch/config/config.h"

namespace composewatch::app {

// A one-shot command on a resolved configuration; returns its exit code. May throw
// std::exception: run_command_line turns that into "composewatch: <reason>" and 2.
using Command = std::function<int(const config::AgentConfig&, const config::CommandLine&, std::ostream& out,
                                  std::ostream& err)>;

struct CommandHandlers {
  std::function<void(const config::AgentConfig&)> setup_logging;  // may throw std::exception
  std::function<int(const config::AgentConfig&)> run_agent;
  // Called first thing once the command is known to be `run` (hold_agent_signals).
  std::function<void()> before_agent;
  std::map<std::string, Command> commands;  // status, check, prune, diagnose
};

// The real commands and logging. Tests replace what they need.
CommandHandlers default_handlers();

// Returns the exit code:
//   0   help, version, or what the command returned
//   2   usage error; a command with no handler; bad configuration for a one-shot
//       command; a one-shot command failing with an exception
//   78  bad configuration for run: flags, config file, or a config::ConfigError thrown
//       by the agent (web config, certificate, key): config::kExitConfigError
//   1   any other exception for run (a fatal start-up error)
// Errors go to `err` as one line "composewatch: <reason>"; help and version to `out`.
int run_command_line(const std::vector<std::string>& args, const config::Environment& env, std::ostream& out,
                     std::ostream& err, const CommandHandlers& handlers,
                     const std::string& default_config_file = config::kDefaultConfigFile);

}  // namespace composewatch::app
