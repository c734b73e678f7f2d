#include "composewatch/app/cli.h"

#include <algorithm>
#include <ostream>

#include "composewatch/app/agent.h"
#include "composewatch/commands/check.h"
#include "composewatch/commands/compose.h"
#include "composewatch/commands/diagnose/command.h"
#include "composewatch/commands/healthcheck.h"
#include "composewatch/commands/prune.h"
#include "composewatch/commands/status.h"
#include "composewatch/config/config.h"
#include "composewatch/log/log.h"

namespace composewatch::app {
namespace {

std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

}  // namespace

CommandHandlers default_handlers() {
  CommandHandlers h;
  h.setup_logging = [](const config::AgentConfig& cfg) { log::setup(cfg.log_level, cfg.log_format); };
  h.run_agent = run_agent;
  h.before_agent = hold_agent_signals;
  h.commands["status"] = [](const config::AgentConfig& cfg, const config::CommandLine& cl, std::ostream& out,
                            std::ostream& err) { return commands::run_status(cfg, cl.option("format", "text"), out, err); };
  h.commands["check"] = [](const config::AgentConfig& cfg, const config::CommandLine& cl, std::ostream& out,
                           std::ostream& err) { return commands::run_check(cfg, commands::check_options(cl), out, err); };
  h.commands["prune"] = [](const config::AgentConfig& cfg, const config::CommandLine& cl, std::ostream& out,
                           std::ostream& err) { return commands::run_prune(cfg, commands::prune_options(cl), out, err); };
  h.commands["healthcheck"] = [](const config::AgentConfig& cfg, const config::CommandLine&, std::ostream& out,
                                 std::ostream& err) { return commands::run_healthcheck(cfg, out, err); };
  h.commands["diagnose"] = [](const config::AgentConfig& cfg, const config::CommandLine& cl, std::ostream& out,
                              std::ostream& err) { return commands::run_diagnose(cfg, commands::diagnose_options(cl), out, err); };
  return h;
}

int run_command_line(const std::vector<std::string>& args, const config::Environment& env, std::ostream& out,
                     std::ostream& err, const CommandHandlers& handlers, const std::string& default_config_file) {
  config::CommandLine cl;
  try {
    cl = config::parse_command_line(args);
  } catch (const config::UsageError& e) {
    err << "composewatch: " << one_line(e.what()) << '\n';
    return 2;
  }
  // Reads only files; no configuration, no engine.
  if (cl.command == "compose") {
    return commands::run_compose(std::vector<std::string>(args.begin() + 1, args.end()), commands::process_environment(), out, err);
  }
  if (cl.help) {
    out << config::help_text(cl.command);
    return 0;
  }
  if (cl.version) {
    out << config::version_text();
    return 0;
  }
  const bool agent = cl.command == "run";
  auto command = handlers.commands.find(cl.command);
  if (!agent && command == handlers.commands.end()) {
    err << "composewatch: the '" << cl.command << "' command is not available in this version\n";
    return 2;
  }

  // For the agent a bad configuration is a configuration error (78: systemd does not
  // restart it, RestartPreventExitStatus=) and any other start-up failure a fatal one (1);
  // for a one-shot command either means "could not run" (2).
  const int failure = agent ? 1 : 2;
  const int config_failure = agent ? config::kExitConfigError : 2;
  if (agent && handlers.before_agent) handlers.before_agent();
  config::AgentConfig cfg;
  try {
    cfg = config::resolve_config(cl.flags, env, default_config_file);
    if (handlers.setup_logging) handlers.setup_logging(cfg);
  } catch (const std::exception& e) {
    err << "composewatch: " << one_line(e.what()) << '\n';
    return config_failure;
  }
  try {
    if (agent) return handlers.run_agent(cfg);
    return command->second(cfg, cl, out, err);
  } catch (const config::ConfigError& e) {
    err << "composewatch: " << one_line(e.what()) << '\n';
    return config_failure;
  } catch (const std::exception& e) {
    err << "composewatch: " << one_line(e.what()) << '\n';
  } catch (...) {
    err << "composewatch: unexpected error\n";
  }
  return failure;
}

}  // namespace composewatch::app
