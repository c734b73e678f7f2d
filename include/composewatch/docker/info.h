#pragma once
// GET /info: what the engine says about itself that the agent needs. Pure parsing.

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

}  // namespace composewatch::docker
