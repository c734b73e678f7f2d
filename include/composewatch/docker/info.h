#pragma once
// GET /info: what the engine says about itself that the agent needs. Pure parsing.

#include <optional>
#include <string>
#include <string_view>

namespace composewatch::docker {

// What GET /info says about the engine's cgroups.
struct EngineCgroupInfo {
  std::string driver;   // CgroupDriver: "cgroupfs", "systemd", "none"; empty when unknown
  std::string version;  // CgroupVersion: "1", "2"; empty when unknown (API < 1.40)
  bool rootless = false;  // SecurityOptions has "name=rootless"
};
// Parses GET /info. Missing fields stay empty; malformed JSON gives an all-empty result.
EngineCgroupInfo parse_engine_info(std::string_view json);

// GET /version.
struct VersionInfo {
  std::string version;      // "20.10.24+dfsg1"
  std::string api_version;  // the engine's own ("1.41")
};
// Missing fields stay empty; throws ParseError ("version: invalid JSON: …") on malformed JSON.
VersionInfo parse_version(std::string_view json);

// An error answer, {"message": "..."}: the message; nullopt when the body is not that.
std::optional<std::string> parse_error_message(std::string_view body);

}  // namespace composewatch::docker
