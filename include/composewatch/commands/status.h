#pragma once

#include <iosfwd>
#include <string>

#include "composewatch/config/config.h"

namespace composewatch::commands {

// One-shot table of the host's containers. format: "text" | "json". 0, or 2 when the
// engine is unreachable (the reason on `err`).
int run_status(const config::AgentConfig& cfg, const std::string& format, std::ostream& out, std::ostream& err);

}  // namespace composewatch::commands
