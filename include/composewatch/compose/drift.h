#pragma once
// Drift: where live containers differ from what their compose file declares. Pure
// functions over the normalised model (compose/model.h) and inspect values; the agent
// calls them at scrape time on a state snapshot, `composewatch check` on a fresh
// inventory. Nothing here talks to the engine.

#include <array>
#include <map>
#include <set>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/model.h"
#include "composewatch/docker/container.h"
#include "composewatch/docker/image_ref.h"

namespace composewatch::compose {

// The `field` label of composewatch_service_drift.
enum class DriftField { image, image_stale, memory_limit, memory_reservation, healthcheck, restart_policy, replicas };
// The fields compared on a file and containers alone; image_stale also needs the engine's
// answer for the tag (CurrentImages), so it is not among them.
inline constexpr std::array<DriftField, 6> kDriftFields = {DriftField::image,           DriftField::memory_limit,
                                                           DriftField::memory_reservation, DriftField::healthcheck,
                                                           DriftField::restart_policy, DriftField::replicas};
std::string_view field_name(DriftField f);


// The engine's defaults for a healthcheck duration or count left at 0.
inline constexpr std::int64_t kDefaultHealthIntervalNs = 30'000'000'000;
inline constexpr std::int64_t kDefaultHealthTimeoutNs = 30'000'000'000;
inline constexpr int kDefaultHealthRetries = 3;

// Image references are the engine's (docker/image_ref.h); drift, prune and disk read them here too.
using docker::ImageRef;
using docker::normalize_image_ref;
using docker::parse_image_ref;

// The image references a service runs, normalised: its `image`, or for a build-only
// service the names Compose gives the built image, `<project>_<service>` (v1) and
// `<project>-<service>` (v2). Empty for a service with neither.
std::vector<std::string> service_image_refs(const std::string& project, const Service& service);

// Per-field comparisons. Each returns nullopt when the container matches the
// declaration, else a one-line account of the difference (never an environment value: a
// healthcheck's tests are shown through its mask, mask.h).
//
// Image: the declared `image`, or for a build-only service the name Compose gives the
// built image, `<project>_<service>` (v1) or `<project>-<service>` (v2).
std::optional<std::string> image_drift(const std::string& project, const Service& service,
                                       const std::string& live_image);
// Memory limit or reservation: nullopt declared ↔ 0 live.
std::optional<std::string> memory_drift(std::optional<std::int64_t> declared, std::int64_t live);
// A service without `healthcheck:` inherits the image's, which the file does not state:
// it is not compared. A disabled one matches no healthcheck or test ["NONE"]. Unset
// durations and retries compare as the engine's defaults, as do the container's zeros;
// start_interval only where the engine reports it (API 1.44+).
std::optional<std::string> healthcheck_drift(const std::optional<Healthcheck>& declared,
                                             const std::optional<docker::HealthcheckConfig>& live);
// `restart` (else deploy.restart_policy, else "no") against HostConfig.RestartPolicy;
// "no" matches "" and "no"; on-failure compares the retry count too.
std::optional<std::string> restart_drift(const Service& service, const docker::RestartPolicy& live);
// The restart policy the engine should hold for `service`.
docker::RestartPolicy declared_restart_policy(const Service& service);

struct FieldDrift {
  DriftField field;
  std::string container;  // empty for replicas
  std::string detail;
};

// image_stale evidence for one container: the image it runs and the one its tag names now.
struct StaleImage {
  std::string container;
  std::string image;  // the tag, as the container names it (Config.Image)
  std::string running_image_id, current_image_id;
  FieldDrift drift() const;  // its line among a service's details
};

// The label Compose v2 writes with the id of the image a container was created from.
inline constexpr std::string_view kLabelImage = "com.docker.compose.image";

// What the engine answers today for an image reference (GET /images/{ref}/json), by the
// reference as containers name it (Config.Image). A reference the engine does not know
// (removed, never pulled) is absent.
using CurrentImages = std::map<std::string, std::string>;

// The image a container was created from: Compose v2's com.docker.compose.image label,
// else the engine's Image id of the container.
std::string running_image_id(const docker::LiveContainer& container);

// image_stale: the tag the container was created from (Config.Image) now names another
// image than the one it runs — pulled or rebuilt, not applied with `up`. nullopt when
// they agree, when the tag is unknown to `current`, when the container names its image
// by id, or when it is not running (up re-creates a stopped one anyway). A container whose image differs from the file's is `image` drift, not this.
std::optional<StaleImage> image_stale_drift(const docker::LiveContainer& container, const CurrentImages& current);

// How a service with no running container ended, from its containers' last exits.
enum class Completion {
  none,       // running, never run, or ended otherwise (a failure, a stop under `always`)
  completed,  // a one-shot that ran to completion: every container exited 0, under
              // restart "no"/on-failure, or waited on with service_completed_successfully
  gave_up,    // restart on-failure:N with its N retries used, the last exit non-zero
};
// `waited_on`: another service depends on this one with service_completed_successfully.
Completion service_completion(const Service& service, const std::vector<const docker::LiveContainer*>& containers,
                              bool waited_on);
// One line on how the service ended, naming the container, its exit code and restarts;
// empty for Completion::none.
std::string completion_detail(Completion completion, const std::vector<const docker::LiveContainer*>& containers);
// The services of `project` that others wait on with service_completed_successfully.
std::set<std::string> waited_on_services(const Project& project);

// Every configuration field (all but replicas) of one container against its service,
// except the fields the service's model does not know (Service::unknown).
std::vector<FieldDrift> container_drift(const std::string& project, const Service& service,
                                        const docker::LiveContainer& container);

// A field not compared because its declared value depends on variables that had no
// value where the project was loaded (the agent's environment is not the deployer's).
struct UnknownField {
  DriftField field;
  std::vector<std::string> variables;
};
// The drift fields of `service` that are unknown, in kDriftFields order.
std::vector<UnknownField> unknown_fields(const Service& service);

struct ServiceDrift {
  std::string service;
  SourceLocation location;
  int desired = 0;  // replicas when the service is active, else 0
  int running = 0;  // its non-one-off containers in state running
  std::optional<std::int64_t> memory_limit_bytes;  // as declared
  // Whether each field differs. Configuration fields are present only when the service
  // has containers to compare; replicas always. Unknown fields are never present.
  std::vector<std::pair<DriftField, bool>> fields;
  std::vector<UnknownField> unknown;  // of an active service; none of them is in `fields`
  std::vector<FieldDrift> details;  // what differs, per container
  std::vector<StaleImage> stale_images;      // image_stale's evidence, per running container
  Completion completion = Completion::none;  // a completed one has no replicas drift
  std::string completion_detail;             // completion_detail(completion, its containers)
};

struct Orphan {
  std::string service, container;
};

struct ProjectDrift {
  std::vector<ServiceDrift> services;  // by service name
  std::vector<Orphan> orphans;         // by container name
};

struct DriftOptions {
  // False for a project known only from container labels: the profiles it was started
  // with are unknown, so a profile-gated service that has containers counts as enabled.
  bool profiles_known = true;
  // The engine's current image per tag: image_stale is compared (and reported) only with it.
  const CurrentImages* current_images = nullptr;
};

// The project's services against `containers` (any list; only those labelled with the
// project's name are read). Active services are always reported; profile-disabled ones
// only when they have containers. Containers of services the file does not declare at
// all are orphans.
ProjectDrift compare_project(const Project& project, const std::vector<docker::LiveContainer>& containers,
                             DriftOptions options = {});


}  // namespace composewatch::compose
