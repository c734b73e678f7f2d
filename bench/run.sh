#!/usr/bin/env bash
# composewatch benchmark: RSS, idle CPU, /metrics latency and event throughput with N
# running containers on the real engine, plus agent-side event throughput against a fake
# engine. Measures and reports; it is not a pass/fail test. See docs/benchmarks.md.
#
#   bench/run.sh [--containers 50] [--scrapes 500] [--events 6000]
#                [--out bench/results/<date>.md]
#
# Needs root, a running Docker engine, python3 (stdlib), curl, and a built
# build/composewatch (it runs `cmake --build build --target composewatch` when build/ is
# configured). Everything it creates is named cwbench-* / labelled cwbench.run=<id> and
# removed on exit.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

CONTAINERS=50
SCRAPES=500
EVENTS=6000
OUT=""
IDLE_SECONDS=60
FAKE_EVENTS=200000
BURST_PARALLEL=8
POLL_INTERVAL=0.1
BIN=""
DO_BUILD=1
DO_FAKE=1
DO_REAL=1
WAIT_QUIET=0
IMAGE=composewatch-test/busybox:1

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --containers N       running containers during the measurements (default $CONTAINERS)
  --scrapes N          sequential GET /metrics per latency run, >= 200 (default $SCRAPES)
  --events N           real-engine lifecycle events in the burst, >= 5000 (default $EVENTS)
  --out FILE           results file (default bench/results/YYYY-MM-DD.md; raw data in FILE.json)
  --idle-seconds N     idle CPU window (default $IDLE_SECONDS)
  --fake-events K      events streamed by the fake engine (default $FAKE_EVENTS)
  --burst-parallel N   concurrent API clients in the burst (default $BURST_PARALLEL)
  --binary PATH        agent binary (default build/composewatch)
  --no-build           do not run cmake --build
  --skip-real          skip the real-engine phases (fake engine only)
  --skip-fake          skip the fake-engine throughput phase
  --wait-quiet N       first wait up to N s for a quiet host: no other containers on
                       the engine and a 1-minute load average below 0.5
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --containers) CONTAINERS=$2; shift 2 ;;
    --scrapes) SCRAPES=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --idle-seconds) IDLE_SECONDS=$2; shift 2 ;;
    --fake-events) FAKE_EVENTS=$2; shift 2 ;;
    --burst-parallel) BURST_PARALLEL=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --skip-real) DO_REAL=0; shift ;;
    --skip-fake) DO_FAKE=0; shift ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY="python3 $ROOT/bench/cwbench.py"
BIN=${BIN:-$ROOT/build/composewatch}
OUT=${OUT:-bench/results/$(date +%Y-%m-%d).md}

LOG_TAG=bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root (reads /proc of the agent, talks to the engine socket)"
command -v python3 >/dev/null || die "python3 missing"
command -v curl >/dev/null || die "curl missing"
for n in "$SCRAPES:200:--scrapes" "$EVENTS:5000:--events"; do
  IFS=: read -r v min name <<<"$n"
  [ "$v" -ge "$min" ] 2>/dev/null || log "warning: $name $v is below the issue's minimum of $min"
done

RUN_ID=$(date +%Y%m%d%H%M%S)-$$
PREFIX=cwbench-$RUN_ID-
TMP=$(mktemp -d /tmp/cwbench-XXXXXX)
RES=$TMP/results
mkdir -p "$RES"
AGENT_PID=""
FAKE_PID=""
EVENTS_PID=""
CREATED_IMAGE=0

