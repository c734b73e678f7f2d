#!/usr/bin/env bash
# The image the systemd test boots: Debian 12 with systemd as PID 1 and the run-time
# libraries a composewatch package needs (from its Depends), made by scripts/debian-image.sh
# (cached per package list). Prints the image name.
#
#   scripts/systemd-image.sh PATH/TO/composewatch_<version>_<arch>.deb
set -euo pipefail

deb=${1:?usage: $0 PACKAGE.deb}

# The package's Depends without versions and alternatives beyond the first; a virtual
# package (libspdlog1.10-fmt9) becomes the real one that provides it, which debootstrap
# needs.
# (The answer is read whole before matching: `apt-cache … | grep -q` under pipefail fails
# at random when grep exits before apt-cache has written everything.)
real_package() {
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null)
  if [[ $policy == *'Candidate: (none)'* ]]; then
    apt-cache showpkg "$1" | sed -n '/^Reverse Provides:/,$p' | sed -n '2s/ .*//p'
  else
    echo "$1"
  fi
}
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' | grep -v '^$' |
  while read -r d; do real_package "$d"; done)
exec "$(dirname "$0")/debian-image.sh" composewatch-test/debian-systemd \
  "$(printf '%s\n' systemd systemd-sysv dbus curl procps $deps | paste -sd, -)"
