#pragma once
// A configuration the agent cannot start with: a flag, the config file, the web config
// or a file it names (certificate, key, client CA) that is missing, unreadable or
// invalid. `composewatch run` exits with kExitConfigError for it, which the unit lists in
// RestartPreventExitStatus=: restarting cannot fix a file only the administrator can.

#include <stdexcept>
#include <string>

namespace composewatch::config {

// EX_CONFIG of sysexits.h, as systemd's own tools use it.
inline constexpr int kExitConfigError = 78;

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace composewatch::config
