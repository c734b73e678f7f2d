#!/usr/bin/env bash
# Makes the image the systemd test boots: Debian 12 with systemd as PID 1 and the
# run-time libraries a composewatch package needs, debootstrapped from Debian's mirror and
# `docker import`ed (no registry). Prints the image name. Cached: the tag carries a hash of
# the package list, so the ~2 minutes of debootstrap are paid once per list and engine.
#
#   scripts/systemd-image.sh PATH/TO/composewatch_<version>_<arch>.deb
#
# Needs root, debootstrap and a running engine.
set -euo pipefail

deb=${1:?usage: $0 PACKAGE.deb}
MIRROR=${COMPOSEWATCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
LOCK=/run/lock/composewatch-systemd-image.lock

# The package's Depends without versions and alternatives beyond the first; a virtual
# package (libspdlog1.10-fmt9) becomes the real one that provides it, which debootstrap
# needs.
real_package() {
  if apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: (none)'; then
    apt-cache showpkg "$1" | sed -n '/^Reverse Provides:/,$p' | sed -n '2s/ .*//p'
  else
    echo "$1"
  fi
}
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' | grep -v '^$' |
  while read -r d; do real_package "$d"; done | sort -u)
include=$(printf '%s\n' systemd systemd-sysv dbus curl procps $deps | sort -u | paste -sd, -)
tag=$(printf '%s' "$include" | sha256sum | cut -c1-12)
image="composewatch-test/debian-systemd:12-$tag"

have() { docker image inspect "$image" >/dev/null 2>&1; }
if have; then echo "$image"; exit 0; fi

mkdir -p "$(dirname "$LOCK")"
exec 9>>"$LOCK"
flock -w 900 9 || { echo "systemd-image.sh: timed out waiting for $LOCK" >&2; exit 1; }
if have; then echo "$image"; exit 0; fi

root=$(mktemp -d /tmp/composewatch-systemd-root.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "systemd-image.sh: debootstrap bookworm with $include" >&2
debootstrap --variant=minbase --include="$include" bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || {
  tail -n 30 "$root.log" >&2
  echo "systemd-image.sh: debootstrap failed (log: $root.log)" >&2
  exit 1
}
rm -f "$root.log"
# What a container needs that a real machine has: no getty, a machine id at boot.
rm -f "$root/etc/machine-id" && : >"$root/etc/machine-id"
tar -C "$root" -c . | docker import --change 'CMD ["/lib/systemd/systemd"]' - "$image" >/dev/null
echo "$image"
