#pragma once
// diagnose's report as aligned text or as one JSON object (the keys: command.h). Pure.

#include <iosfwd>
#include <string>
#include <string_view>

#include "composewatch/commands/diagnose/report.h"

namespace composewatch::commands {

// ---------------------------------------------------------------------- rendering

// "1.5GiB", "300KiB", "0B": one decimal below 100 of a unit, none from 100 up.
// "2025-01-02T03:04:05Z"
std::string rfc3339(double epoch_seconds);
// A log line for a terminal: ANSI escape sequences removed, other control characters and
// invalid UTF-8 bytes written as \xNN, tabs as one space.
std::string terminal_safe(std::string_view line);

void render_text(const DiagnoseReport& report, std::ostream& out);
void render_json(const DiagnoseReport& report, std::ostream& out);  // one line, then '\n'

}  // namespace composewatch::commands
