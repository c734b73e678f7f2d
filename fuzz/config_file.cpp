// The agent's YAML config file: a config, or ConfigError "FILE:LINE: key: reason".

#include "composewatch/config/config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cfg = composewatch::config;
  try {
    (void)cfg::parse_config_text(std::string(composewatch::fuzz::as_text(data, size)),
                                 "/etc/composewatch/config.yml");
  } catch (const cfg::ConfigError&) {
  }
  return 0;
}