cleanup() {
  local rc=$?
  set +e
  stop_pid "$EVENTS_PID"
  stop_pid "$AGENT_PID"
  stop_pid "$FAKE_PID"
  local ids
  ids=$(docker ps -aq --filter "label=cwbench.run=$RUN_ID" 2>/dev/null)
  if [ -n "$ids" ]; then
    log "removing $(echo "$ids" | wc -l) bench containers"
    # Paused containers are unpaused first so that the removal's kill is delivered.
    docker ps -q --filter "label=cwbench.run=$RUN_ID" --filter status=paused \
      | xargs -r docker unpause >/dev/null 2>&1
    echo "$ids" | xargs -r -n 20 -P 4 docker rm -f >/dev/null 2>&1
  fi
  if [ "$CREATED_IMAGE" = 1 ]; then
    # Only if this run made it; fails harmlessly when someone else now uses it.
    docker rmi "$IMAGE" >/dev/null 2>&1 && log "removed the test image this run created"
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------- helpers


AGENT_HELP=""
start_agent() {  # start_agent PORT LOGFILE STATEDIR [extra args...]: sets AGENT_PID
  local port=$1 logf=$2 state=$3; shift 3
  local args=(run "--web.listen-address=127.0.0.1:$port" --log.level=warn)
  if grep -q -- '--state.dir' <<<"$AGENT_HELP"; then
    mkdir -p "$state"; args+=("--state.dir=$state")
  fi
  if [ -e /etc/composewatch/config.yml ] && grep -q -- '--config.file' <<<"$AGENT_HELP"; then
    # Keep the host's config (prune policies, compose projects) out of the measurement.
    echo '{}' >"$TMP/empty-config.yml"; args+=("--config.file=$TMP/empty-config.yml")
  fi
  "$BIN" "${args[@]}" "$@" 2>"$logf" &
  AGENT_PID=$!
}

wait_ready() {  # wait_ready PORT TIMEOUT: prints seconds to ready, fails if the agent dies
  local port=$1 timeout=$2 t0 code
  t0=$(now)
  while :; do
    kill -0 "$AGENT_PID" 2>/dev/null || return 1
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz" || true)
    if [ "$code" = 200 ]; then
      python3 -c "print($(now) - $t0)"
      return 0
    fi
    if python3 -c "import sys; sys.exit(0 if $(now) - $t0 > $timeout else 1)"; then return 1; fi
    sleep 0.1
  done
}

proc_json() { $PY proc --pid "$AGENT_PID"; }

ensure_image() {
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then return 0; fi
  log "test image $IMAGE missing: making it from busybox-static"
  CREATED_IMAGE=1
  if [ -x scripts/test-image.sh ]; then
    scripts/test-image.sh >&2 || die "scripts/test-image.sh failed"
    return 0
  fi
  # Fallback, same recipe as scripts/test-image.sh: static busybox, a symlink per applet.
  local bb=/bin/busybox root=$TMP/image/root
  "$bb" --list >/dev/null 2>&1 || die "busybox-static is needed to make the test image"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,var,proc,sys,dev}
  install -d -m 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  while read -r applet; do
    [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$root/$applet"
  done < <("$bb" --list-full)
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' - "$IMAGE" >/dev/null
}

# ---------------------------------------------------------------------------- checks

docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running?)"

if [ "$DO_BUILD" = 1 ] && [ -f build/CMakeCache.txt ]; then
  log "building composewatch (cmake --build build --target composewatch)"
  cmake --build build -j2 --target composewatch >&2
fi
[ -x "$BIN" ] || die "no agent binary at $BIN: build it first with
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2 --target composewatch"
AGENT_HELP=$("$BIN" run --help 2>&1 || "$BIN" --help 2>&1 || true)

if [ "$WAIT_QUIET" -gt 0 ]; then
  log "waiting up to $WAIT_QUIET s for a quiet host (no other containers, load < 0.5)"
  quiet_deadline=$((SECONDS + WAIT_QUIET))
  while [ $SECONDS -lt $quiet_deadline ]; do
    others=$(docker ps -aq | wc -l)
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$others" -eq 0 ] && awk -v l="$load" 'BEGIN { exit !(l < 0.5) }'; then break; fi
    sleep 10
  done
  log "host: $(docker ps -aq | wc -l) other containers, load average $(cut -d' ' -f1-3 /proc/loadavg)"
fi

# Machine and versions, for the report.
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
  "cgroup_version": "$(docker info --format '{{.CgroupVersion}}' 2>/dev/null)",
  "cgroup_driver": "$(docker info --format '{{.CgroupDriver}}' 2>/dev/null)",
  "agent_version": """$("$BIN" --version 2>&1 | head -1)""",
  "revision": "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+dirty')",
  "loadavg_start": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "command": "bench/run.sh --containers $CONTAINERS --scrapes $SCRAPES --events $EVENTS",
}, open(sys.argv[1], "w"))
EOF

# ---------------------------------------------------------------------------- real engine

