#pragma once
// Loads Compose files into the normalised model: interpolation, merging of several -f
// files, extends, include, profiles. Pure with respect to the engine; reads only files.
//
// Error policy: load_project throws LoadError whose what() is "FILE:LINE: reason" (the
// line where known); it never hangs or exhausts memory on hostile input (size, depth and
// alias-expansion limits).

#include <cstdint>
#include <map>
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

struct LoadOptions {
  std::vector<std::string> files;  // in -f order; relative paths are taken from the process's cwd
  std::string project_name;        // -p; empty: COMPOSE_PROJECT_NAME, `name:`, else the first file's directory name
  std::string env_file;            // --env-file; empty: <project dir>/.env when it exists
  std::vector<std::string> profiles;  // --profile; also COMPOSE_PROFILES
  std::map<std::string, std::string> environment;  // the process environment (wins over the env file)
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
};

// Compose interpolation of one scalar: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e},
// ${VAR?e}, ${VAR:+r}, ${VAR+r}, "$$" for a literal '$'; defaults and replacements may
// nest. Throws std::invalid_argument with the reason for ${VAR:?e}/${VAR?e} when VAR is
// missing ("required variable VAR is missing a value: e") and for malformed syntax.
Interpolated interpolate(std::string_view text, const std::map<std::string, std::string>& variables);

// "512m", "1GB", "1024", "2 g" is refused: units b, k, kb, m, mb, g, gb, case-insensitive,
// powers of 1024. Throws std::invalid_argument naming the unit or the problem.
std::int64_t parse_memory_bytes(const std::string& text);

// Compose durations: "1m30s", "500ms", "10s", "1.5h"; units us, ms, s, m, h. Throws
// std::invalid_argument.
double parse_duration_seconds(const std::string& text);

// Compose's project name normalisation: lowercase, only [a-z0-9_-] kept. May return "".
std::string normalize_project_name(const std::string& name);

// KEY=VALUE lines of an env file (# comments, blank lines, optional "export ", matching
// quotes stripped). Throws LoadError with the line of a malformed entry.
std::map<std::string, std::string> read_env_file(const std::string& path);

}  // namespace composewatch::compose
