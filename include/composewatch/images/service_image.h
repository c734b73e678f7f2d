#pragma once
// The steps the image checker job, `check` and `diagnose` share: which services run, what
// their images are (inspected through the engine client), and the per-service report.

#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <vector>

#include "composewatch/engine/client.h"
#include "composewatch/images/report.h"
#include "composewatch/state/model.h"

namespace composewatch::images {

// The running, non-one-off Compose containers of a snapshot, one per service (the first by
// name), by project and service.
std::vector<RunningService> running_services(const std::vector<state::ContainerRecord>& containers);

// What is read once per image id.
struct ImageFacts {
  docker::ImageSummary config;
  std::vector<docker::ImageLayer> largest_layers;
};
using ImageCache = std::map<std::string, ImageFacts>;

// Inspects `svc`'s container and its image (config and history, from `cache` when there),
// through `client`. Throws engine::EngineError or docker::ParseError.
boost::asio::awaitable<ServiceImage> inspect_service_image(engine::Client& client, const RunningService& svc,
                                                           ImageCache& cache, std::size_t layers = 3);

// The references running Compose containers were created from (Config.Image), each once:
// the tags image_stale drift asks the engine about.
std::vector<std::string> running_image_refs(const std::vector<docker::LiveContainer>& containers);

// What each of `refs` names on the engine now (GET /images/{ref}/json), by reference; a
// reference the engine does not know is left out. Asks the engine only, never a registry.
// Throws engine::EngineError when the engine fails (not for an unknown reference).
boost::asio::awaitable<std::map<std::string, std::string>> resolve_image_refs(engine::Client& client,
                                                                              const std::vector<std::string>& refs);

// Joins build reports and running images into one report per service (by project and
// service) and fills each one's findings: build findings, then image findings.
std::vector<ServiceReport> join_reports(std::vector<ServiceReport> builds, std::vector<ServiceReport> images,
                                        const GrowthRule& growth = {});

}  // namespace composewatch::images
