#!/usr/bin/env bash
# A Docker engine of another Debian release, run as a container of the host's engine with its
# own dockerd, its own /var/lib/docker on a host directory and its socket on a host path: the
# engine matrix the `engine-26` (trixie) and `engine-28` (sid) ctest labels run against.
#
#   scripts/nested-engine.sh image RELEASE     debootstrap /var/tmp/cw-nested/RELEASE unless it
#                                              exists, `docker import` it unless imported; prints
#                                              the image
#   scripts/nested-engine.sh start RELEASE     image, then (re)start the engine container, wait
#                                              for its socket, load the test image into it
#   scripts/nested-engine.sh restart RELEASE   restart the engine container (its dockerd stops its
#                                              containers and starts again on the same data)
#   scripts/nested-engine.sh down RELEASE      stop the engine container, keep it (an engine outage)
#   scripts/nested-engine.sh up RELEASE        start the stopped engine container again
#   scripts/nested-engine.sh stop RELEASE      remove the engine container (its data dir stays)
#   scripts/nested-engine.sh env RELEASE       print DOCKER_HOST=... and the directory whose
#                                              `docker-compose` is the release's Compose v2
#
# RELEASE is trixie (Docker 26.1, Compose 2.26) or sid (Docker 28.5, Compose 2.40). Everything
# is named composewatch-engine-RELEASE. Needs root, debootstrap and the host's engine.
#
# How it runs (--privileged is refused on these machines: CAP_SYS_RESOURCE is withheld):
# every other capability, no seccomp or AppArmor profile, every device; the host's cgroup
# tree mounted read-write and `--cgroup-parent=/composewatch-engine-RELEASE`, so its containers'
# cgroups are on the host at /sys/fs/cgroup/<controller>/composewatch-engine-RELEASE/<id>; and
# `--pid host`, so the State.Pid its API reports is a host pid: the agent on the host finds the
# container's cgroup and network counters through /proc/<pid> as it does for the host's engine.
# `systempaths=unconfined` leaves /proc/sys writable, which the nested dockerd needs to set up
# a container's interface on a bridge (it disables IPv6 there); the engine container itself
# has no network (--network none), so its containers reach only each other, and test
# containers use --network none or an --internal network.
#
# COMPOSEWATCH_DEBIAN_MIRROR overrides the mirror (default http://deb.debian.org/debian);
# COMPOSEWATCH_NESTED_DIR the cache directory (default /var/tmp/cw-nested).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# `docker` here is the host's engine, whatever the caller points DOCKER_HOST at (the tests
# on a nested engine do); nested() talks to the nested one.
unset DOCKER_HOST
MIRROR=${COMPOSEWATCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${COMPOSEWATCH_NESTED_DIR:-/var/tmp/cw-nested}
PACKAGES=docker.io,docker-compose,iptables,procps
START_TIMEOUT=90   # seconds for the nested /_ping to answer
STOP_TIMEOUT=60    # seconds the nested dockerd gets to stop its containers

die() { echo "nested-engine.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 image|start|restart|down|up|stop|env RELEASE   (RELEASE: trixie or sid)" >&2; exit 2; }

cmd=${1:-}
release=${2:-}
case "$release" in trixie | sid) ;; *) usage ;; esac
name=composewatch-engine-$release
root=$CACHE/$release                 # the debootstrapped root; its Compose v2 binary runs on the host
state=$CACHE/$name                   # run/ (the socket), lib/ (its /var/lib/docker), bin/
sock=$state/run/docker.sock
compose_bin=$root/usr/libexec/docker/cli-plugins/docker-compose
tag=$(printf '%s' "$PACKAGES" | sha256sum | cut -c1-12)
image=composewatch-engine/$release:$tag
LOCK=/run/lock/$name.lock

nested() { DOCKER_HOST=unix://$sock "$@"; }
ping_nested() { [ "$(curl -s --max-time 3 --unix-socket "$sock" http://localhost/_ping 2>/dev/null)" = OK ]; }

make_root() {
  [ -x "$root/usr/sbin/dockerd" ] && [ -x "$compose_bin" ] && return 0
  command -v debootstrap >/dev/null || die "debootstrap is not installed"
  local partial=$root.partial
  rm -rf "$partial"
  mkdir -p "$CACHE"
  echo "nested-engine.sh: debootstrap $release with $PACKAGES into $root" >&2
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$release" "$partial" "$MIRROR" >"$partial.log" 2>&1; then
    tail -n 30 "$partial.log" >&2
    die "debootstrap $release failed (log: $partial.log)"
  fi
  rm -rf "$partial"/var/lib/apt/lists/* "$partial"/var/cache/apt/archives/*.deb
  rm -rf "$root"
  mv "$partial" "$root"
}

make_image() {
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  make_root
  # Not the Compose binary's path: the host runs it from the root (see `env`).
  tar -C "$root" -c . | docker import - "$image" >/dev/null
}

do_image() {
  mkdir -p "$(dirname "$LOCK")"
  exec 9>>"$LOCK"
  flock -w 1200 9 || die "timed out waiting for $LOCK"
  make_image
  exec 9>&-
  echo "$image"
}

do_stop() {
  docker inspect "$name" >/dev/null 2>&1 || return 0
  docker stop -t "$STOP_TIMEOUT" "$name" >/dev/null 2>&1 || true
  docker rm -f "$name" >/dev/null
}

wait_ping() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until ping_nested; do
    if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
      docker logs --tail 30 "$name" >&2 2>&1 || true
      die "the $release engine exited during start-up"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { docker logs --tail 30 "$name" >&2 2>&1; die "no answer on $sock within ${START_TIMEOUT}s"; }
    sleep 0.2
  done
}

do_start() {
  do_image >/dev/null
  do_stop
  mkdir -p "$state/run" "$state/lib" "$state/bin"
  rm -f "$sock"
  ln -sfn "$compose_bin" "$state/bin/docker-compose"
  docker run -d --name "$name" --label composewatch.nested-engine="$release" \
    --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --device-cgroup-rule 'a *:* rwm' --security-opt systempaths=unconfined -v /sys/fs/cgroup:/sys/fs/cgroup:rw --pid host \
    --tmpfs /run --tmpfs /tmp --network none \
    -v "$state/run:/run/cw" -v "$state/lib:/var/lib/docker" \
    "$image" /usr/sbin/dockerd -H unix:///run/cw/docker.sock --iptables=false --ip6tables=false \
    --cgroup-parent="/$name" --shutdown-timeout 10 >/dev/null
  wait_ping
  # The integration tests' image, made inside the nested engine as on the host.
  nested scripts/test-image.sh
}

do_restart() {
  docker inspect "$name" >/dev/null 2>&1 || die "$name is not running (start it first)"
  docker restart -t "$STOP_TIMEOUT" "$name" >/dev/null
  wait_ping
}

do_down() { docker stop -t "$STOP_TIMEOUT" "$name" >/dev/null; }
do_up() {
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
    rm -f "$sock"  # the stopped dockerd's, so that wait_ping waits for the new one
    docker start "$name" >/dev/null
  fi
  wait_ping
}

case "$cmd" in
  image) do_image ;;
  down) do_down ;;
  up) do_up ;;
  start) do_start ;;
  restart) do_restart ;;
  stop) do_stop ;;
  env)
    echo "DOCKER_HOST=unix://$sock"
    echo "COMPOSE_BIN_DIR=$state/bin"
    ;;
  *) usage ;;
esac
