#pragma once
// Loads Compose files into the normalised model: interpolation, merging of several -f
// files, extends, include, profiles. Pure with respect to the engine; reads only files.
//
// Error policy: load_project throws LoadError whose what() is "FILE:LINE: reason" (the
// line where known); it never hangs or exhausts memory on hostile input (size, depth and
// alias-expansion limits).

#include <map>
#include <stdexcept>
#include <string>
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

// The contract's `composewatch compose` JSON.
std::string to_json(const Project& project);

}  // namespace composewatch::compose
