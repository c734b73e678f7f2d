// composewatch: parse the command line, set up logging, run the command. Everything but
// the wiring lives in the library (app::run_command_line), where it is tested.

#include <iostream>
#include <string>
#include <vector>

#include "composewatch/app/cli.h"

int main(int argc, char** argv) {
  namespace cw = composewatch;
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return cw::app::run_command_line(args, cw::config::Environment::from_process(), std::cout, std::cerr,
                                   cw::app::default_handlers());
}
