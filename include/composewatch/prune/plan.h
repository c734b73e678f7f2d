#pragma once
// Prune decisions: which engine objects a policy would delete now, and which it must not
// touch, and why. Pure functions over a snapshot of the engine (Inventory) and of what the
// host's Compose files reference (ComposeKnowledge); nothing here talks to the engine.
// prune/executor.h carries a plan out; the guardrails of Guard are checked again there, on
// each object as the engine reports it right before its deletion.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/discovery.h"
#include "composewatch/config/config.h"
#include "composewatch/docker/container.h"
#include "composewatch/docker/objects.h"

namespace composewatch::prune {

// What a policy deletes; the `kind` label of the prune metrics.
enum class Kind { images, containers, volumes, networks, build_cache };
std::string_view kind_name(Kind k);
// The config file's `target:` ("images", "containers", "volumes", "networks",
// "build_cache"); throws std::invalid_argument for anything else.
Kind target_kind(std::string_view target);

// Objects labelled so are never pruned, whatever a policy says.
inline constexpr std::string_view kKeepLabel = "composewatch.keep";

// The engine as a plan sees it: GET /system/df (images with their shared sizes and
// container counts, every container with its mounts and networks, volumes with sizes and
// reference counts, build cache records) and GET /networks; for images that may be
// candidates, Metadata.LastTagTime from their inspect.
struct Inventory {
  docker::SystemDf df;
  std::vector<docker::NetworkSummary> networks;
  // When the agent last saw each image in use (a container of it created, started, dying
  // or removed) or named by an image event (pull, tag, load, import), seconds since the
  // epoch, by image id or normalised reference (state/model.h keeps it, the state file
  // across restarts). Part of an image's age: a reproducible build's Created says nothing
  // of when it arrived here.
  std::map<std::string, double> image_last_seen;
};

// What the host's known Compose files reference: the images their services run and the
// services they declare, including projects that are down and profile-disabled services.
// A project whose files do not load, or a service whose image's repository depends on a
// variable the agent lacks, makes what they reference unknown: then `blockers` says why,
// and policies on images and containers refuse to run (they fail closed).
struct ComposeKnowledge {
  struct Project {
    bool loaded = false;             // its latest load succeeded
    std::set<std::string> services;  // declared, active or not
    std::string files;               // for messages
    std::string error;               // why it could not be loaded, when !loaded
  };
  // Who names what, for messages: "service S of compose project P (file:line)".
  std::map<std::string, std::string> images;        // normalised "repository:tag"
  std::map<std::string, std::string> digests;       // "sha256:…" a service pins (image: x@sha256:… or x:t@sha256:…)
  std::map<std::string, std::string> repositories;  // normalised repository whose tag a variable decides (app:${TAG})
  std::map<std::string, Project> projects;          // by name
  // Why images and containers cannot be pruned now ("compose project shop: its files do
  // not load (docker-compose.yml:3: …)"); empty when everything referenced is known.
  std::vector<std::string> blockers;

  static ComposeKnowledge from(const std::vector<compose::ProjectState>& projects);
  // Before the compose projects were loaded once: nothing is known.
  static ComposeKnowledge not_loaded_yet();
};

// The guardrails, in one place, for every target. Each check returns why the object must
// not be deleted, or nullopt when this guard allows it (the policy still decides whether
// it is a candidate). They hold whatever the policy says:
//   - never an object labelled composewatch.keep=true or matching a protect label;
//   - never an image a container uses (any state) or a known compose file names: by tag,
//     by digest (RepoDigests), or any image of a repository whose tag a variable decides;
//   - never a container that is not stopped, nor one of a service a known compose file
//     declares (nor of a compose project whose files are unknown);
//   - never a named volume, nor a volume any container references;
//   - never a built-in, attached or referenced network, nor one of a known compose project;
//   - never build cache in use or shared with an image.
// What the guard reads of a container, its labels and state, from a listing or /system/df
// (ContainerSummary) or from the executor's inspect right before a deletion (ContainerInfo):
// a view of either, never a copy of one into the other.
struct ContainerView {
  const std::map<std::string, std::string>& labels;
  const std::string& state;
  ContainerView(const docker::ContainerSummary& c) : labels(c.labels), state(c.state) {}  // NOLINT: implicit
  ContainerView(const docker::ContainerInfo& c) : labels(c.spec.labels), state(c.state) {}  // NOLINT: implicit
};

class Guard {
 public:
  Guard(const Inventory& inventory, const ComposeKnowledge& compose, const config::PrunePolicyConfig& policy);

  std::optional<std::string> image(const docker::ImageSummary& img) const;
  std::optional<std::string> container(ContainerView c) const;
  std::optional<std::string> volume(const docker::VolumeSummary& v) const;
  std::optional<std::string> network(const docker::NetworkSummary& n) const;
  std::optional<std::string> build_cache(const docker::BuildCacheRecord& r) const;

 private:
  std::optional<std::string> labels(const std::map<std::string, std::string>& labels) const;

  // Not owned: the caller keeps all three alive for as long as the guard (a run owns
  // its own copies, so that a reload never frees them under it).
  const Inventory& inventory_;
  const ComposeKnowledge& compose_;
  const config::PrunePolicyConfig& policy_;
};

// An image's age for the grace period, from the latest of its Created (unless 0: unknown,
// or the epoch of a reproducible build), its LastTagTime and when the agent last saw it
// used or named; nullopt when none of them is known.
std::optional<double> image_since(const docker::ImageSummary& img, const Inventory& inventory);

// One object of a plan.
struct Entry {
  Kind kind = Kind::images;
  std::string id;    // what the engine deletes by: image/container/network id, volume name, cache record id
  std::string name;  // for people: tags, container/volume/network name, cache description
  std::vector<std::string> tags;     // images: each repository tag (deleted one by one when several)
  std::vector<std::string> parents;  // build cache: the records this one builds on
  std::int64_t size = 0;          // what deleting it frees, as planned (images: their unique size)
  std::optional<double> age_seconds;  // since created, or last used for build cache
  std::string reason;  // candidates: why it is one; kept: why it is not
};

struct PrunePlan {
  std::string policy;
  Kind kind = Kind::images;
  // Non-empty when the policy cannot run at all (it fails closed); then no candidates.
  std::string refused;
  // In deletion order: oldest first, but build cache records before the records they
  // build on (the engine keeps a record while another refers to it).
  std::vector<Entry> candidates;
  std::vector<Entry> kept;        // what the policy looked at and will not delete, with why

  std::int64_t candidate_bytes() const;
};

// The plan of `policy` now (seconds since the epoch) over `inventory`. The policy's grace
// (older_than), image mode, keep_storage and brakes (max_objects, max_bytes) decide among
// what the guard allows.
PrunePlan make_plan(const config::PrunePolicyConfig& policy, const Inventory& inventory,
                    const ComposeKnowledge& compose, double now);

// a + b for sizes, negative ones read as 0, saturating at the largest std::int64_t.
std::int64_t add_bytes(std::int64_t a, std::int64_t b);

// "3 days", "5 hours", "12 minutes".
std::string format_age(double seconds);

}  // namespace composewatch::prune
