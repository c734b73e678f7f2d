#pragma once
// The commands behind the CLI. Each returns the process exit code of the contract.

#include <iosfwd>
#include <string>

#include "composewatch/config/config.h"

namespace composewatch::app {

// The agent in the foreground until SIGTERM/SIGINT. 0 on a clean stop; throws
// std::runtime_error with a one-line reason on a fatal start-up error.
int run_agent(const config::AgentConfig& cfg);
// Blocks SIGINT, SIGTERM and SIGHUP on the calling thread until run_agent() has installed
// its handlers, so that none of them kills the agent while it starts (called by the CLI as
// soon as it knows the command is `run`). The threads it starts inherit the mask.
void hold_agent_signals();


}  // namespace composewatch::app
