#pragma once
// Volume findings and per-service image sizes: pure functions over a /system/df answer
// and the Compose projects, read by the disk metrics, `check` and `diagnose`.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "composewatch/compose/discovery.h"
#include "composewatch/docker/objects.h"

namespace composewatch::disk {

struct VolumeFinding {
  std::string project, volume;
  std::string check;   // dead-volume | orphan-volume: the `check` label
  std::string detail;  // what was seen, one line
  std::string why, fix;
};

struct VolumeFindingOptions {
  // How long a running container must have mounted a volume that stays empty.
  std::chrono::seconds dead_after{3600};
};

// - dead-volume: a volume of a Compose project (labelled com.docker.compose.project) that
//   is 0 bytes while a running container has mounted it for at least dead_after: the image
//   never writes to that path (a wrong mount target, or data kept in the container).
// - orphan-volume: a volume labelled with a Compose project whose loaded files no longer
//   declare it (removing it from the file does not delete it). Only projects with a model
//   (the last good one when the files are broken) are compared.
// `started_at`: the start time (seconds since the epoch) of running containers, by full
// id; a container missing from it is not counted as mounted for long. Sorted by project,
// volume, check.
std::vector<VolumeFinding> volume_findings(const docker::SystemDf& df, const std::map<std::string, double>& started_at,
                                           const std::vector<compose::ProjectState>& projects, double now,
                                           VolumeFindingOptions options = {});

struct ServiceImage {
  std::string project, service;
  std::string image;  // as the service or its container names it
  std::int64_t size_bytes = 0;
};

// The image size of each Compose service: the image of its containers (by image id), or
// for a declared service without containers the local image its `image:` names (build-only
// services: the name Compose gives the built image). Services whose image is not on the
// host are left out. Sorted by project, service.
std::vector<ServiceImage> service_images(const docker::SystemDf& df, const std::vector<compose::ProjectState>& projects);

// The check ids of volume findings, with why and fix.
struct VolumeCheck {
  std::string id, why, fix;
};
const std::vector<VolumeCheck>& volume_checks();

}  // namespace composewatch::disk
