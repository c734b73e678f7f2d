#!/usr/bin/env bash
# composewatch disk collector benchmark: what the disk collector job (GET /system/df every
# disk.interval) and the Disk metric group cost, with N volumes and M images: against a
# fake engine that serves a generated df (the agent's own cost, isolated) and against the
# real engine seeded with N volumes and M images (what df costs the engine, and the agent
# per collection there). Measures and reports; it is not a pass/fail test. See
# docs/benchmarks.md, "Disk collector".
#
#   sudo bench/disk/run.sh [--volumes 200] [--images 100] [--scrapes 500]
#                          [--out bench/results/<date>-disk.md]
#
# Needs root, a running Docker engine, python3 (stdlib), curl and a built build/composewatch.
# Everything it creates on the engine is named cwbench-<run id>-* and labelled
# cwbench.run=<run id>, and is removed on exit (also on failure or Ctrl-C).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

VOLUMES=200
IMAGES=100
SCRAPES=500
WINDOW=60
CONTAINERS=20
SLEEPERS=10
DF_CALLS=5
OUT=""
BIN=""
DO_BUILD=1
DO_FAKE=1
DO_REAL=1
WAIT_QUIET=0
IMAGE=composewatch-test/busybox:1

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --volumes N       volumes on the fake engine's df and seeded on the real one (default $VOLUMES)
  --images M        images likewise (default $IMAGES)
  --scrapes N       interleaved GET /metrics rounds per latency run (default $SCRAPES)
  --window S        seconds of each CPU window without scrapes (default $WINDOW)
  --containers C    Compose containers on the fake engine (default $CONTAINERS)
  --sleepers S      running Compose-labelled containers seeded on the real engine, each
                    mounting two of the volumes (default $SLEEPERS)
  --df-calls N      timed GET /system/df calls on the seeded real engine (default $DF_CALLS)
  --out FILE        results file (default bench/results/YYYY-MM-DD-disk.md; raw data in FILE.json)
  --binary PATH     agent binary (default build/composewatch)
  --no-build        do not run cmake --build
  --skip-real       fake engine only (no seeding)
  --skip-fake       real engine only
  --wait-quiet N    first wait up to N s for a 1-minute load average below 0.5
EOF
}

ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --volumes) VOLUMES=$2; shift 2 ;;
    --images) IMAGES=$2; shift 2 ;;
    --scrapes) SCRAPES=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --containers) CONTAINERS=$2; shift 2 ;;
    --sleepers) SLEEPERS=$2; shift 2 ;;
    --df-calls) DF_CALLS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --skip-real) DO_REAL=0; shift ;;
    --skip-fake) DO_FAKE=0; shift ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY="python3 $ROOT/bench/cwbench.py"
DB="python3 $ROOT/bench/disk/diskbench.py"
BIN=${BIN:-$ROOT/build/composewatch}
OUT=${OUT:-bench/results/$(date +%Y-%m-%d)-disk.md}

LOG_TAG=disk-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root (reads /proc of the agents and of dockerd, talks to the engine socket)"
command -v python3 >/dev/null || die "python3 missing"
command -v curl >/dev/null || die "curl missing"
[ "$SCRAPES" -ge 500 ] 2>/dev/null || log "warning: --scrapes $SCRAPES is below the 500 asked for"

RUN_ID=$(date +%Y%m%d%H%M%S)-$$
PREFIX=cwbench-$RUN_ID-
PROJECT=cwbench-$RUN_ID
TMP=$(mktemp -d /tmp/cwbench-disk-XXXXXX)
RES=$TMP/results
mkdir -p "$RES"
PIDS=()          # every background process this run started, stopped on exit
CREATED_IMAGE=0
T_START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

engine_up() {  # engine_up TIMEOUT: waits for the engine to answer (it is shared, and may be restarting)
  local deadline=$((SECONDS + $1))
  until docker info >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 1
  done
}

engine_cleanup() {
  local ids vols imgs
  engine_up 60 || log "warning: the engine does not answer; bench objects labelled cwbench.run=$RUN_ID may be left"
  ids=$(docker ps -aq --filter "label=cwbench.run=$RUN_ID" 2>/dev/null)
  if [ -n "$ids" ]; then
    log "removing $(echo "$ids" | wc -l) bench containers"
    echo "$ids" | xargs -r -n 20 -P 4 docker rm -f >/dev/null 2>&1
  fi
  vols=$(docker volume ls -q --filter "label=cwbench.run=$RUN_ID" 2>/dev/null)
  if [ -n "$vols" ]; then
    log "removing $(echo "$vols" | wc -l) bench volumes"
    echo "$vols" | xargs -r -n 50 docker volume rm -f >/dev/null 2>&1
  fi
  # Intermediate images too (-a; a build interrupted by Ctrl-C leaves them, and may still
  # commit one a moment later), newest first, in passes: a parent goes only after its
  # children.
  local pass
  for pass in 1 2 3; do
    imgs=$(docker images -a -q --filter "label=cwbench.run=$RUN_ID" 2>/dev/null | awk '!seen[$0]++')
    [ -n "$imgs" ] || break
    [ "$pass" = 1 ] && log "removing $(echo "$imgs" | wc -l) bench images"
    echo "$imgs" | xargs -r -n 20 docker rmi -f >/dev/null 2>&1
    sleep 1
  done
}

cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [ "$DO_REAL" = 1 ]; then engine_cleanup; fi
  if [ "$CREATED_IMAGE" = 1 ]; then
    docker rmi "$IMAGE" >/dev/null 2>&1 && log "removed the test image this run created"
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------- helpers


disk_config() {  # disk_config FILE INTERVAL: the agent's whole config, only the disk section
  printf 'disk:\n  interval: %s\n  timeout: 60s\n' "$2" >"$1"
}

STARTED_PID=""
start_agent() {  # start_agent NAME PORT CONFIG ENGINE_SOCKET: sets STARTED_PID
  local name=$1 port=$2 config=$3 sock=$4
  mkdir -p "$TMP/state-$name"
  "$BIN" run "--web.listen-address=127.0.0.1:$port" --log.level=warn "--state.dir=$TMP/state-$name" \
    "--config.file=$config" "--docker.host=unix://$sock" 2>"$TMP/agent-$name.log" &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

wait_ready() {  # wait_ready PID PORT TIMEOUT NAME
  local pid=$1 port=$2 timeout=$3 name=$4 deadline=$((SECONDS + $3)) code
  while :; do
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/agent-$name.log" >&2; die "agent $name exited"; }
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz" || true)
    [ "$code" = 200 ] && return 0
    [ $SECONDS -lt $deadline ] || { cat "$TMP/agent-$name.log" >&2; die "agent $name not ready within $timeout s"; }
    sleep 0.1
  done
}

wait_socket() {  # wait_socket PATH LOG
  for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
  die "no socket at $1: $(cat "$2")"
}

keep_log() {  # keep_log NAME: an agent's warn/error lines go into the results
  if [ -s "$TMP/agent-$1.log" ]; then cp "$TMP/agent-$1.log" "$RES/agent-$1.log"; fi
}

ensure_image() {
  engine_up 120 || die "the engine does not answer"
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then return 0; fi
  log "test image $IMAGE missing: making it with scripts/test-image.sh"
  CREATED_IMAGE=1
  scripts/test-image.sh >&2 || die "scripts/test-image.sh failed"
}

# ---------------------------------------------------------------------------- checks

docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running?)"
if [ "$DO_BUILD" = 1 ] && [ -f build/CMakeCache.txt ]; then
  log "building composewatch (cmake --build build --target composewatch)"
  cmake --build build -j2 --target composewatch >&2
fi
[ -x "$BIN" ] || die "no agent binary at $BIN: build it first with
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2 --target composewatch"

if [ "$WAIT_QUIET" -gt 0 ]; then
  log "waiting up to $WAIT_QUIET s for a 1-minute load average below 0.5"
  quiet_deadline=$((SECONDS + WAIT_QUIET))
  while [ $SECONDS -lt $quiet_deadline ]; do
    awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l < 0.5) }' && break
    sleep 10
  done
  log "load average $(cut -d' ' -f1-3 /proc/loadavg)"
fi

# ---------------------------------------------------------------------------- fake engine