real_engine() {
  ensure_image

  log "starting $CONTAINERS containers ($PREFIX*)"
  seq 1 "$CONTAINERS" | xargs -P 8 -I{} docker run -d --name "${PREFIX}svc{}-1" --network none \
    --label com.docker.compose.project=cwbench --label com.docker.compose.service=svc{} \
    --label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
    --label "cwbench.run=$RUN_ID" "$IMAGE" sleep 36000 >"$TMP/ids" \
    || die "docker run failed"
  local running total
  running=$(docker ps -q --filter "label=cwbench.run=$RUN_ID" --filter status=running | wc -l)
  total=$(docker ps -aq | wc -l)
  echo "{\"running\": $running, \"engine_total\": $total}" >"$RES/setup.json"
  [ "$running" -eq "$CONTAINERS" ] || die "only $running of $CONTAINERS containers are running"

  local port url
  port=$(free_port)
  url=http://127.0.0.1:$port/metrics
  log "starting the agent on 127.0.0.1:$port"
  start_agent "$port" "$TMP/agent-real.log" "$TMP/state-real"
  local secs
  secs=$(wait_ready "$port" 60) || { cat "$TMP/agent-real.log" >&2; die "agent not ready within 60 s"; }
  echo "{\"seconds\": $secs}" >"$RES/ready.json"

  # Warm-up: a few scrapes, then let it settle.
  $PY latency --url "$url" -n 10 --warmup 0 >/dev/null
  $PY metrics --url "$url" >"$RES/series.json"
  sleep 5
  proc_json >"$RES/rss_warm.json"

  # Idle CPU: no scrapes, and an independent subscriber counts any engine activity.
  log "idle CPU: ${IDLE_SECONDS} s without scrapes"
  local ti
  ti=$(now)
  docker events --since "$ti" --format '{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.Attributes.name}}' \
    >"$TMP/idle-events.log" 2>/dev/null &
  EVENTS_PID=$!
  sleep 1
  proc_json >"$TMP/idle-a.json"
  sleep "$IDLE_SECONDS"
  proc_json >"$TMP/idle-b.json"
  stop_pid "$EVENTS_PID"; EVENTS_PID=""
  python3 - "$TMP/idle-a.json" "$TMP/idle-b.json" "$TMP/idle-events.log" "$RES/idle.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
lo, hi = int(a["time"] * 1e9), int(b["time"] * 1e9)
by = {}
for line in open(sys.argv[3]):
    p = line.split(" ", 3)
    if len(p) >= 3 and p[0].isdigit() and lo <= int(p[0]) <= hi:
        k = p[1] + "/" + p[2].split(":")[0]
        by[k] = by.get(k, 0) + 1
secs = b["time"] - a["time"]
# utime+stime (10 ms ticks) as asked; schedstat gives the same in nanoseconds when present.
cpu_s = (b["cpu_ticks"] - a["cpu_ticks"]) / a["clk_tck"]
source = "utime+stime"
if "sched_ns" in a and "sched_ns" in b:
    cpu_s, source = (b["sched_ns"] - a["sched_ns"]) / 1e9, "schedstat"
tot = b["host_total"] - a["host_total"]
busy = 100.0 * (tot - (b["host_idle"] - a["host_idle"])) / tot if tot > 0 else 0.0
json.dump({"seconds": secs, "cpu_s": cpu_s, "pct": 100.0 * cpu_s / secs, "host_busy_pct": busy,
           "ms_per_min": cpu_s * 1000.0 * 60.0 / secs, "ticks": b["cpu_ticks"] - a["cpu_ticks"],
           "clk_tck": a["clk_tck"], "source": source,
           "engine_events": sum(by.values()), "engine_events_by_action": by},
          open(sys.argv[4], "w"))
EOF

  # Scrape latency, plain and gzip, with the agent's CPU per scrape.
  local kind flag
  for kind in plain gzip; do
    flag=""; [ "$kind" = gzip ] && flag=--gzip
    log "scrape latency ($kind): $SCRAPES sequential GET /metrics"
    proc_json >"$TMP/lat-a.json"
    $PY latency --url "$url" -n "$SCRAPES" $flag >"$TMP/lat.json"
    proc_json >"$TMP/lat-b.json"
    python3 - "$TMP/lat.json" "$TMP/lat-a.json" "$TMP/lat-b.json" "$RES/lat_$kind.json" <<'EOF'
import json, sys
l, a, b = (json.load(open(p)) for p in sys.argv[1:4])
# Includes the warm-up scrapes of the client (5).
l["cpu_ms_per_scrape"] = (b["cpu_ticks"] - a["cpu_ticks"]) * 1000.0 / a["clk_tck"] / (l["n"] + 5)
tot = b["host_total"] - a["host_total"]
l["host_busy_pct"] = 100.0 * (tot - (b["host_idle"] - a["host_idle"])) / tot if tot > 0 else 0.0
json.dump(l, open(sys.argv[4], "w"))
EOF
  done
  proc_json >"$RES/rss_scrapes.json"

  # Event burst on the real engine, with two independent ground truths.
  log "event burst: $EVENTS pause/unpause events, $BURST_PARALLEL parallel API clients"
  local t0 t1
  t0=$(now)
  docker events --since "$t0" --format '{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.Attributes.name}}' \
    >"$TMP/burst-events.log" 2>/dev/null &
  EVENTS_PID=$!
  sleep 1
  $PY metrics --url "$url" >"$TMP/burst-before.json"
  proc_json >"$TMP/burst-pa.json"
  $PY burst --ids "$TMP/ids" --events "$EVENTS" --parallel "$BURST_PARALLEL" >"$TMP/burst-api.json"
  local base target
  base=$(python3 -c "import json; e=json.load(open('$TMP/burst-before.json'))['events']; print(e.get('container/pause',0)+e.get('container/unpause',0))")
  target=$(python3 -c "import json; print(json.load(open('$TMP/burst-api.json'))['ok_total'])")
  $PY wait-events --url "$url" --base "$base" --target "$target" \
    --actions container/pause,container/unpause --timeout 120 --settle 10 \
    --interval "$POLL_INTERVAL" >"$TMP/burst-wait.json"
  proc_json >"$TMP/burst-pb.json"
  $PY metrics --url "$url" >"$TMP/burst-after.json"
  sleep 1
  t1=$(now)
  sleep 1
  stop_pid "$EVENTS_PID"; EVENTS_PID=""
  $PY tally --file "$TMP/burst-events.log" --t0 "$t0" --t1 "$t1" --prefix "$PREFIX" >"$TMP/burst-tally.json"
  python3 - "$TMP" "$RES/burst.json" <<'EOF'
import json, sys
d = sys.argv[1]
j = lambda n: json.load(open("%s/%s.json" % (d, n)))
api, before, after, wait, tally = j("burst-api"), j("burst-before"), j("burst-after"), j("burst-wait"), j("burst-tally")
pa, pb = j("burst-pa"), j("burst-pb")
keys = ("container/pause", "container/unpause")
delta = sum(after["events"].get(k, 0) - before["events"].get(k, 0) for k in keys)
out = {"api": api, "tally": tally, "agent_delta": int(delta),
       "agent_before": {k: before["events"].get(k, 0) for k in keys},
       "agent_after": {k: after["events"].get(k, 0) for k in keys},
       "wait": {k: v for k, v in wait.items() if k != "metrics"},
       "cpu_ms": (pb["cpu_ticks"] - pa["cpu_ticks"]) * 1000.0 / pa["clk_tck"],
       "host_busy_pct": 100.0 * (1 - (pb["host_idle"] - pa["host_idle"]) / max(1, pb["host_total"] - pa["host_total"])),
       "reconnects_before": before.get("composewatch_event_stream_reconnects_total"),
       "reconnects_after": after.get("composewatch_event_stream_reconnects_total")}
if wait.get("reached"):
    out["lag_s"] = max(0.0, wait["time"] - api["t_end"])
else:
    out["note"] = "The agent's count did not reach the number of successful calls (%s of %s) before the wait gave up." % (wait.get("count"), api["ok_total"])
if (out["reconnects_after"] or 0) != (out["reconnects_before"] or 0):
    out["note"] = (out.get("note", "") + " The agent reconnected its event stream during the burst.").strip()
json.dump(out, open(sys.argv[2], "w"))
EOF
  proc_json >"$RES/rss_burst.json"

  log "stopping the agent"
  stop_pid "$AGENT_PID"; AGENT_PID=""
  # The agent runs with --log.level=warn: anything it logged is worth a note.
  if [ -s "$TMP/agent-real.log" ]; then cp "$TMP/agent-real.log" "$RES/agent-real.log"; fi
}

