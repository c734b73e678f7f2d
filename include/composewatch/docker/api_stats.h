#pragma once
// The Engine API fallback: GET /containers/{id}/stats?stream=false&one-shot=true
// (API >= 1.41) turned into the same ResourceStats the cgroup reader gives. Pure parsing.

#include <optional>
#include <string_view>

#include "composewatch/docker/stats.h"

namespace composewatch::docker {

// The engine reports memory_stats.limit as the host's memory when the container is
// unlimited, so the limit is left absent here: the caller takes HostConfig.Memory.
// Network figures are absent for network_mode "host" and "container:<x>", 0 when the
// container has no interface but lo. nullopt on malformed JSON or an answer without
// memory_stats (a container that is not running).
std::optional<ResourceStats> parse_api_stats(std::string_view json, std::string_view network_mode);

}  // namespace composewatch::docker
