#pragma once
// What the agent knows of the host's disk: the last answer of GET /system/df (slow: it
// walks every layer and volume, so it runs on its own schedule, never per scrape) and the
// Docker root dir whose filesystem is read at every scrape. Plain data, published in the
// state model's snapshots by jobs::DiskCollector.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "composewatch/docker/objects.h"

namespace composewatch::disk {

struct DiskReport {
  std::string docker_root_dir;                 // GET /info DockerRootDir; empty until known, or when remote
  std::shared_ptr<const docker::SystemDf> df;  // the last /system/df that answered; null until one did
  docker::DiskSummary summary;                 // of `df`, as `docker system df` computes it
  double df_taken_at = 0;                      // when `df` was answered, seconds since the epoch
  double df_seconds = 0;                       // how long that call took
  bool last_ok = false;                        // the latest attempt answered within disk.timeout
  std::string last_error;                      // why it did not
};

struct FilesystemUsage {
  std::uint64_t size_bytes = 0;
  std::uint64_t avail_bytes = 0;  // to unprivileged users (statvfs f_bavail), as df shows
  double free_percent() const { return size_bytes ? 100.0 * double(avail_bytes) / double(size_bytes) : 0; }
};

// statvfs on `path`; nullopt when it cannot be read (not mounted into the agent's
// namespace, permissions).
std::optional<FilesystemUsage> filesystem_usage(const std::string& path);

}  // namespace composewatch::disk
