#pragma once
// The image checks of a running Compose service, over what the engine reports of its
// container and image (docs/images.md), as docker/ parses them. Pure deciding.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/docker/objects.h"
#include "composewatch/images/checks.h"

namespace composewatch::images {

// Empty, "0", "root", "0:…" or "root:…": the process runs as root.
bool is_root_user(std::string_view user);

// A service's image as last seen, for growth.
struct PreviousImage {
  std::string id;
  std::int64_t size = 0;
};

struct GrowthRule {
  // image-grew fires when the new image is larger by both of these.
  std::int64_t min_bytes = std::int64_t(20) << 20;
  double min_ratio = 0.10;
};

// What is known of one running service's image.
struct ServiceImage {
  std::string project, service;
  std::string container;  // the container inspected (name)
  std::string image;      // the reference it runs (Config.Image)
  docker::ImageSummary config;  // GET /images/{id}/json
  bool has_container_user = false;  // the container was inspected; then its user counts
  std::string container_user;
  std::vector<docker::ImageLayer> largest_layers;  // largest first, created_by shortened
  std::optional<PreviousImage> previous;           // the service's image before this one
};

std::vector<Finding> check_image(const ServiceImage& img, const GrowthRule& rule = {});

// The `n` largest layers (size > 0) of a history, largest first, with created_by on one
// line, the shell prefix dropped and cut to `columns`.
std::vector<docker::ImageLayer> largest_layers(std::vector<docker::ImageLayer> history, std::size_t n,
                                               std::size_t columns = 80);

}  // namespace composewatch::images
