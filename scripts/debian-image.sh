#!/usr/bin/env bash
# Makes a Debian 12 image with the given packages, debootstrapped from Debian's mirror and
# `docker import`ed (no registry is needed), and prints its name. Cached: the tag carries
# a hash of the package list, so debootstrap runs once per list and engine.
#
#   scripts/debian-image.sh REPOSITORY PACKAGE[,PACKAGE...]     e.g. composewatch-test/debian-systemd
#
# Needs root, debootstrap and a running engine. COMPOSEWATCH_DEBIAN_MIRROR overrides the
# mirror (default http://deb.debian.org/debian).
set -euo pipefail

repo=${1:?usage: $0 REPOSITORY PACKAGE[,PACKAGE...]}
include=$(printf '%s' "${2:?usage: $0 REPOSITORY PACKAGE[,PACKAGE...]}" | tr ',' '\n' | sort -u | paste -sd, -)
MIRROR=${COMPOSEWATCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=$(printf '%s' "$include" | sha256sum | cut -c1-12)
image="$repo:12-$tag"
LOCK=/run/lock/composewatch-debian-image.lock

have() { docker image inspect "$image" >/dev/null 2>&1; }
if have; then echo "$image"; exit 0; fi

mkdir -p "$(dirname "$LOCK")"
exec 9>>"$LOCK"
flock -w 1200 9 || { echo "debian-image.sh: timed out waiting for $LOCK" >&2; exit 1; }
if have; then echo "$image"; exit 0; fi

root=$(mktemp -d /tmp/composewatch-debian-root.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
echo "debian-image.sh: debootstrap bookworm for $image with $include" >&2
if ! debootstrap --variant=minbase --include="$include" bookworm "$root" "$MIRROR" >"$root.log" 2>&1; then
  tail -n 30 "$root.log" >&2
  echo "debian-image.sh: debootstrap failed" >&2
  exit 1
fi
# Each container gets a machine id at boot (systemd); no apt lists kept.
: >"$root/etc/machine-id"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | docker import - "$image" >/dev/null
echo "$image"
