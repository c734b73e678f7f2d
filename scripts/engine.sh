#!/usr/bin/env bash
# Manage the local Docker engine that composewatch and its integration tests talk to.
#
#   scripts/engine.sh ensure    start the engine unless one already answers
#   scripts/engine.sh start     same as ensure
#   scripts/engine.sh stop      stop it; returns once the process is gone and the socket is silent
#   scripts/engine.sh restart   stop, then start
#   scripts/engine.sh status    print whether it answers; exit 0 running, 3 stopped
#
# Under systemd (docker.service known to a running systemd) it uses systemctl; otherwise,
# as root, it runs dockerd in the background itself, logging to $LOG. Quiet on success.
set -euo pipefail

SOCK=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
LOG=${COMPOSEWATCH_DOCKERD_LOG:-/var/log/composewatch-dockerd.log}
LOCK=/run/lock/composewatch-engine.lock
START_TIMEOUT=60   # seconds for /_ping to answer after a start
STOP_TIMEOUT=60    # seconds for dockerd to exit after SIGTERM (it stops containers first)

die() { echo "engine.sh: $*" >&2; exit 1; }

ping_engine() {
  if command -v curl >/dev/null 2>&1; then
    [ "$(curl -s --max-time 3 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
  elif command -v docker >/dev/null 2>&1; then
    DOCKER_HOST="unix://$SOCK" timeout 5 docker version >/dev/null 2>&1
  else
    return 1
  fi
}

uses_systemd() {
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 &&
    systemctl cat docker.service >/dev/null 2>&1
}

# The pid of the running dockerd, or nothing.
dockerd_pid() {
  local pid
  if [ -r "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
      echo "$pid"
      return
    fi
  fi
  pgrep -x dockerd 2>/dev/null | head -n 1 || true
}

wait_until() {  # seconds, command...: poll every 0.1 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

not_pinging() { ! ping_engine; }
pid_gone() { [ ! -e "/proc/$1" ] || [ "$(cat "/proc/$1/comm" 2>/dev/null)" != dockerd ]; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (try: sudo $0 $cmd)"
}

do_start() {
  ping_engine && return 0
  need_root "starting the engine"
  command -v dockerd >/dev/null 2>&1 ||
    die "dockerd is not installed (scripts/dev.sh setup installs docker.io)"
  local pid=""
  if uses_systemd; then
    systemctl start docker.service
  else
    # A pid file left by a dockerd that died makes the next one refuse to start.
    [ -n "$(dockerd_pid)" ] || rm -f "$PIDFILE"
    mkdir -p "$(dirname "$LOG")"
    echo "--- $(date -Is) engine.sh start" >>"$LOG"
    # 9>&-: the daemon must not inherit (and so hold) the lock.
    setsid nohup dockerd >>"$LOG" 2>&1 </dev/null 9>&- &
    pid=$!
  fi
  local deadline=$((SECONDS + START_TIMEOUT))
  until ping_engine; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$LOG" >&2 || true
      die "dockerd exited during start-up (log: $LOG)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ -n "$pid" ] && tail -n 20 "$LOG" >&2
      die "the engine did not answer on $SOCK within ${START_TIMEOUT}s${pid:+ (log: $LOG)}"
    fi
    sleep 0.2
  done
}

do_stop() {
  if uses_systemd; then
    need_root "stopping the engine"
    # docker.socket would start the service again on the next connection.
    systemctl stop docker.socket docker.service 2>/dev/null || systemctl stop docker.service
  else
    local pid
    pid=$(dockerd_pid)
    if [ -z "$pid" ]; then
      ping_engine && die "an engine answers on $SOCK but no dockerd process is visible; stop it by hand"
      return 0
    fi
    need_root "stopping the engine"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$STOP_TIMEOUT" pid_gone "$pid"; then
      echo "engine.sh: dockerd $pid still running after ${STOP_TIMEOUT}s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait_until 10 pid_gone "$pid" || die "dockerd $pid does not exit"
    fi
  fi
  wait_until 10 not_pinging || die "the engine still answers on $SOCK after stopping"
}

do_status() {
  if ping_engine; then
    local version
    version=$(curl -s --max-time 3 --unix-socket "$SOCK" http://localhost/version 2>/dev/null |
      sed -n 's/.*"Version":"\([^"]*\)".*"ApiVersion":"\([^"]*\)".*/\1 (API \2)/p' || true)
    echo "running: Docker ${version:-?}, pid $(dockerd_pid), socket $SOCK"
  else
    echo "stopped"
    return 3
  fi
}

cmd=${1:-}
case "$cmd" in
  ensure | start | stop | restart) ;;
  status) do_status; exit ;;
  *) echo "usage: $0 ensure|start|stop|restart|status" >&2; exit 2 ;;
esac

# One caller at a time changes the engine (tests of several checkouts may share a host).
mkdir -p "$(dirname "$LOCK")" 2>/dev/null || true
if exec 9>>"$LOCK" 2>/dev/null; then
  flock -w 180 9 || die "timed out waiting for $LOCK"
fi

case "$cmd" in
  ensure | start) do_start ;;
  stop) do_stop ;;
  restart) do_stop; do_start ;;
esac
