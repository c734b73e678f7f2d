#pragma once
// The build checks of a Compose service with a `build:` on the host: its context's
// .dockerignore and size, and its Dockerfile (docs/images.md). read_build_input does the
// I/O (bounded); the checks are pure functions over what it read.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/model.h"
#include "composewatch/images/checks.h"
#include "composewatch/images/dockerfile.h"
#include "composewatch/images/dockerignore.h"

namespace composewatch::images {

struct BuildOptions {
  // build-context-large fires above this (what `COPY . .` sends after .dockerignore).
  std::uint64_t context_large_bytes = std::uint64_t(100) << 20;
  ContextLimits limits;  // the walk stops here and says so
};

// What the build checks read from the host for one service.
struct BuildInput {
  std::string context;          // absolute directory
  std::string dockerfile_path;  // for locations: the file, or "dockerfile_inline"
  std::optional<std::string> dockerfile_text;  // nullopt: could not be read (see error)
  std::optional<std::string> dockerignore_text;  // nullopt: the context has none
  std::string error;  // why the context or the Dockerfile could not be read
  ContextSize context_size;
  std::vector<std::string> root_files;  // names at the top of the context
  std::string target;
  std::map<std::string, std::string> args;
};

// The checks' result for one service, with the context size always reported.
struct BuildReport {
  std::string context;
  std::string dockerfile;
  ContextSize context_size;
  std::vector<Finding> findings;
};

// Reads the Dockerfile (at most kMaxDockerfileBytes), the .dockerignore and the context's
// size. Never throws; what cannot be read is in `error`.
BuildInput read_build_input(const compose::Service::Build& build, const BuildOptions& options = {});

// dockerignore-missing / dockerignore-incomplete for a context whose .dockerignore has
// `text` (nullopt: none). Incomplete names what is not excluded of: .git, node_modules,
// .venv, venv, env, .env*.
std::vector<Finding> check_dockerignore(const std::optional<std::string>& text, const std::string& context);
// The entries of the list above that `matcher` does not exclude ("node_modules", ".env*").
std::vector<std::string> missing_ignores(const IgnoreMatcher& matcher);

// build-context-large when the counted size exceeds the threshold.
std::vector<Finding> check_context_size(const ContextSize& size, const std::string& context, const BuildOptions& options);

// The Dockerfile checks. `path` names the file in locations ("path:line"); `target` the
// stage built (empty: the last); `root_files` the context's top-level names, used to name
// the manifests to copy first.
std::vector<Finding> check_dockerfile(const Dockerfile& df, const std::string& path, std::string_view target = {},
                                      const std::vector<std::string>& root_files = {});

// Everything above over one input.
BuildReport check_build(const BuildInput& input, const BuildOptions& options = {});

// Human size for messages: "1.5 GiB", "120 MiB", "300 KiB", "12 B".
std::string human_bytes(std::uint64_t bytes);

}  // namespace composewatch::images
