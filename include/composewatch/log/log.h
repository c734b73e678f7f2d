#pragma once
// Logging set-up: spdlog to stderr in logfmt or JSON, as Prometheus exporters do.

#include <string>

namespace composewatch::log {

// level: debug | info | warn | error; format: logfmt | json. Throws std::invalid_argument
// naming the bad value.
void setup(const std::string& level, const std::string& format);

}  // namespace composewatch::log
