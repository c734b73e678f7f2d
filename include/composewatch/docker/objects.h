#pragma once
// The engine's other objects, for disk usage, prune and diagnose: images, containers as
// listed, volumes, networks, build cache, GET /system/df, image history, GET /info and
// container logs. Pure parsing over the engine's answers; no I/O.
//
// Error policy: every parse_* throws ParseError (container.h) naming the object and the
// field when the text is not what the engine sends (invalid JSON, a missing Id, a field
// of the wrong type). Optional fields may be absent, and the nulls the engine really
// sends (Labels, RepoTags, RepoDigests, UsageData, Mounts, Volumes, BuildCache, ...) read
// as empty. Times are seconds since the epoch. Sizes and counts are 0 to kMaxObjectBytes
// (or -1 where the engine itself says "not computed", as noted per field): a negative or
// larger number is a ParseError, so that no sum of them can overflow or go negative.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/docker/container.h"

namespace composewatch::docker {

// The largest size an object may report: 1 PiB. Sums of a few thousand stay far from
// overflowing std::int64_t.
inline constexpr std::int64_t kMaxObjectBytes = std::int64_t(1) << 50;

// Put by Compose on the volumes it creates for a project's `volumes:`.
inline constexpr std::string_view kLabelComposeVolume = "com.docker.compose.volume";
// Put by newer engines (API >= 1.42) on the volume they make for an unnamed mount.
inline constexpr std::string_view kLabelAnonymousVolume = "com.docker.volume.anonymous";

// One of Mounts in a container listing.
struct Mount {
  std::string type;  // volume, bind, tmpfs, npipe
  std::string name;  // the volume's name; empty for binds
  std::string source;
  std::string destination;
  bool operator==(const Mount&) const = default;
};

// GET /images/json, /system/df Images[], GET /images/{id}/json.
struct ImageSummary {
  std::string id;                         // "sha256:..."
  std::vector<std::string> repo_tags;     // without "<none>:<none>"
  std::vector<std::string> repo_digests;  // without "<none>@<none>"
  double created = 0;  // 0 when the engine does not say (or says the epoch, as reproducible builds do)
  // Metadata.LastTagTime: when a tag was last put on it here (a pull, a build, `docker tag`).
  // Only GET /images/{id}/json has it; nullopt when absent or never tagged.
  std::optional<double> last_tag_time;
  std::int64_t size = 0;          // all layers, shared ones included
  std::int64_t shared_size = -1;  // -1: not computed (only /system/df computes it)
  std::int64_t containers = -1;   // containers using it, stopped ones included; -1: not computed
  std::map<std::string, std::string> labels;
  // Only GET /images/{id}/json has these (the image checks read them); "" and empty elsewhere.
  std::string user;                   // Config.User
  std::vector<std::string> env_keys;  // Config.Env, the names only: the values are never kept

  // No tag (digests do not count): what /images/prune removes without dangling=false.
  bool dangling() const { return repo_tags.empty(); }
};

// GET /containers/json?all=1 (add size=1 for SizeRw), /system/df Containers[].
struct ContainerSummary {
  std::string id;
  std::string name;  // the first of Names, without the leading '/'
  std::string image;
  std::string image_id;
  std::string state;  // created, running, paused, restarting, removing, exited, dead
  double created = 0;
  // State.FinishedAt: only inspect has it (prune reads it for the grace period); nullopt
  // when absent or never finished.
  std::optional<double> finished_at;
  std::int64_t size_rw = -1;  // -1 when absent (the engine also omits it when it is 0)
  std::map<std::string, std::string> labels;
  std::vector<Mount> mounts;
  // NetworkSettings.Networks: names[i] is the key whose NetworkID is ids[i]; an id is empty
  // for a container that has never started.
  std::vector<std::string> network_ids;
  std::vector<std::string> network_names;
};

// GET /volumes, GET /volumes/{name}, /system/df Volumes[].
struct VolumeSummary {
  std::string name;
  std::string driver;
  std::string mountpoint;
  std::optional<double> created_at;
  std::map<std::string, std::string> labels;
  std::int64_t size = -1;       // UsageData.Size: only /system/df computes it; -1 unknown
  std::int64_t ref_count = -1;  // UsageData.RefCount: containers using it; -1 unknown

