#!/usr/bin/env bash
# composewatch scrape cost: with N running containers and one Prometheus-like scraper (one
# scrape a second on one keep-alive connection), /metrics latency, agent CPU per scrape and
# memory, plain and with gzip, against the floor (bench/scrape/floor.cpp: the same cgroup
# files read and parsed by a bare C++ program in the same seconds); at the last size, the
# same while --churn containers are re-created; with --netdata, Debian's netdata watching the
# same containers. Measures and reports; see docs/benchmarks.md, "Scrape cost".
#
#   sudo bench/scrape/run.sh [--containers "200 1000"] [--scrapes 120] [--interval 1.5]
#                            [--churn K] [--netdata] [--out bench/results/<date>-scrape.md]
#
# Needs root, a running Docker engine, python3 (stdlib), g++ and curl. Everything it creates
# is named cwscrape-<run id>-NNNN / labelled cwscrape.run=<run id> and removed on exit, also
# on failure or Ctrl-C.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

COMMAND="bench/scrape/run.sh$(printf ' %q' "$@")"
SIZES="200 1000"
SCRAPES=120
# Above 1 s on purpose: the agent shares one cgroup read between scrapes of the same state
# snapshot for 1 s after it finished (metrics::SharedRead max_age), so at exactly 1 s every
# other scrape would be served from the previous read. 1.5 s leaves room for a 1,000
# container read; the report shows the agent's read syscalls per scrape against the floor's
# files per pass (1.0 = every scrape read every file afresh).
INTERVAL=1.5
NETDATA_SECONDS=60
CHURN=0
NETDATA=0
NETWORK=none
OUT=""
BIN=""
DO_BUILD=1
IMAGE=composewatch-test/busybox:1

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --containers "N ..."  sizes, each one run with a fresh agent (default "$SIZES")
  --scrapes S           scrapes per phase, after 10 warm-up scrapes (default $SCRAPES)
  --interval SECONDS    between scrape starts (default $INTERVAL)
  --churn K             at the last size, re-create K containers while scraping (default 0: no churn phase)
  --netdata             also run Debian's netdata on the same containers, side by side
  --netdata-seconds S   how long netdata is measured once it has found them (default $NETDATA_SECONDS)
  --network MODE        the containers' network: none (default) or bridge (real veths;
                        the Linux bridge holds at most 1024 ports)
  --binary PATH         agent binary (default build/composewatch)
  --no-build            do not run cmake --build
  --out FILE            results file (default bench/results/YYYY-MM-DD-scrape.md; raw data in FILE.json)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --containers) SIZES=$2; shift 2 ;;
    --scrapes) SCRAPES=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --churn) CHURN=$2; shift 2 ;;
    --netdata) NETDATA=1; shift ;;
    --netdata-seconds) NETDATA_SECONDS=$2; shift 2 ;;
    --network) NETWORK=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$NETWORK" in none|bridge) ;; *) echo "--network: none or bridge" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/build/composewatch}
OUT=${OUT:-bench/results/$(date +%Y-%m-%d)-scrape.md}
PY="python3 $ROOT/bench/scrape/scrape.py"
LOG_TAG=scrape
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

ready_to_run
command -v g++ >/dev/null || die "g++ missing"
command -v curl >/dev/null || die "curl missing"
[ "$NETWORK" = bridge ] && for n in $SIZES; do
  [ "$n" -le 1000 ] || die "--network bridge: $n containers, but a Linux bridge holds at most 1024 ports"
done

RUN_ID=$(date +%Y%m%d%H%M%S)-$$
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
PREFIX=cwscrape-$RUN_ID
PROJECT=$PREFIX
TMP=$(mktemp -d /tmp/cwscrape-XXXXXX)
AGENT_PID=""
NETDATA_PID=""
SCRAPER_PID=""

