#pragma once
// `composewatch healthcheck [flags of run]`: asks the agent running on this machine for
// /healthz, at the address the same flags and config file give it, so that a container
// image needs nothing but the binary for its HEALTHCHECK. An agent listening on every
// interface is asked on loopback. With a web config file (TLS, basic auth) the probe holds
// no credentials: it checks only that the agent accepts connections.
// Exit codes: 0 healthy, 1 not (the reason on `err`).

#include <iosfwd>

#include "composewatch/config/config.h"

namespace composewatch::commands {

int run_healthcheck(const config::AgentConfig& cfg, std::ostream& out, std::ostream& err);

}  // namespace composewatch::commands