  // Made by the engine for an unnamed mount: labelled so by newer engines, or (older
  // ones) a 64-hex name that Compose did not create.
  bool anonymous() const;
};

// /system/df BuildCache[].
struct BuildCacheRecord {
  std::string id;
  std::vector<std::string> parents;  // Parents (API >= 1.42), else the one Parent (1.41)
  std::string type;                  // regular, internal, frontend, source.local, source.git.checkout, exec.cachemount
  std::string description;
  bool in_use = false;
  bool shared = false;
  std::int64_t size = 0;
  std::optional<double> created_at;
  std::optional<double> last_used_at;  // null when never used
  std::int64_t usage_count = 0;
};

// GET /system/df as API <= 1.51 sends it (no `type=` filter).
struct SystemDf {
  std::int64_t layers_size = 0;  // every image layer once
  std::vector<ImageSummary> images;
  std::vector<ContainerSummary> containers;
  std::vector<VolumeSummary> volumes;
  std::vector<BuildCacheRecord> build_cache;
};

// One row of `docker system df`: SIZE, RECLAIMABLE, TOTAL, ACTIVE.
struct DiskKindUsage {
  std::int64_t total_bytes = 0;
  std::int64_t reclaimable_bytes = 0;
  std::size_t objects = 0;
  std::size_t active = 0;
  bool operator==(const DiskKindUsage&) const = default;
};

struct DiskSummary {
  DiskKindUsage images, containers, volumes, build_cache;
  bool operator==(const DiskSummary&) const = default;
};

// GET /networks, GET /networks/{id}.
struct NetworkSummary {
  std::string id;
  std::string name;
  std::string driver;
  std::string scope;
  double created = 0;
  std::map<std::string, std::string> labels;
  bool internal = false;
  // Containers attached: only inspect fills Containers; the listing leaves it 0.
  std::size_t attached = 0;
};

// One entry of GET /images/{id}/history, newest layer first.
struct ImageLayer {
  std::string id;  // "<missing>" for layers built elsewhere or by BuildKit
  double created = 0;
  std::string created_by;
  std::int64_t size = 0;
  std::vector<std::string> tags;
};

struct LogLine {
  enum class Stream { stdout_, stderr_ };
  Stream stream = Stream::stdout_;
  std::string text;  // without the line end
  bool operator==(const LogLine&) const = default;
};

// POST /build/prune: the records deleted and the bytes the engine says it freed.
struct BuildPruneAnswer {
  std::vector<std::string> deleted;  // CachesDeleted
  std::int64_t reclaimed = 0;        // SpaceReclaimed
};

std::vector<ImageSummary> parse_images(std::string_view json);          // GET /images/json
ImageSummary parse_image_inspect(std::string_view json);                // GET /images/{id}/json
std::vector<ImageLayer> parse_image_history(std::string_view json);     // GET /images/{id}/history
std::vector<ContainerSummary> parse_containers(std::string_view json);  // GET /containers/json?all=1
std::vector<VolumeSummary> parse_volumes(std::string_view json);        // GET /volumes
VolumeSummary parse_volume(std::string_view json);                      // GET /volumes/{name}
std::vector<NetworkSummary> parse_networks(std::string_view json);      // GET /networks
NetworkSummary parse_network(std::string_view json);                    // GET /networks/{id}
SystemDf parse_system_df(std::string_view json);                        // GET /system/df
BuildPruneAnswer parse_build_prune(std::string_view json);              // POST /build/prune

// The four rows of `docker system df` (docker/cli 28.x), computed as the CLI does from
// the same answer; the exact rules are written next to the code.
DiskSummary summarize(const SystemDf& df);

// The body of GET /containers/{id}/logs?stdout=1&stderr=1. Without a TTY the body is
// frames: an 8-byte header (byte 0 the stream: 0 stdin and 1 stdout read as stdout, 2
// stderr, 3 the engine's own error read as stderr; bytes 4-7 the payload size, big-endian)
// and the payload. Frames do not follow lines: each stream's payloads are joined, then
// split at '\n' ('\r' before it dropped); lines come out in the order they complete, the
// unterminated rests last. A truncated frame or header keeps what arrived. With a TTY the
// body is raw text, all stdout. Throws ParseError for a stream byte above 3 (a TTY body
// read as frames).
std::vector<LogLine> demux_logs(std::string_view body, bool tty);

}  // namespace composewatch::docker
