#pragma once
// Which Compose projects this host has, and their loaded models.
//
// Projects come from compose.projects in the config file (stacks that should be up, known
// even when nothing runs) and from the labels of the engine's containers (working_dir,
// config_files, and the env files Compose v2 records). Loading keeps the last good model of a project when its files break, so
// drift stays meaningful while composewatch_compose_project_valid says 0.
//
// Pure functions here but load_source, which reads files (ProjectWatcher, in
// jobs/compose_watcher.h, keeps them loaded in the agent).

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "composewatch/compose/drift.h"
#include "composewatch/compose/lint.h"
#include "composewatch/compose/model.h"
#include "composewatch/config/config.h"

namespace composewatch::compose {

struct ProjectSource {
  std::string name;                // empty: the loader names it as Compose would (`check -f`)
  std::vector<std::string> files;  // absolute, in -f order
  std::string env_file;            // empty: <project dir>/.env
  std::vector<std::string> profiles;
  bool production = false;  // enables production-only lint checks
  bool configured = false;  // from compose.projects; else discovered from container labels
  std::string problem;      // why it cannot be loaded before reading any file (labels say too little)
  // The env files Compose v2 recorded on the containers (.project.environment_file),
  // absolute; read instead of <project dir>/.env. Ones the agent cannot read are skipped
  // with a warning: the fields that need their variables are then unknown.
  std::vector<std::string> label_env_files;
  std::string project_directory;  // .project.working_dir, or --project-directory; empty: the first file's
  // Interpolation sees the shell of the user who runs the command (`check -f`): ${X:?e}
  // with X unset is an error, as in Compose. Else the agent's environment, not the
  // deployer's: such a field is unknown (compose/loader.h, Environment).
  bool user_environment = false;

  bool operator==(const ProjectSource&) const = default;
};

// compose.projects, in the config file's order.
std::vector<ProjectSource> configured_sources(const std::vector<config::ComposeProjectConfig>& projects);

// One source per project named by a non-one-off container's labels, by project name.
// config_files is comma-joined; relative entries (Compose v1) are taken from working_dir;
// environment_file (Compose v2 only) is comma-joined and absolute.
// Where containers disagree, a running container's labels win, then the first by name.
std::vector<ProjectSource> discovered_sources(const std::vector<docker::LiveContainer>& containers);

// Whether `c` is one half of a Compose v2 re-create in flight, to be counted neither as
// an extra replica nor as an orphan: the service's replica is the other half. Compose
// v2 gives the second container of the pair a temporary name "<id12>_<name>" (the old
// container's short id, then the replica's real name) until it removes the old one and
// renames the new one; since Compose 2.2x the new one also carries
// com.docker.compose.replace. So: a "<12 hex>_" name that either carries that label or
// whose rest is the name of another container of the project (older v2 renamed the old
// container instead). Once renamed, the label stays on the container: it is then an
// ordinary replica. `containers`: the engine's containers, `c` among them.
bool recreate_in_flight(const docker::LiveContainer& c, const std::vector<docker::LiveContainer>& containers);

// Configured sources, then discovered ones whose name is not configured; by name.
std::vector<ProjectSource> merge_sources(const std::vector<ProjectSource>& configured,
                                         const std::vector<ProjectSource>& discovered);

struct ProjectState {
  ProjectSource source;
  std::string name;  // source.name, or the loader's name for an unnamed source
  std::shared_ptr<const Project> model;  // the last good model; null when never loaded
  bool valid = false;                    // the latest load succeeded
  std::string error;                     // why it did not ("file:line: reason")
  std::vector<LintFinding> findings;     // of `model`
};

// What the agent publishes in its snapshots; immutable once published.
struct ComposeState {
  std::vector<ProjectState> projects;  // by name
};

// Loads a project's files (compose/loader.h) and lints the result. On failure the state
// is invalid with the loader's reason and keeps `previous`'s model and findings, if any.
// `environment` is what interpolation sees (the process environment); unless
// source.user_environment, a field depending on a variable it lacks is unknown rather
// than an error or an empty value to compare. Never throws for bad input.
ProjectState load_source(const ProjectSource& source, const ProjectState* previous,
                         const std::map<std::string, std::string>& environment);


}  // namespace composewatch::compose
