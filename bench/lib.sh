# Shell helpers of the bench scripts (bench/run.sh, bench/disk/run.sh, bench/load/run.sh, bench/auth/run.sh,
# bench/soak/run.sh); sourced, not run.
# The sourcing script sets LOG_TAG before sourcing (the prefix of its log lines).

log() { printf '[%s %s] %s\n' "${LOG_TAG:-bench}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop_pid() {  # stop_pid PID [signal]: ends one process we started, waits for it
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "-${2:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

now() { date +%s.%N; }

# The checks before a bench that runs the agent against the machine's engine: root, an
# engine that answers, the agent built (unless DO_BUILD=0) and present at $BIN.
ready_to_run() {
  [ "$(id -u)" = 0 ] || die "needs root (reads /proc of the agent, talks to the engine socket)"
  docker info >/dev/null 2>&1 || die "the Docker engine does not answer"
  if [ "${DO_BUILD:-1}" = 1 ] && [ -f build/CMakeCache.txt ]; then
    log "building composewatch"
    cmake --build build -j2 --target composewatch >&2
  fi
  [ -x "$BIN" ] || die "no agent binary at $BIN"
}

# The test image $IMAGE: made when missing, and then removed again by release_test_image.
CREATED_IMAGE=0
ensure_test_image() {
  docker image inspect "$IMAGE" >/dev/null 2>&1 && return 0
  log "making the test image $IMAGE"
  CREATED_IMAGE=1
  scripts/test-image.sh >&2
}
release_test_image() {
  if [ "$CREATED_IMAGE" = 1 ]; then docker rmi "$IMAGE" >/dev/null 2>&1 || true; fi
}

# start_idle_containers RUN N: N sleeping containers RUN-0001… of one Compose-labelled
# project RUN, labelled cwchurn.run=RUN so that `bench/churn.py --run RUN cleanup` removes them.
start_idle_containers() {
  log "starting $2 containers"
  seq -f "$1-%04g" 1 "$2" | xargs -P 8 -I{} docker run -d --name {} --network none \
    --label "cwchurn.run=$1" --label "com.docker.compose.project=$1" \
    --label com.docker.compose.service=svc --label com.docker.compose.oneoff=False \
    "$IMAGE" sleep 36000 >/dev/null
}
