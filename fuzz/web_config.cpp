// --web.config.file (exporter-toolkit format): a config, or "FILE:LINE: key: reason".

#include <stdexcept>

#include "http/web_config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)composewatch::http::parse_web_config(std::string(composewatch::fuzz::as_text(data, size)),
                                               "web.yml", "/etc/composewatch");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
