#!/usr/bin/env bash
# A Debian 12 base with composewatch's build packages (deploy/compose/build-packages.txt),
# for building the container image without a registry:
#
#   docker build -f deploy/compose/Dockerfile --build-arg BUILD_IMAGE=$(scripts/toolchain-image.sh) .
#
# Made by scripts/debian-image.sh (cached per package list). Prints the image name.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec scripts/debian-image.sh composewatch-build/debian "$(paste -sd, deploy/compose/build-packages.txt)"
