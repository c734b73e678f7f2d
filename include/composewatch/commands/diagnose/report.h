#pragma once
// diagnose's pure part: the rules, the facts gathered from the host (command.h) and the
// report built from them, with its next steps. No I/O.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/discovery.h"
#include "composewatch/disk/findings.h"
#include "composewatch/disk/report.h"
#include "composewatch/docker/container.h"
#include "composewatch/docker/objects.h"
#include "composewatch/images/report.h"

namespace composewatch::commands {

// ---------------------------------------------------------------------- the rules

struct DiagnoseRules {
  std::size_t largest_images = 10;
  std::size_t layers_per_image = 3;
  std::size_t largest_volumes = 5;                     // unreferenced volumes listed by name
  int restart_loop_count = 3;                          // RestartCount at or above this is a restart loop
  double immediate_exit_seconds = 10;                  // exited non-zero within this long of its start
  double low_free_percent = 10;                        // the Docker filesystem warning
  std::int64_t reclaim_bytes = std::int64_t(1) << 30;  // suggest a prune dry run above this...
  double reclaim_percent = 10;                         // ...or above this share of the filesystem
  std::size_t created_by_columns = 80;                 // a layer's command, shortened to one line
};

// Why a container is listed, in the order of precedence: the first is its rule.
enum class Trouble { oom_killed, restart_loop, immediate_exit };
std::string_view trouble_name(Trouble t);  // "oom_killed", "restart_loop", "immediate_exit"

// Every rule `c` matches, in precedence order; empty when it is not troubled.
//   oom_killed      State.OOMKilled, or the cgroup's oom_kill counter > 0
//   restart_loop    state "restarting", or RestartCount >= rules.restart_loop_count
//   immediate_exit  not running and exited non-zero within rules.immediate_exit_seconds of
//                   its start, or an exit code != 0 with State.Error set (it never started)
std::vector<Trouble> troubles(const docker::ContainerInfo& c, std::optional<std::uint64_t> cgroup_oom_kills,
                              const DiagnoseRules& rules = {});

// The images of `df` by size, largest first (ties by id), at most `n`.
std::vector<const docker::ImageSummary*> largest_images(const docker::SystemDf& df, std::size_t n);

// A layer's command on one line: whitespace runs collapsed, the shell prefix and BuildKit's
// "# buildkit" dropped ("RUN apt-get …"), cut to `columns` with "…"; "(no command recorded)"
// when empty (imported layers).
std::string short_created_by(std::string_view created_by, std::size_t columns);

// The largest `n` layers of a history (size > 0 only), largest first; among equal sizes
// the newest first.
std::vector<docker::ImageLayer> largest_layers(const std::vector<docker::ImageLayer>& history, std::size_t n);

// ---------------------------------------------------------------------- the facts

// Why the engine did not answer, as far as the next steps care.
enum class EngineProblem { none, unreachable, permission_denied, timeout, other };

// What gather_host_facts learned. An `error` beside a value says why the value is absent.
struct HostFacts {
  double now = 0;  // seconds since the epoch
  std::string docker_host;
  bool engine_is_local = true;  // a unix socket: the root dir's filesystem and cgroups are this host's
  bool prune_policies_configured = false;
  bool image_or_container_policies = false;  // policies whose target is images or containers

  EngineProblem engine_problem = EngineProblem::none;
  std::string engine_error;  // why the engine did not answer at all
  std::string version, api_version;

  std::string docker_root_dir;  // GET /info; empty when unknown
  std::string info_error;

  std::optional<docker::SystemDf> df;  // GET /system/df
  std::string df_error;

  std::string filesystem_path;  // statvfs'd: the root dir, or /var/lib/docker when unknown
  std::optional<disk::FilesystemUsage> filesystem;
  std::string filesystem_error;

  std::map<std::string, std::vector<docker::ImageLayer>> history;  // by image id
  std::map<std::string, std::string> history_error;                // by image id

  std::optional<std::vector<docker::ContainerInfo>> containers;  // inspect_all
  std::string containers_error;
  std::map<std::string, std::uint64_t> cgroup_oom_kills;  // by container id, where read
  std::string cgroup_error;                               // why none were read

  std::map<std::string, std::vector<docker::LogLine>> logs;  // by container id
  std::map<std::string, std::string> logs_error;             // by container id

  std::optional<std::vector<compose::ProjectState>> projects;  // known_projects
  std::string projects_error;

