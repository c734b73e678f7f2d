#pragma once
// What the one-shot commands (check, prune, diagnose, status) learn of the host: its
// containers, inspected, and the Compose projects known from the config file and from the
// containers' labels. Each call connects anew; nothing is cached.

#include <vector>

#include "composewatch/compose/discovery.h"
#include "composewatch/config/config.h"
#include "composewatch/docker/container.h"
#include "composewatch/docker/objects.h"

namespace composewatch::commands {

// Every container, inspected. Throws engine::EngineError when the engine cannot be listed.
std::vector<docker::ContainerInfo> inspect_containers(const config::AgentConfig& cfg);

// compose.projects of the config file, then the projects named by the labels of `live`,
// each loaded (and linted) now. Never throws for bad files: a project that cannot be
// loaded is invalid with the reason.
std::vector<compose::ProjectState> known_projects(const config::AgentConfig& cfg,
                                                  const std::vector<docker::LiveContainer>& live);

// GET /system/df under disk.timeout. Throws engine::EngineError or docker::ParseError.
docker::SystemDf system_df(const config::AgentConfig& cfg);

std::vector<docker::LiveContainer> live_containers(const std::vector<docker::ContainerInfo>& infos);

}  // namespace composewatch::commands