cleanup() {
  local rc=$?
  set +e
  stop_pid "$SCRAPER_PID"
  stop_pid "$AGENT_PID"
  stop_netdata
  local ids
  ids=$(docker ps -aq --filter "label=cwscrape.run=$RUN_ID" 2>/dev/null)
  if [ -n "$ids" ]; then
    log "removing $(echo "$ids" | wc -l) bench containers"
    echo "$ids" | xargs -r -n 50 -P 4 docker rm -f >/dev/null 2>&1
  fi
  release_test_image
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_netdata() {
  [ -n "$NETDATA_PID" ] || return 0
  # netdata ends its plugins itself; whatever of its tree is left after that is ended here.
  local tree
  tree=$(python3 -c "import sys; sys.path.insert(0, '$ROOT/bench/scrape'); import scrape; print(' '.join(map(str, scrape.tree_of($NETDATA_PID)[1:])))" 2>/dev/null || true)
  stop_pid "$NETDATA_PID"
  for p in $tree; do kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
  NETDATA_PID=""
}

ensure_test_image
g++ -O2 -std=c++20 -o "$TMP/floor" bench/scrape/floor.cpp || die "cannot compile bench/scrape/floor.cpp"

# run_container I: (re)creates container I of the run: Compose project $PROJECT, ten
# containers per service (service sNNN, container-number 1..10), labelled with the run.
run_container() {
  local i=$((10#$1)) name
  name=$(printf '%s-%04d' "$PREFIX" "$i")
  docker run -d --name "$name" --network "$NETWORK" \
    --label "cwscrape.run=$RUN_ID" \
    --label "com.docker.compose.project=$PROJECT" \
    --label "com.docker.compose.service=$(printf 's%03d' $(((i - 1) / 10 + 1)))" \
    --label "com.docker.compose.container-number=$(((i - 1) % 10 + 1))" \
    --label com.docker.compose.oneoff=False \
    "$IMAGE" sleep 86400 >/dev/null
}
recreate_container() {
  docker rm -f "$(printf '%s-%04d' "$PREFIX" "$((10#$1))")" >/dev/null && run_container "$1"
}
export -f run_container recreate_container
export PREFIX PROJECT RUN_ID NETWORK IMAGE

running() { docker ps -q --filter "label=cwscrape.run=$RUN_ID" | wc -l; }

AGENT_HELP=$("$BIN" run --help 2>&1 || true)
start_agent() {  # start_agent PORT LOGFILE STATEDIR: sets AGENT_PID
  local port=$1 logf=$2 state=$3
  local args=(run "--web.listen-address=127.0.0.1:$port" --log.level=warn "--state.dir=$state")
  mkdir -p "$state"
  if [ -e /etc/composewatch/config.yml ] && grep -q -- '--config.file' <<<"$AGENT_HELP"; then
    # Keep the host's config (prune policies, compose projects) out of the measurement.
    echo '{}' >"$TMP/empty-config.yml"; args+=("--config.file=$TMP/empty-config.yml")
  fi
  "$BIN" "${args[@]}" 2>"$logf" &
  AGENT_PID=$!
}

# netdata_run N SECONDS: Debian's netdata in the foreground, its default cgroups collection,
# measured (CPU, RSS of all its processes) for SECONDS once it has found the containers.
netdata_run() {
  local n=$1 seconds=$2 out=$TMP/netdata-$1.json
  local nd
  nd=$(command -v netdata || echo /usr/sbin/netdata)
  if [ ! -x "$nd" ]; then
    echo "{\"error\": \"netdata is not installed (apt-get install -y netdata)\"}" >"$out"; return 0
  fi
  if curl -s -o /dev/null --max-time 2 http://127.0.0.1:19999/api/v1/info; then
    echo "{\"error\": \"something already listens on 127.0.0.1:19999 (a netdata service?): stop it first\"}" >"$out"; return 0
  fi
  log "netdata: starting $("$nd" -v 2>&1 | head -1) in the foreground"
  # DO_NOT_TRACK: netdata's anonymous statistics would leave the machine.
  DO_NOT_TRACK=1 "$nd" -D >"$TMP/netdata-$n.log" 2>&1 &
  NETDATA_PID=$!
  # Discovery: until the number of cgroup charts stops growing (netdata looks for new
  # cgroups every 10 s by default), at most 180 s.
  local t0=$SECONDS last=-1 now_c=0 stable=0
  while [ $((SECONDS - t0)) -lt 180 ]; do
    sleep 5
    kill -0 "$NETDATA_PID" 2>/dev/null || break
    now_c=$(curl -s --max-time 10 http://127.0.0.1:19999/api/v1/charts | grep -c '"cgroup_' || true)
    if [ "$now_c" -gt 0 ] && [ "$now_c" = "$last" ]; then
      stable=$((stable + 1)); [ "$stable" -ge 3 ] && break
    else
      stable=0
    fi
    last=$now_c
  done
  if ! kill -0 "$NETDATA_PID" 2>/dev/null; then
    tail -n 3 "$TMP/netdata-$n.log" | python3 -c 'import json,sys; print(json.dumps({"error": "netdata exited: " + sys.stdin.read()}))' >"$out"
    NETDATA_PID=""; return 0
  fi
  local disc=$((SECONDS - t0))
  log "netdata: $now_c cgroup charts after $disc s; measuring for $seconds s"
  local tree ctr
  tree=$($PY tree --pid "$NETDATA_PID" --seconds "$seconds")
  # Containers netdata shows: cgroup_<name>.cpu charts, one per container.
  ctr=$(curl -s --max-time 10 http://127.0.0.1:19999/api/v1/charts | grep -o '"cgroup_[^".]*\.cpu"' | sort -u | wc -l || true)
  stop_netdata
  printf '{"cgroup_charts": %s, "containers_with_cpu_chart": %s, "discovery_s": %s, "tree": %s}\n' \
    "$now_c" "$ctr" "$disc" "$tree" >"$out"
}

SIZES_JSON=()
PREV=0
for N in $SIZES; do
  log "=== $N containers"
  S0=$SECONDS
  if [ "$N" -gt "$PREV" ]; then
    log "starting containers $((PREV + 1))..$N (xargs -P 8)"
    t0=$(now)
    # shellcheck disable=SC2016  # $1 is the inner shell's
    seq "$((PREV + 1))" "$N" | xargs -P 8 -I{} bash -c 'run_container "$1"' _ {} \
      || die "docker run failed for some containers ($(running) of $N running); see above"
    start_s=$(python3 -c "print(round($(now) - $t0, 1))")
  else
    # Fewer than before: remove the surplus.
    seq -f "$PREFIX-%04g" "$((N + 1))" "$PREV" | xargs -r docker rm -f >/dev/null
    start_s=0
  fi
  PREV=$N
  [ "$(running)" -eq "$N" ] || die "$(running) of $N containers running"
  log "$N containers running (started in $start_s s)"

  PORT=$(free_port)
  URL=http://127.0.0.1:$PORT/metrics
  start_agent "$PORT" "$TMP/agent-$N.log" "$TMP/state-$N"
  ready=$($PY wait --url "$URL" --project "$PROJECT" --n "$N" --timeout 600) \
    || die "the agent never showed $N containers: $(tail -n 5 "$TMP/agent-$N.log")"
  log "agent: $N containers on /metrics ($ready)"
  # Start-up work (inventory, inspects, the first /system/df, image checks) is not the
  # scrapes': wait until the agent is near idle (< 20 ms CPU a second over 10 s, at most 180 s).
  settle=$($PY settle --pid "$AGENT_PID")
  log "agent settled: $settle"
  # The floor reads what the agent reads: every running container on the engine, the run's
  # and any others (the engine may be shared); the report gives both counts.
  # shellcheck disable=SC2046  # one id per word
  docker inspect -f '{{.Id}} {{.State.Pid}}' $(docker ps -q) >"$TMP/ids-$N"
  others=$(($(wc -l <"$TMP/ids-$N") - N))
  [ "$others" -eq 0 ] || log "warning: $others other running containers on the engine; the agent and the floor read them too"

  for phase in plain gzip; do
    log "phase $phase: $SCRAPES scrapes, one every $INTERVAL s, floor in the same seconds"
    gz=(); [ "$phase" = gzip ] && gz=(--gzip)
    $PY phase --url "$URL" --pid "$AGENT_PID" --n "$SCRAPES" --interval "$INTERVAL" --project "$PROJECT" \
      --floor "$TMP/floor" --ids "$TMP/ids-$N" "${gz[@]}" >"$TMP/$phase-$N.json"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); f=d['floor']; print('p50 %.1f p99 %.1f max %.1f ms, agent %.2f ms/scrape, floor %.2f ms/pass, ratio %.2f' % (d['p50_ms'], d['p99_ms'], d['max_ms'], d['agent_cpu_ms_per_scrape'], f['cpu_s_per_pass']*1e3, d['agent_cpu_ms_per_scrape']/(f['cpu_s_per_pass']*1e3)))" "$TMP/$phase-$N.json" >&2
  done

  churn_json='null'; churn_phase='null'
  if [ "$CHURN" -gt 0 ] && [ "$N" = "${SIZES##* }" ]; then
    [ "$CHURN" -le "$N" ] || die "--churn $CHURN is more than the $N containers"
    log "churn: re-creating $CHURN of the $N containers while scraping (10 s timeout)"
    rm -f "$TMP/churn-done"
    $PY phase --url "$URL" --pid "$AGENT_PID" --interval "$INTERVAL" --project "$PROJECT" --warmup 0 \
      --timeout 10 --stop-file "$TMP/churn-done" --after 10 >"$TMP/churn-$N.json" &
    SCRAPER_PID=$!
    sleep 5
    t0=$(now)
    # Spread over the whole range, so that services of every part of the project are hit.
    # shellcheck disable=SC2016  # $1 is the inner shell's
    python3 -c "import sys; n,k=int(sys.argv[1]),int(sys.argv[2]); print('\n'.join(str(1 + i * n // k) for i in range(k)))" \
      "$N" "$CHURN" | xargs -P 8 -I{} bash -c 'recreate_container "$1"' _ {} || log "warning: some re-creations failed"
    churn_s=$(python3 -c "print(round($(now) - $t0, 1))")
    touch "$TMP/churn-done"
    wait "$SCRAPER_PID" || log "warning: the churn scraper failed"
    SCRAPER_PID=""
    after=$($PY wait --url "$URL" --project "$PROJECT" --n "$N" --exact --timeout 120 || true)
    log "churn: $CHURN re-created in $churn_s s; after: $after"
    churn_json="{\"recreated\": $CHURN, \"seconds\": $churn_s, \"running\": $(running), \"after\": ${after:-null}}"
    churn_phase=$(cat "$TMP/churn-$N.json")
  fi
  stop_pid "$AGENT_PID"; AGENT_PID=""
  grep -v '^$' "$TMP/agent-$N.log" | tail -n 20 >"$TMP/agent-$N.tail" || true

  netdata_json='null'
  if [ "$NETDATA" = 1 ]; then
    netdata_run "$N" "$NETDATA_SECONDS"
    netdata_json=$(cat "$TMP/netdata-$N.json")
  fi

  SIZES_JSON+=("$(python3 - "$N" "$start_s" "$ready" "$TMP" "$churn_json" "$churn_phase" "$netdata_json" "$((SECONDS - S0))" "$others" "$settle" <<'EOF'
import json, sys
n, start_s, ready, tmp, churn, churn_phase, netdata, took, others, settle = sys.argv[1:]
phases = {p: json.load(open("%s/%s-%s.json" % (tmp, p, n))) for p in ("plain", "gzip")}
cp = json.loads(churn_phase)
if cp:
    phases["churn"] = cp
d = {"n": int(n), "start_s": float(start_s), "ready_s": json.loads(ready)["seconds"], "phases": phases,
     "others_running": int(others), "settle": json.loads(settle), "seconds": int(took), "agent_log_tail": open("%s/agent-%s.tail" % (tmp, n)).read().splitlines()}
if json.loads(churn):
    d["churn"] = json.loads(churn)
if json.loads(netdata):
    d["netdata"] = json.loads(netdata)
print(json.dumps(d))
EOF
)")
done

# ---------------------------------------------------------------------------- report
mkdir -p "$(dirname "$OUT")"
printf '%s\n' "${SIZES_JSON[@]}" >"$TMP/sizes.jsonl"
python3 - "$TMP/sizes.jsonl" "$OUT.json" <<EOF
import json, sys, subprocess, os
sizes = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
d = {"started": "$STARTED", "finished": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "command": "$COMMAND", "binary": "$BIN",
     "revision": sh("git -C '$ROOT' rev-parse --short=12 HEAD"),
     "agent_version": sh("'$BIN' --version"), "engine": "Docker " + sh("docker version -f '{{.Server.Version}}'"),
     "cpus": os.cpu_count(), "image": "$IMAGE", "network": "$NETWORK", "interval": $INTERVAL,
     "scrapes": $SCRAPES, "run_id": "$RUN_ID", "sizes": sizes}
json.dump(d, open(sys.argv[2], "w"), indent=1)
EOF
$PY report --json "$OUT.json" --out "$OUT"
log "results: $OUT (raw: $OUT.json)"
