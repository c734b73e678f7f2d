#pragma once

namespace composewatch {
// Set at build time (cmake/build_info.cpp.in).
extern const char* const kVersion;
extern const char* const kRevision;
}  // namespace composewatch
