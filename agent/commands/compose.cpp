#include "composewatch/commands/compose.h"

#include <algorithm>
#include <iostream>

#include "composewatch/compose/loader.h"

extern char** environ;

namespace composewatch::commands {
namespace {

const char* const kHelp =
    "Usage: composewatch compose [-f FILE]... [--env-file FILE] [-p NAME] [--profile PROFILE]...\n"
    "                            [--project-directory DIR]\n"
    "\n"
    "Prints the normalised Compose model (services, images, replicas, restart policy,\n"
    "memory, healthchecks, dependencies, volumes, profiles) as JSON, as Compose resolves\n"
    "it: interpolation, several -f files merged, extends, include and profiles. Does not\n"
    "talk to the engine. Exits 0, or 2 with 'FILE:LINE: reason' on invalid input.\n"
    "\n"
    "Flags:\n"
    "  -f, --file FILE       Compose file; repeat to merge overrides in order. Default\n"
    "                        $COMPOSE_FILE (also read from .env; separator\n"
    "                        $COMPOSE_PATH_SEPARATOR, default ':'), else compose.yaml or\n"
    "                        docker-compose.yml (and its override) in the project directory.\n"
    "  --env-file FILE       Variables for interpolation. Default .env in the directory of\n"
    "                        the first file; the process environment wins over both.\n"
    "  -p, --project-name NAME\n"
    "                        Project name. Default $COMPOSE_PROJECT_NAME, the top-level\n"
    "                        'name:', else the first file's directory name.\n"
    "  --profile PROFILE     Enable a profile; repeatable. Also $COMPOSE_PROFILES.\n"
    "  --project-directory DIR\n"
    "                        Where relative paths, .env and the default project name are\n"
    "                        taken from. Default the first file's directory (here without -f).\n"
    "  --help                Show this help and exit.\n"
    "\n"
    "Unset healthcheck fields are printed with the engine's defaults (interval 30 s,\n"
    "timeout 30 s, 3 retries, start period 0, start interval 5 s); restart is the\n"
    "effective policy (\"no\" when none is declared). environment_keys names what a\n"
    "service sets in its containers (environment: and env_file:), never the values;\n"
    "unknown_fields names the fields that depend on a variable without a value.\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

int run_compose(const std::vector<std::string>& args, const std::map<std::string, std::string>& environment,
                std::ostream& out, std::ostream& err) {
  compose::LoadOptions options;
  options.environment = environment;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--help" || a == "-h") {
        out << kHelp;
        return 0;
      }
      // Accept "--flag value", "--flag=value" and "-f value".
      std::string name = a;
      std::optional<std::string> value;
      if (a.starts_with("--") && a.find('=') != std::string::npos) {
        name = a.substr(0, a.find('='));
        value = a.substr(a.find('=') + 1);
      }
      const bool known = name == "-f" || name == "--file" || name == "--env-file" || name == "-p" ||
                         name == "--project-name" || name == "--profile" || name == "--project-directory";
      if (!known) {
        if (a.starts_with("-")) throw UsageError("unknown flag '" + name + "'");
        throw UsageError("unexpected argument '" + a + "'");
      }
      if (!value) {
        if (i + 1 >= args.size()) throw UsageError("flag '" + name + "' needs a value");
        value = args[++i];
      }
      if (value->empty()) throw UsageError("flag '" + name + "' has an empty value");
      if (name == "-f" || name == "--file") {
        options.files.push_back(*value);
      } else if (name == "--env-file") {
        if (!options.env_file.empty()) throw UsageError("flag '--env-file' given more than once");
        options.env_file = *value;
      } else if (name == "-p" || name == "--project-name") {
        if (!options.project_name.empty()) throw UsageError("flag '" + name + "' given more than once");
        options.project_name = *value;
      } else if (name == "--project-directory") {
        if (!options.project_directory.empty()) throw UsageError("flag '--project-directory' given more than once");
        options.project_directory = *value;
      } else {
        options.profiles.push_back(*value);
      }
    }
  } catch (const UsageError& e) {
    err << "composewatch: " << e.what() << "; see 'composewatch compose --help'\n";
    return 2;
  }

  try {
    const compose::Project project = compose::load_project(options);
    for (const std::string& w : project.warnings) err << "warning: " << w << '\n';
    out << compose::to_json(project);
    return 0;
  } catch (const std::exception& e) {
    std::string message = e.what();
    std::replace_if(message.begin(), message.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    err << message << '\n';  // "FILE:LINE: reason", like a compiler
    return 2;
  }
}

int run_compose(const std::vector<std::string>& args) {
  return run_compose(args, process_environment(), std::cout, std::cerr);
}

}  // namespace composewatch::commands
