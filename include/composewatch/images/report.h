#pragma once
// What the image checker publishes in the state model's snapshots (and what `check` and
// `diagnose` print): per Compose service, its build checks (when it builds from a context
// on the host), its running image (when it runs) and every finding of both.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "composewatch/images/build_checks.h"
#include "composewatch/images/image_checks.h"

namespace composewatch::compose {
struct ProjectState;  // compose/discovery.h
}  // namespace composewatch::compose

namespace composewatch::images {

// A running service and the one container of it that is inspected.
struct RunningService {
  std::string project, service;
  std::string container_id, container_name;
  std::string image;  // as the container was created with it
};

struct ServiceReport {
  std::string project, service;
  std::optional<BuildReport> build;
  std::optional<ServiceImage> image;
  std::string image_error;  // why the running image could not be read
  std::vector<Finding> findings;  // build findings, then image findings
};

struct ImageReport {
  std::vector<ServiceReport> services;  // by project, then service
  double checked_at = 0;                // seconds since the epoch; 0 before the first check
  bool last_ok = true;                  // the last check reached the engine
  std::string last_error;
  // What the tags running containers were created from name on the engine now, by tag
  // (image_stale drift): from the last check that reached the engine.
  std::map<std::string, std::string> current_images;
};

// The build reports of the services of `projects` (their last good models) whose build
// context is on the host. Reads files (bounded); never throws.
std::vector<ServiceReport> check_builds(const std::vector<compose::ProjectState>& projects,
                                        const BuildOptions& options = {});

// The services of `reports` with `project`'s name.
std::vector<const ServiceReport*> services_of(const std::vector<ServiceReport>& reports, const std::string& project);

}  // namespace composewatch::images
