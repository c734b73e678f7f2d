#pragma once
// The image and build checklist for the one-shot commands (check, diagnose): the build
// checks of the loaded projects and the image checks of the running services, asked of
// the engine now under the one-shot deadlines (images/service_image.h has the steps).

#include <map>
#include <string>
#include <vector>

#include "composewatch/compose/discovery.h"
#include "composewatch/config/config.h"
#include "composewatch/docker/container.h"
#include "composewatch/images/report.h"

namespace composewatch::commands {

struct HostImageReport {
  std::vector<images::ServiceReport> services;  // by project, then service
  std::string error;  // why the running images were not checked (the build checks still were)
  // What the running containers' tags name on the engine now (image_stale drift); empty
  // when the engine did not answer.
  std::map<std::string, std::string> current_images;
};

// The running, non-one-off Compose containers of `containers`, one per service.
std::vector<images::RunningService> running_services(const std::vector<docker::ContainerInfo>& containers);

// What the tags the running Compose containers of `containers` were created from name on
// the engine now (image_stale drift). Never throws: empty when the engine does not answer.
std::map<std::string, std::string> current_images(const config::AgentConfig& cfg,
                                                  const std::vector<docker::LiveContainer>& containers);

// Never throws: an engine that does not answer leaves `error` set and the image part out.
HostImageReport host_image_report(const config::AgentConfig& cfg, const std::vector<compose::ProjectState>& projects,
                                  const std::vector<docker::ContainerInfo>& containers);

}  // namespace composewatch::commands