fake_phase() {
  local dir=$TMP/fake name
  mkdir -p "$dir"
  disk_config "$dir/idle.yml" 1h
  disk_config "$dir/collect.yml" 1s
  # One fake engine per agent, so that each request log is one agent's. off and
  # collecting-empty answer an empty df, on and collecting the generated one; the
  # collecting agents ask every second, the others every hour (once, at start-up).
  local names="off on collecting collecting-empty"
  declare -A fake_n=([off]=0 [on]=$VOLUMES [collecting]=$VOLUMES [collecting-empty]=0)
  declare -A fake_m=([off]=0 [on]=$IMAGES [collecting]=$IMAGES [collecting-empty]=0)
  for name in $names; do
    python3 "$ROOT/bench/fake_engine.py" --socket "$dir/$name.sock" --events 0 \
      --df-volumes "${fake_n[$name]}" --df-images "${fake_m[$name]}" --containers "$CONTAINERS" \
      --project cwfake --compose-file "$dir/$name/compose.yaml" \
      --request-log "$dir/$name-requests.log" --status-file "$dir/$name-status.json" 2>"$dir/$name-fake.log" &
    PIDS+=($!)
  done
  for name in $names; do wait_socket "$dir/$name.sock" "$dir/$name-fake.log"; done

  declare -A port pid
  for name in $names; do
    port[$name]=$(free_port)
    local config=$dir/idle.yml
    [[ "$name" = collecting* ]] && config=$dir/collect.yml
    start_agent "$name" "${port[$name]}" "$config" "$dir/$name.sock"
    pid[$name]=$STARTED_PID
  done
  for name in $names; do
    wait_ready "${pid[$name]}" "${port[$name]}" 60 "$name"
    local want=$VOLUMES
    [ "${fake_n[$name]}" = 0 ] && want=0
    $DB wait-disk --url "http://127.0.0.1:${port[$name]}/metrics" --volumes "$want" --timeout 60 >/dev/null \
      || die "agent $name: no disk usage on /metrics within 60 s"
  done
  log "fake engine: 4 agents ready (df of $VOLUMES volumes and $IMAGES images, or empty; every hour or every second)"
  for name in off on; do
    $PY latency --url "http://127.0.0.1:${port[$name]}/metrics" -n 10 --warmup 0 >/dev/null
  done
  sleep 5
  for name in $names; do $PY proc --pid "${pid[$name]}" >"$dir/rss-$name.json"; done
  python3 - "$dir" "$RES/fake_setup.json" "$VOLUMES" "$IMAGES" "$CONTAINERS" <<'EOF'
import json, sys
d = sys.argv[1]
j = lambda n: json.load(open("%s/%s.json" % (d, n)))
json.dump({"volumes": int(sys.argv[3]), "images": int(sys.argv[4]), "containers": int(sys.argv[5]),
           "df_bytes_on": j("on-status")["df_bytes"], "df_bytes_off": j("off-status")["df_bytes"],
           "rss": {n: j("rss-" + n) for n in ("off", "on", "collecting", "collecting-empty")}},
          open(sys.argv[2], "w"))
EOF

  log "fake engine: ${WINDOW} s window without scrapes (collecting agents: a df every second)"
  $DB window --seconds "$WINDOW" --agent "off=${pid[off]}" --agent "on=${pid[on]}" \
    --agent "collecting=${pid[collecting]}" --agent "collecting-empty=${pid[collecting-empty]}" \
    --fake-log "on=$dir/on-requests.log" --fake-log "collecting=$dir/collecting-requests.log" \
    --fake-log "collecting-empty=$dir/collecting-empty-requests.log" >"$RES/fake_window.json"
  stop_pid "${pid[collecting]}"
  stop_pid "${pid[collecting-empty]}"

  local kind flag
  for kind in plain gzip; do
    flag=""; [ "$kind" = gzip ] && flag=--gzip
    log "fake engine: $SCRAPES interleaved rounds of GET /metrics, Disk group off and on ($kind)"
    $DB latency --target "off=http://127.0.0.1:${port[off]}/metrics" --target "on=http://127.0.0.1:${port[on]}/metrics" \
      --pid "off=${pid[off]}" --pid "on=${pid[on]}" -n "$SCRAPES" $flag >"$RES/fake_latency_$kind.json"
  done
  python3 - "$RES/fake_rss_after.json" "${pid[off]}" "${pid[on]}" <<EOF
import json, sys
sys.path.insert(0, "$ROOT/bench")
import cwbench
json.dump({"off": cwbench.read_proc(int(sys.argv[2])), "on": cwbench.read_proc(int(sys.argv[3]))},
          open(sys.argv[1], "w"))
EOF
  for name in off on; do stop_pid "${pid[$name]}"; done
  for name in $names; do keep_log "$name"; done
  cp "$dir/on/compose.yaml" "$RES/fake-compose.yaml.txt"
}

# ---------------------------------------------------------------------------- real engine

real_phase() {
  local dir=$TMP/real name
  mkdir -p "$dir"
  ensure_image
  local dockerd
  dockerd=$(cat /var/run/docker.pid 2>/dev/null || pidof dockerd || echo 0)

  log "real engine: timing GET /system/df before seeding"
  $DB df-time -n 3 --dockerd-pid "$dockerd" >"$RES/real_df_before.json"

  log "real engine: seeding $IMAGES images, $VOLUMES volumes (half filled), $SLEEPERS running containers ($PREFIX*)"
  local t0=$SECONDS
  $DB seed --prefix "$PREFIX" --run-id "$RUN_ID" --project "$PROJECT" --image "$IMAGE" \
    --volumes "$VOLUMES" --images "$IMAGES" --sleepers "$SLEEPERS" >"$dir/seed.json" \
    || die "seeding failed: $(cat "$dir/seed.json")"
  python3 - "$dir/seed.json" "$RES/real_seed.json" $((SECONDS - t0)) <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); s["seconds"] = float(sys.argv[3]); json.dump(s, open(sys.argv[2], "w"))
