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
// GET /info, read once for everyone who needs it.
struct EngineInfo {
  std::string docker_root_dir;  // DockerRootDir; empty when missing
  EngineCgroupInfo cgroup;
};
// Missing fields stay empty; throws ParseError ("info: …") on malformed JSON or a value of
// the wrong type.
EngineInfo parse_info(std::string_view json);

// The cgroup part of parse_info; malformed JSON gives an all-empty result (the stats
// source is then chosen from the mounted hierarchies alone).
EngineCgroupInfo parse_engine_info(std::string_view json);
// DockerRootDir of parse_info; throws ParseError when it is missing or empty.
std::string parse_docker_root_dir(std::string_view json);

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
