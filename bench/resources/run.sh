#!/usr/bin/env bash
# The cost of container resources: /metrics latency, agent RSS and CPU, dockerd CPU, for
# --stats.source=cgroup and --stats.source=api, against the floor (a bare reader of the
# same files), with N busybox containers in a compose-labelled project.
#
#   sudo bench/resources/run.sh            # N = 50 and 200, 200 scrapes each
#   sudo NS="200" SCRAPES=300 bench/resources/run.sh
#
# Needs a running dockerd (cgroup v1, cgroupfs driver: the floor reads those paths), the
# image composewatch-test/busybox:1 (scripts/test-image.sh) and build/composewatch
# (built if missing). Every container it starts carries the label
# composewatch.bench=resources and is removed on exit, whatever happens.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NS=${NS:-"50 200"}
SCRAPES=${SCRAPES:-200}
API_WINDOW=${API_WINDOW:-120}       # seconds of idle polling measured in api mode
IMAGE=${IMAGE:-composewatch-test/busybox:1}
PORT=${PORT:-19479}
BIN=${BIN:-$ROOT/build/composewatch}
PROJECT=cwresbench
WORK=$(mktemp -d /tmp/cwres-bench.XXXXXX)
AGENT_PID=

cleanup() {
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null || true
  # The engine may be restarting (it is shared): retry for a minute.
  for _ in $(seq 1 30); do
    if ids=$(docker ps -aq --filter label=composewatch.bench=resources 2>/dev/null); then
      [ -z "$ids" ] && break
      echo "$ids" | xargs -r -n 50 docker rm -f >/dev/null 2>&1 || true
    fi
    sleep 2
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$BIN" ] || cmake --build "$ROOT/build" -j2 --target composewatch
g++ -O2 -std=c++20 -o "$WORK/floor" "$HERE/floor.cpp"
TICK=$(getconf CLK_TCK)
DOCKERD=$(cat /var/run/docker.pid 2>/dev/null || pidof dockerd)

cpu_of() {  # utime+stime of a pid, in seconds
  awk -v t="$TICK" '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); printf "%.2f\n", (f[12] + f[13]) / t }' "/proc/$1/stat"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
series_count() {
  curl -s "http://127.0.0.1:$PORT/metrics" | grep -c "^composewatch_container_memory_usage_bytes{project=\"$PROJECT\"" || true
}
percentile() {  # p (0-100) of the numbers in file $2
  sort -g "$2" | awk -v p="$1" '{ a[NR] = $1 } END { i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.1f\n", a[i] * 1000 }'
}

start_containers() {
  local n=$1
  seq 1 "$n" | xargs -P 4 -I{} docker run -d --network none --label composewatch.bench=resources \
    --label com.docker.compose.project=$PROJECT --label com.docker.compose.service=s{} \
    --label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
    --name "$PROJECT-s{}-1" "$IMAGE" sleep 86400 >/dev/null
}

run_mode() {  # n mode -> one result line
  local n=$1 mode=$2
  local log="$WORK/agent-$n-$mode.log"
  "$BIN" run --web.listen-address=127.0.0.1:$PORT --stats.source=$mode --state.dir="$WORK/state" \
    --log.level=debug 2>"$log" &
  AGENT_PID=$!
  local deadline=$((SECONDS + 600))
  until [ "$(series_count)" -ge "$n" ]; do
    [ $SECONDS -lt $deadline ] || { echo "agent ($mode) never exported $n containers" >&2; tail "$log" >&2; exit 1; }
    sleep 1
  done
  curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics"  # warm
  local a0 d0 a1 d1 t0 t1
  a0=$(cpu_of "$AGENT_PID"); d0=$(cpu_of "$DOCKERD"); t0=$(date +%s.%N)
  : >"$WORK/lat"
  for _ in $(seq 1 "$SCRAPES"); do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/metrics" >>"$WORK/lat"
  done
  a1=$(cpu_of "$AGENT_PID"); d1=$(cpu_of "$DOCKERD"); t1=$(date +%s.%N)
  local p50 p99 rss hwm
  p50=$(percentile 50 "$WORK/lat"); p99=$(percentile 99 "$WORK/lat")
  rss=$(rss_kib "$AGENT_PID"); hwm=$(hwm_kib "$AGENT_PID")
  local agent_ps dockerd_ps
  agent_ps=$(echo "($a1 - $a0) / $SCRAPES" | bc -l)
  dockerd_ps=$(echo "($d1 - $d0) / $SCRAPES" | bc -l)
  # A refresh is what makes every container's figures new: each scrape in cgroup mode,
  # one poll round in api mode. Measure api rounds over an idle window.
  local refresh="$agent_ps $dockerd_ps" rounds="-"
  if [ "$mode" = api ]; then
    local r0 r1
    r0=$(grep -c "stats from the engine API: [0-9]* of [0-9]* containers" "$log" || true)
    a0=$(cpu_of "$AGENT_PID"); d0=$(cpu_of "$DOCKERD")
    sleep "$API_WINDOW"
    a1=$(cpu_of "$AGENT_PID"); d1=$(cpu_of "$DOCKERD")
    r1=$(grep -c "stats from the engine API: [0-9]* of [0-9]* containers" "$log" || true)
    rounds=$((r1 - r0))
    if [ "$rounds" -gt 0 ]; then
      refresh="$(echo "($a1 - $a0) / $rounds" | bc -l) $(echo "($d1 - $d0) / $rounds" | bc -l)"
    else
      refresh="nan nan"
    fi
  fi
  kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=
  # shellcheck disable=SC2086
  printf '%s %s %s %s %s %s %.5f %.5f %.5f %.5f %s\n' "$n" "$mode" "$p50" "$p99" "$rss" "$hwm" "$agent_ps" "$dockerd_ps" \
    $refresh "$rounds"
}

echo "# composewatch resources benchmark, $(date -u +%FT%TZ), $(nproc) cores, $(docker version -f '{{.Server.Version}}'), scrapes=$SCRAPES api_window=${API_WINDOW}s"
echo "# n mode p50_ms p99_ms rss_kib hwm_kib agent_cpu_s_per_scrape dockerd_cpu_s_per_scrape agent_cpu_s_per_refresh dockerd_cpu_s_per_refresh api_rounds_in_window"
for n in $NS; do
  t=$SECONDS
  start_containers "$n"
  echo "# started $n containers in $((SECONDS - t)) s" >&2
  run_mode "$n" cgroup
  run_mode "$n" api
  docker inspect -f '{{.Id}} {{.State.Pid}}' $(docker ps -q --filter label=composewatch.bench=resources) >"$WORK/ids"
  echo "# floor n=$n $("$WORK/floor" "$SCRAPES" <"$WORK/ids")"
  docker ps -aq --filter label=composewatch.bench=resources | xargs -r -n 50 docker rm -f >/dev/null
done