EOF

  log "real engine: timing $DF_CALLS GET /system/df"
  $DB df-time -n "$DF_CALLS" --prefix "$PREFIX" --dockerd-pid "$dockerd" >"$RES/real_df_after.json"

  disk_config "$dir/idle.yml" 1h
  disk_config "$dir/collect.yml" 1s
  declare -A port pid
  # One relay per agent, so that each relay log is one agent's df calls.
  for name in real-idle real-collecting; do
    python3 "$ROOT/bench/disk/engine_relay.py" --listen "$dir/$name.sock" --log "$dir/$name-relay.jsonl" \
      2>"$dir/$name-relay.log" &
    PIDS+=($!)
    wait_socket "$dir/$name.sock" "$dir/$name-relay.log"
  done
  # One after the other: engine 20.10 refuses a df while another one runs.
  for name in real-idle real-collecting; do
    port[$name]=$(free_port)
    local config=$dir/idle.yml
    [ "$name" = real-collecting ] && config=$dir/collect.yml
    start_agent "$name" "${port[$name]}" "$config" "$dir/$name.sock"
    pid[$name]=$STARTED_PID
    wait_ready "${pid[$name]}" "${port[$name]}" 120 "$name"
    $DB wait-disk --url "http://127.0.0.1:${port[$name]}/metrics" --volumes "$VOLUMES" --timeout 300 >/dev/null \
      || die "agent $name: no disk usage on /metrics within 300 s"
  done
  $PY latency --url "http://127.0.0.1:${port[real-idle]}/metrics" -n 10 --warmup 0 >/dev/null
  sleep 5
  log "real engine: ${WINDOW} s window without scrapes (collecting agent: a df every second)"
  $DB window --seconds "$WINDOW" --agent "idle=${pid[real-idle]}" --agent "collecting=${pid[real-collecting]}" \
    --relay-log "idle=$dir/real-idle-relay.jsonl" --relay-log "collecting=$dir/real-collecting-relay.jsonl" \
    --docker-events >"$RES/real_window.json"
  stop_pid "${pid[real-collecting]}"

  log "real engine: $SCRAPES sequential GET /metrics (Disk group holding the seeded engine's df)"
  $DB latency --target "real=http://127.0.0.1:${port[real-idle]}/metrics" --pid "real=${pid[real-idle]}" \
    -n "$SCRAPES" >"$RES/real_latency.json"
  stop_pid "${pid[real-idle]}"
  for name in real-idle real-collecting; do keep_log "$name"; done
  # The engine is shared: a restart by someone else during the phase spoils its figures.
  local dockerd_end
  dockerd_end=$(cat /var/run/docker.pid 2>/dev/null || pidof dockerd || echo 0)
  echo "{\"dockerd_pid_start\": $dockerd, \"dockerd_pid_end\": $dockerd_end}" >"$RES/real_engine.json"
}

if [ "$DO_FAKE" = 1 ]; then fake_phase; fi
if [ "$DO_REAL" = 1 ]; then real_phase; fi

# ---------------------------------------------------------------------------- report

CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
python3 - "$RES/env.json" <<EOF
import json, sys
json.dump({
  "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
  "nproc": "$(nproc)",
  "cpu_model": """$CPU_MODEL""",
  "mem_mib": "$(awk '/MemTotal/ {printf "%d", $2/1024}' /proc/meminfo)",
  "kernel": "$(uname -r)",
  "engine_version": "$(docker version --format '{{.Server.Version}}' 2>/dev/null)",
  "api_version": "$(docker version --format '{{.Server.APIVersion}}' 2>/dev/null)",
  "storage_driver": "$(docker info --format '{{.Driver}}' 2>/dev/null)",
  "agent_version": """$("$BIN" --version 2>&1 | head -1)""",
  "revision": "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- agent include 2>/dev/null || echo '+dirty')",
  "loadavg_start": "$LOAD_START",
  "took_s": $((SECONDS - T_START)),
  "command": "bench/disk/run.sh${ARGS[*]:+ ${ARGS[*]}}",
}, open(sys.argv[1], "w"))
EOF

mkdir -p "$(dirname "$OUT")"
$DB report --dir "$RES" | tee "$OUT"
python3 - "$RES" "$OUT.json" <<'EOF'
import json, os, sys
d = sys.argv[1]
raw = {}
for n in sorted(os.listdir(d)):
    if n.endswith(".json"):
        raw[n[:-5]] = json.load(open(os.path.join(d, n)))
json.dump(raw, open(sys.argv[2], "w"), indent=1, sort_keys=True)
EOF
log "results written to $OUT (raw data: $OUT.json) in $((SECONDS - T_START)) s"