# ---------------------------------------------------------------------------- fake engine

fake_engine() {
  # A fake engine is used only because a real one cannot emit events at this rate on
  # demand; see bench/fake_engine.py.
  local dir=$TMP/fake
  mkdir -p "$dir"
  log "fake engine: streaming $FAKE_EVENTS events"
  python3 "$ROOT/bench/fake_engine.py" --socket "$dir/fake.sock" --events "$FAKE_EVENTS" \
    --request-log "$dir/requests.log" --status-file "$dir/status.json" 2>"$dir/fake.log" &
  FAKE_PID=$!
  for _ in $(seq 50); do [ -S "$dir/fake.sock" ] && break; sleep 0.1; done
  [ -S "$dir/fake.sock" ] || die "fake engine did not start: $(cat "$dir/fake.log")"

  local port url secs
  port=$(free_port)
  url=http://127.0.0.1:$port/metrics
  $PY proc --pid $$ >"$dir/host-a.json"
  start_agent "$port" "$TMP/agent-fake.log" "$TMP/state-fake" "--docker.host=unix://$dir/fake.sock"
  if ! secs=$(wait_ready "$port" 60); then
    echo "{\"error\": \"agent not ready on the fake engine within 60 s\"}" >"$RES/fake.json"
    cp "$TMP/agent-fake.log" "$RES/agent-fake.log" 2>/dev/null || true
    stop_pid "$AGENT_PID"; AGENT_PID=""; stop_pid "$FAKE_PID"; FAKE_PID=""
    return 0
  fi
  # Generous timeout: at 5,000 events/s 200,000 take 40 s.
  $PY wait-events --url "$url" --target "$FAKE_EVENTS" --timeout $((FAKE_EVENTS / 500 + 60)) \
    --settle 20 --interval "$POLL_INTERVAL" >"$dir/wait.json"
  proc_json >"$dir/pb.json"
  sleep 0.5
  python3 - "$dir" "$RES/fake.json" "$FAKE_EVENTS" "$POLL_INTERVAL" <<'EOF'
import json, re, sys
d, outp, k, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
st = json.load(open(d + "/status.json"))
wait = json.load(open(d + "/wait.json"))
pb, ha = json.load(open(d + "/pb.json")), json.load(open(d + "/host-a.json"))
m = wait.get("metrics") or {}
counted = int(m.get("events_total", 0))
# The stream may start before /readyz answers, so CPU is counted from the agent's start.
out = {"sent": k, "counted": counted, "interval": interval, "rss": pb,
       "cpu_ms": pb["cpu_ticks"] * 1000.0 / pb["clk_tck"],
       "host_busy_pct": 100.0 * (1 - (pb["host_idle"] - ha["host_idle"]) / max(1, pb["host_total"] - ha["host_total"]))}
if "first_byte_time" not in st:
    out["error"] = "the agent never subscribed to /events"
else:
    if "last_byte_time" in st:
        out["write_seconds"] = st["last_byte_time"] - st["first_byte_time"]
    out["blocked_seconds"] = st.get("blocked_s")
    out["fake_cpu_seconds"] = st.get("cpu_s")
    if wait.get("reached"):
        out["seconds"] = wait["time"] - st["first_byte_time"]
        out["rate"] = k / out["seconds"]
    else:
        out["note"] = "count stopped at %s of %d" % (wait.get("count"), k)
agent = {key.split("/", 1)[1]: int(v) for key, v in m.get("events", {}).items()}
sent = st.get("sent_by_action", {})
mismatch = {a: [sent.get(a, 0), agent.get(a, 0)] for a in set(sent) | set(agent)
            if sent.get(a, 0) != agent.get(a, 0)}
if mismatch:
    out["mismatch"] = mismatch
req = {}
for line in open(d + "/requests.log"):
    parts = line.split()
    if len(parts) < 3:
        continue
    path = parts[2].split("?")[0]
    path = re.sub(r"/containers/[0-9a-f]{12,64}/", "/containers/{id}/", path)
    key = parts[1] + " " + path
    req[key] = req.get(key, 0) + 1
out["requests"] = req
out["reconnects"] = m.get("composewatch_event_stream_reconnects_total")
json.dump(out, open(outp, "w"))
EOF
  stop_pid "$AGENT_PID"; AGENT_PID=""
  stop_pid "$FAKE_PID"; FAKE_PID=""
  if [ -s "$TMP/agent-fake.log" ]; then cp "$TMP/agent-fake.log" "$RES/agent-fake.log"; fi
}

if [ "$DO_REAL" = 1 ]; then real_engine; fi
if [ "$DO_FAKE" = 1 ]; then fake_engine; fi

# ---------------------------------------------------------------------------- report

mkdir -p "$(dirname "$OUT")"
$PY report --dir "$RES" | tee "$OUT"
python3 - "$RES" "$OUT.json" <<'EOF'
import json, os, sys
d = sys.argv[1]
raw = {}
for n in sorted(os.listdir(d)):
    if n.endswith(".json"):
        raw[n[:-5]] = json.load(open(os.path.join(d, n)))
json.dump(raw, open(sys.argv[2], "w"), indent=1, sort_keys=True)
EOF
log "results written to $OUT (raw data: $OUT.json)"
