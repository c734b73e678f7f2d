// composewatch: parse the command line, set up logging, run the command. Everything but
// the wiring lives in the library (config::run_command_line), where it is tested.

#include <iostream>
#include <string>
#include <vector>

#include "composewatch/app/commands.h"
#include "composewatch/config/cli.h"
#include "composewatch/log/log.h"

int main(int argc, char** argv) {
  namespace cw = composewatch;
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  const cw::config::CommandHandlers handlers{
      .setup_logging = [](const cw::config::AgentConfig& cfg) {
        cw::log::setup(cfg.log_level, cfg.log_format);
      },
      .run_agent = cw::app::run_agent,
      .run_status = cw::app::run_status,
  };
  return cw::config::run_command_line(args, cw::config::Environment::from_process(), std::cout,
                                      std::cerr, handlers);
}
