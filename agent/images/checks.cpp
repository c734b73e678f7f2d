#include "composewatch/images/checks.h"

namespace composewatch::images {

const compose::CheckCatalogue& checks() {
  static const compose::CheckCatalogue all("image", {
      {check_id::build_unreadable,
       "the build context or its Dockerfile cannot be read, so nothing else about the build is checked",
       "make build.context an existing directory and build.dockerfile a file in it (or give dockerfile_inline)"},
      {check_id::dockerignore_missing,
       "without a .dockerignore every file of the context is sent to the builder and `COPY . .` puts .git, "
       "dependencies and .env files into the image",
       "add a .dockerignore to the context with at least: .git, node_modules, .venv, venv, env, .env*"},
      {check_id::dockerignore_incomplete,
       "what .dockerignore does not exclude is sent with every build and copied by `COPY . .`: history, "
       "host-built dependencies, local secrets",
       "add the missing entries to the context's .dockerignore"},
      {check_id::context_large,
       "a large context is sent to the builder on every build and ends up in the image through `COPY . .`",
       "exclude build outputs, data and dependencies in .dockerignore, or build from a smaller directory"},
      {check_id::deps_after_source,
       "installing dependencies after `COPY . .` re-runs the install on every code change: the dependency "
       "layer is never reused from the cache",
       "copy the dependency manifests (package.json and its lockfile, requirements.txt, go.mod/go.sum, …) "
       "first, install, then copy the rest of the source"},
      {check_id::apt_recommends,
       "apt-get install without --no-install-recommends pulls in recommended packages the image does not need",
       "use apt-get install -y --no-install-recommends"},
      {check_id::apt_lists,
       "the package lists downloaded by apt-get update stay in the layer (tens of MiB) unless removed in the "
       "same RUN",
       "end the RUN that installs with && rm -rf /var/lib/apt/lists/*"},
      {check_id::pip_cache,
       "pip keeps its download cache in the layer it installs in",
       "use pip install --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1, or a --mount=type=cache for the cache)"},
      {check_id::toolchain_in_final,
       "compilers and -dev packages in the final image add size and attack surface and are not needed to run",
       "build in an earlier stage (FROM … AS build) and COPY --from=build only what runs into a slim final stage"},
      {check_id::final_stage_root,
       "with no USER in the final stage the container runs as root unless the compose file says otherwise",
       "add a non-root user and USER it at the end of the final stage (e.g. USER 10001:10001)"},
      {check_id::secret_build_variable,
       "ENV and ARG values are stored in the image's history and config: anyone who can pull the image reads "
       "them",
       "pass secrets at run time (environment, secrets:) or at build time with RUN --mount=type=secret"},
      {check_id::base_image_unpinned,
       "an unpinned or :latest base changes under the same Dockerfile: builds are not reproducible and updates "
       "arrive unreviewed",
       "pin the base to a version tag (python:3.12-slim) or a digest (@sha256:…)"},
      {check_id::image_root,
       "the running container's process runs as root: a breakout or a writable mount gives root on the host's "
       "files",
       "set USER in the Dockerfile or user: in the compose file to a non-root uid"},
      {check_id::image_secret_env,
       "environment variables baked into the image are readable by anyone who can inspect or pull it",
       "remove the ENV from the Dockerfile and pass the value at run time (environment:, env_file:, secrets:)"},
      {check_id::image_grew,
       "the service's image grew markedly from the previous one: a new dependency, a build output or a cache "
       "was added",
       "compare the layers (docker history) of the old and new image and remove what is not needed"},
  });
  return all;
}

}  // namespace composewatch::images