  // The image and build checklist (app/image_report.h): build checks of the loaded
  // projects, image checks of the running services.
  std::vector<images::ServiceReport> image_checks;
  std::string image_checks_error;  // why the running images were not checked
};

// ---------------------------------------------------------------------- the report

struct EngineSection {
  bool reachable = false;
  EngineProblem problem = EngineProblem::none;
  std::string error;
  std::string version, api_version, root_dir;
  std::string info_error;
};

struct DiskSection {
  std::string error;
  std::optional<docker::DiskSummary> summary;
  std::int64_t reclaimable_bytes = 0;  // the four kinds together
};

struct FilesystemSection {
  std::string error;
  std::string path;
  bool path_assumed = false;  // the engine did not say its root dir
  std::optional<disk::FilesystemUsage> usage;
  bool low = false;  // below rules.low_free_percent free
};

struct LayerRow {
  std::string id;  // "<missing>" for layers built elsewhere
  std::int64_t size_bytes = 0;
  std::string created_by;  // short_created_by
};

struct ImageRow {
  std::string id;  // sha256:…
  std::vector<std::string> tags;
  std::int64_t size_bytes = 0;
  std::int64_t unique_size_bytes = -1;  // Size - SharedSize; -1 unknown
  std::int64_t containers = -1;         // -1 unknown
  std::vector<LayerRow> layers;
  std::string layers_error;
  std::string display_name() const;  // the tags, else the short id
};

struct ImagesSection {
  std::string error;
  std::size_t total = 0;  // images on the host
  std::vector<ImageRow> largest;
};

struct VolumeRow {
  std::string name, project;
  std::int64_t size_bytes = -1;  // -1 unknown
  bool anonymous = false;
};

struct VolumesSection {
  std::string error;
  std::vector<disk::VolumeFinding> findings;
  // Volumes no container refers to (RefCount 0): what a volume prune could take.
  std::size_t unreferenced = 0;
  std::int64_t unreferenced_bytes = 0;
  std::vector<VolumeRow> largest_unreferenced;  // at most rules.largest_volumes, largest first
};

struct TroubledContainer {
  docker::ContainerInfo container;  // as inspected
  std::vector<Trouble> reasons;     // reasons.front() is its rule
  std::optional<std::uint64_t> cgroup_oom_kills;
  std::string compose_location;  // "file:line" of its service, when the compose project is loaded
  std::vector<std::string> compose_files;
  std::vector<docker::LogLine> logs;
  std::string logs_error;

  Trouble rule() const { return reasons.front(); }
};

struct ContainersSection {
  std::string error;
  std::size_t inspected = 0;
  std::string cgroup_error;                 // the oom_kill counters could not be read
  std::vector<TroubledContainer> troubled;  // by rule, then project, service, name
};

struct ProjectRow {
  std::string name;
  std::vector<std::string> files;
  bool from_config = false;
  bool valid = false;
  bool skipped = false;                       // labels say too little to find its files
  std::string error;                          // why it could not be loaded
  std::optional<std::size_t> drift, orphans;  // nullopt: not compared (no model, or no containers read)
  std::size_t lint = 0;
};

struct ComposeSection {
  std::string error;
  std::vector<ProjectRow> projects;
};

// The image and build checklist, per service (docs/images.md).
struct ImageChecklistSection {
  std::string error;  // the running images were not checked
  std::vector<images::ServiceReport> services;
};

// A command to run next, with why. `caution` is set for every command that deletes or
// changes something: what to check before running it.
struct NextStep {
  std::string why;
  std::string command;
  std::string caution;
};

struct DiagnoseReport {
  double generated_at = 0;
  std::string docker_host;
  std::size_t log_lines = 20;
  EngineSection engine;
  DiskSection disk;
  FilesystemSection filesystem;
  ImagesSection images;
  VolumesSection volumes;
  ContainersSection containers;
  ComposeSection compose;
  ImageChecklistSection image_checklist;
  // Why policies on images and containers refuse to run now (prune::ComposeKnowledge's
  // blockers); empty when none is configured or nothing blocks them.
  std::vector<std::string> prune_blocked;
  std::vector<NextStep> next_steps;
};

DiagnoseReport build_report(const HostFacts& facts, const DiagnoseRules& rules = {}, std::size_t log_lines = 20);

// The next steps of a report whose other sections are built (build_report calls it).
std::vector<NextStep> next_steps(const DiagnoseReport& report, bool prune_policies_configured,
                                 const DiagnoseRules& rules = {});

}  // namespace composewatch::commands
