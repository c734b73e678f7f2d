#pragma once
// The image and build checklist: every check's id (the `check` label of
// composewatch_image_finding), a one-line why and a fix, and the finding type the build
// checks (images/build_checks.h) and the image checks (images/image_checks.h) produce.
// docs/images.md documents each one. Findings name things, never environment or build-arg
// values.

#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/checks.h"

namespace composewatch::images {

namespace check_id {
// The build context and its .dockerignore.
inline constexpr std::string_view build_unreadable = "build-unreadable";
inline constexpr std::string_view dockerignore_missing = "dockerignore-missing";
inline constexpr std::string_view dockerignore_incomplete = "dockerignore-incomplete";
inline constexpr std::string_view context_large = "build-context-large";
// The Dockerfile.
inline constexpr std::string_view deps_after_source = "dependencies-after-source";
inline constexpr std::string_view apt_recommends = "apt-install-recommends";
inline constexpr std::string_view apt_lists = "apt-lists-kept";
inline constexpr std::string_view pip_cache = "pip-cache-kept";
inline constexpr std::string_view toolchain_in_final = "toolchain-in-final-stage";
inline constexpr std::string_view final_stage_root = "final-stage-runs-as-root";
inline constexpr std::string_view secret_build_variable = "secret-build-variable";
inline constexpr std::string_view base_image_unpinned = "base-image-unpinned";
// The built image, from the engine.
inline constexpr std::string_view image_root = "image-runs-as-root";
inline constexpr std::string_view image_secret_env = "image-secret-env";
inline constexpr std::string_view image_grew = "image-grew";
}  // namespace check_id

// Every check, build checks first, in the order findings are reported; checks().at(id)
// looks one up. The same catalogue type as the compose checklist's.
const compose::CheckCatalogue& checks();

struct Finding {
  std::string check;     // a check_id
  std::string location;  // "/srv/app/Dockerfile:12", a directory, or an image; may be empty
  std::string message;   // one line: what was found
  bool operator==(const Finding&) const = default;
};

}  // namespace composewatch::images
