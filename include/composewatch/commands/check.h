#pragma once
// `composewatch check [-f FILE]... [-p NAME] [--env-file F] [--format text|json]`:
// loads compose projects, compares them with the live engine and prints drift, orphans
// and lint findings with file:line, check id, why and fix.
//
// Projects: with -f only that one (named as Compose would, or by -p); else the config
// file's compose.projects plus the projects of the engine's containers.
// Exit codes: 0 clean, 1 findings, 2 could not check (engine unreachable, a project's
// files could not be loaded, bad command line).

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "composewatch/config/cli.h"
#include "composewatch/config/config.h"
#include "composewatch/docker/container.h"

namespace composewatch::commands {

struct CheckOptions {
  std::vector<std::string> files;  // -f, --file
  std::string project_name;        // -p, --project-name
  std::string env_file;            // --env-file
  std::string format = "text";     // --format text|json
  std::string project_directory;   // --project-directory
};

// check's own flags (-f, -p, --env-file, --project-directory, --format) from the parsed command line.
CheckOptions check_options(const config::CommandLine& cl);

// The whole command on a resolved configuration. Returns the exit code; the report goes
// to `out`, reasons it could not check to `err`.
int run_check(const config::AgentConfig& cfg, const CheckOptions& options, std::ostream& out, std::ostream& err);

// For `status`, per container of the projects known from the config file and the
// containers' labels: its drift fields (image_stale with the tags resolved on the engine
// now) and how its service ended ("completed", "gave up"; empty while it has not).
struct ContainerDrift {
  std::vector<std::string> fields;
  std::string end;
};
// By container name. Never throws; projects that cannot be loaded contribute nothing.
std::map<std::string, ContainerDrift> drift_by_container(const config::AgentConfig& cfg,
                                                         const std::vector<docker::ContainerInfo>& containers);

}  // namespace composewatch::commands
