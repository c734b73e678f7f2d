#pragma once
// --stats.source: where container resources come from. Decided once at start.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "composewatch/cgroup/reader.h"

namespace composewatch::cgroup {

struct SourceChoice {
  std::shared_ptr<const Reader> reader;  // null: the Engine API
  std::string reason;                    // for the start-up log line
};

// setting "api": the API. "cgroup": a reader, or std::runtime_error saying why the
// cgroups cannot be read (also over tcp://: the user says the engine is on this host, as
// behind a socket proxy). "auto": a reader when the engine is on this host
// (engine_is_local), not rootless, and its cgroups are readable; else the API.
// `info` is GET /info's answer, nullopt when the engine did not answer (the driver is
// then guessed from the tree). `procfs` is where the host's /proc is (--path.procfs).
// Reads /proc/self/mountinfo.
SourceChoice choose_stats_source(std::string_view setting, bool engine_is_local,
                                 const std::optional<docker::EngineCgroupInfo>& info, const std::string& procfs = "/proc");

}  // namespace composewatch::cgroup
