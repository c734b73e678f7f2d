#pragma once
// Loads Compose files into the normalised model: interpolation, merging of several -f
// files, extends, include, profiles. Pure with respect to the engine; reads only files.
//
// Error policy: load_project throws LoadError whose what() is "FILE:LINE: reason" (the
// line where known); it never hangs or exhausts memory on hostile input (size, depth and
// alias-expansion limits).

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/model.h"

namespace composewatch::compose {

struct LoadError : std::runtime_error {
  LoadError(SourceLocation where, const std::string& reason)
      : std::runtime_error(where.str().empty() ? reason : where.str() + ": " + reason), location(std::move(where)) {}
  SourceLocation location;
};

// Whose environment interpolation sees, which decides what an unset variable means.
enum class Environment {
  // The shell of whoever runs the command (`compose`, `check -f`): Compose's behaviour,
  // ${X:?e} with X unset is an error.
  user,
  // The agent's own (under systemd), which is not the deployer's shell: ${X:?e} with X
  // unset is no error; like any unset variable it makes the fields using it unknown.
  agent,
};

struct LoadOptions {
  // In -f order; relative paths are taken from the process's cwd. Empty: COMPOSE_FILE
  // (from the environment or the project directory's .env, split by
  // COMPOSE_PATH_SEPARATOR, default ':', relative to the project directory), else
  // compose.yaml / docker-compose.yml (and its override) in the project directory.
  std::vector<std::string> files;
  std::string project_name;        // -p; empty: COMPOSE_PROJECT_NAME, `name:`, else the project directory's name
  std::string env_file;            // --env-file; empty: <project dir>/.env when it exists
  // More env files after env_file (Compose v2 records several on its containers); a
  // later file wins. When env_file is empty and these are not, .env is not read.
  std::vector<std::string> env_files;
  bool dot_env = true;  // read <project dir>/.env when no env file is given
  // --project-directory: relative paths in the files, .env and the default project name
  // are taken from it. Empty: the first file's directory (the cwd when no file is given).
  std::string project_directory;
  std::vector<std::string> profiles;  // --profile; also COMPOSE_PROFILES
  std::map<std::string, std::string> environment;  // the process environment (wins over the env file)
  Environment interpolation = Environment::user;
};

Project load_project(const LoadOptions& options);

// The contract's `composewatch compose` JSON. Unset healthcheck fields are printed with
// the engine's defaults (interval 30, timeout 30, retries 3, start period 0); the model
// keeps them optional so drift can tell "unset" from "set to the default".
std::string to_json(const Project& project);

// --- Pure helpers the loader uses, exposed for drift, lint and tests. ---

// The value of a Compose variable reference, or why there is none.
struct Interpolated {
  std::string value;
  bool substituted = false;         // at least one ${VAR}/$VAR was replaced (not just "$$")
  std::vector<std::string> unset;   // variables used without a value or default (empty string used)
  // Where in `value` the first text that depends on such a variable begins: value[0,
  // first_unknown) is known ("app:" of "app:${TAG}"); nullopt when nothing is unknown.
  std::optional<std::size_t> first_unknown;
};

// Compose interpolation of one scalar: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e},
// ${VAR?e}, ${VAR:+r}, ${VAR+r}, "$$" for a literal '$'; defaults and replacements may
// nest. Throws std::invalid_argument for malformed syntax, and for ${VAR:?e}/${VAR?e} when
// VAR is missing ("required variable VAR is missing a value: e") unless
// `missing_required_fails` is false: then VAR is listed in `unset` and "" is used.
Interpolated interpolate(std::string_view text, const std::map<std::string, std::string>& variables,
                         bool missing_required_fails = true);

// "512m", "1GB", "1024", "2 g" is refused: units b, k, kb, m, mb, g, gb, case-insensitive,
// powers of 1024. Throws std::invalid_argument naming the unit or the problem.
std::int64_t parse_memory_bytes(const std::string& text);

// Compose durations: "1m30s", "500ms", "10s", "1.5h"; units us, ms, s, m, h. Throws
// std::invalid_argument.
double parse_duration_seconds(const std::string& text);

// Compose's project name normalisation: lowercase, only [a-z0-9_-] kept. May return "".
std::string normalize_project_name(const std::string& name);

// A service env_file's `format:` (Compose v2): `raw` keeps values as written, quotes and all.
enum class EnvFileFormat { dotenv, raw };

// KEY=VALUE lines of an env file (# comments, blank lines, optional "export ", matching
// quotes stripped unless raw). Throws LoadError with the line of a malformed entry.
std::map<std::string, std::string> read_env_file(const std::string& path,
                                                 EnvFileFormat format = EnvFileFormat::dotenv);

}  // namespace composewatch::compose
