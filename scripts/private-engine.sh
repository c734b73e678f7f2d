#!/usr/bin/env bash
# A private Docker engine for tests that delete things (prune): its own dockerd with its
# own data root, socket and cgroup parent, so that nothing a developer keeps on the
# machine's engine is ever at stake. It runs in a network namespace of its own: a second
# dockerd in the host's would take the machine engine's docker0 away. No default bridge,
# no iptables: test containers use --network none or networks the test creates, and
# nothing leaves the machine.
#
#   scripts/private-engine.sh start DIR   start it in DIR (short path: sockets live there),
#                                         import the test image, print its DOCKER_HOST
#   scripts/private-engine.sh stop DIR    stop it and remove DIR
#
# Needs root and dockerd (scripts/dev.sh setup installs docker.io).
set -euo pipefail

START_TIMEOUT=60
STOP_TIMEOUT=60

die() { echo "private-engine.sh: $*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
sock="$dir/docker.sock"

ping_engine() { [ "$(curl -s --max-time 3 --unix-socket "$sock" http://localhost/_ping 2>/dev/null)" = OK ]; }

case "$cmd" in
  start)
    [ "$(id -u)" -eq 0 ] || die "needs root"
    command -v dockerd >/dev/null || die "dockerd is not installed"
    mkdir -p "$dir"
    ping_engine && { echo "unix://$sock"; exit 0; }
    name=$(basename "$dir")
    netns="cw-private-$name"
    ip netns add "$netns" 2>/dev/null || true
    ip netns exec "$netns" ip link set lo up
    # nsenter, not `ip netns exec`: that one also remounts /sys, hiding the cgroups.
    setsid nohup nsenter --net="/run/netns/$netns" dockerd --data-root "$dir/data" --exec-root "$dir/x" --pidfile "$dir/docker.pid" \
      -H "unix://$sock" --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
      --cgroup-parent="/cw-private-$name" >"$dir/dockerd.log" 2>&1 </dev/null &
    pid=$!
    deadline=$((SECONDS + START_TIMEOUT))
    until ping_engine; do
      kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/dockerd.log" >&2; die "dockerd exited during start-up"; }
      [ "$SECONDS" -lt "$deadline" ] || die "dockerd did not answer on $sock within ${START_TIMEOUT}s"
      sleep 0.2
    done
    DOCKER_HOST="unix://$sock" "$(dirname "$0")/test-image.sh" >&2
    echo "unix://$sock"
    ;;
  stop)
    netns="cw-private-$(basename "$dir")"
    if [ -r "$dir/docker.pid" ]; then
      pid=$(cat "$dir/docker.pid")
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
        kill -TERM "$pid"
        deadline=$((SECONDS + STOP_TIMEOUT))
        while [ -e "/proc/$pid" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        [ -e "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    # Overlay mounts of containers that were still running are gone with dockerd; what
    # is left is files.
    { grep -o " $dir/[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir"
    ip netns del "$netns" 2>/dev/null || true
    # The cgroup parent's directories, once their containers are gone (deepest first).
    find /sys/fs/cgroup -maxdepth 3 -type d -name "cw-private-$(basename "$dir")" 2>/dev/null |
      while read -r c; do find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
