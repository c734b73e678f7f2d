#!/usr/bin/env bash
# composewatch soak: the agent follows constant container churn on the real engine for a
# long time (default 30 min) while its RSS and open fds are sampled from /proc every 10 s;
# reports the trend (least-squares slope, first- vs last-quartile means). Measures and
# reports; nothing passes or fails. See docs/benchmarks.md, "Soak".
#
#   bench/soak/run.sh [--minutes 30] [--interval 10] [--pool 20] [--parallel 2]
#                     [--out bench/results/<date>-soak.md]
#
# Needs root, a running Docker engine, python3 (stdlib), curl and a built
# build/composewatch. Everything it creates is named cwsoak-<run id>-… / labelled
# cwchurn.run=cwsoak-<run id> and removed on exit, also on failure or Ctrl-C.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

MINUTES=30
INTERVAL=10
POOL=20
PARALLEL=2
PAUSE=0.5
OUT=""
BIN=""
DO_BUILD=1
IMAGE=composewatch-test/busybox:1

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF2
Options:
  --minutes M      length of the churn and sampling (default $MINUTES)
  --interval S     seconds between samples (default $INTERVAL)
  --pool N         container names re-created over and over (default $POOL)
  --parallel N     churn workers, each owning pool/N names (default $PARALLEL)
  --pause S        each worker sleeps S before each lifecycle (default $PAUSE)
  --out FILE       results file (default bench/results/YYYY-MM-DD-soak.md; raw data beside it)
  --binary PATH    agent binary (default build/composewatch)
  --no-build       do not run cmake --build
EOF2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --pool) POOL=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    --pause) PAUSE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/build/composewatch}
OUT=${OUT:-bench/results/$(date +%Y-%m-%d)-soak.md}
LOG_TAG=soak
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

ready_to_run

RUN=cwsoak-$(date +%Y%m%d%H%M%S)-$$
TMP=$(mktemp -d /tmp/cwsoak-XXXXXX)
AGENT_PID="" CHURN_PID="" SAMPLER_PID=""

cleanup() {
  local rc=$?
  set +e
  stop_pid "$SAMPLER_PID"
  stop_pid "$CHURN_PID"
  stop_pid "$AGENT_PID"
  python3 bench/churn.py --run "$RUN" cleanup >/dev/null 2>&1
  release_test_image
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_test_image

PORT=$(free_port)
mkdir -p "$TMP/state"
echo '{}' >"$TMP/empty-config.yml"
"$BIN" run "--web.listen-address=127.0.0.1:$PORT" --log.level=warn "--state.dir=$TMP/state" \
  "--config.file=$TMP/empty-config.yml" 2>"$TMP/agent.log" &
AGENT_PID=$!
for _ in $(seq 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/readyz")" = 200 ] && break
  kill -0 "$AGENT_PID" 2>/dev/null || die "the agent exited: $(tail -5 "$TMP/agent.log")"
  sleep 0.1
done
log "agent pid $AGENT_PID ready on port $PORT; churn of $POOL names by $PARALLEL workers for $MINUTES min"

SECONDS_TOTAL=$((MINUTES * 60))
python3 bench/churn.py --run "$RUN" churn --prefix "$RUN-" --project "$RUN" --pool "$POOL" \
  --parallel "$PARALLEL" --pause "$PAUSE" --seconds "$SECONDS_TOTAL" >"$TMP/churn.json" &
CHURN_PID=$!
# In the background and waited for, so that a signal reaches the clean-up at once.
python3 bench/soak/soak.py sample --pid "$AGENT_PID" --url "http://127.0.0.1:$PORT/metrics" \
  --seconds "$SECONDS_TOTAL" --interval "$INTERVAL" --out "$TMP/samples.jsonl" &
SAMPLER_PID=$!
wait "$SAMPLER_PID"
SAMPLER_PID=""
log "sampling done; waiting for the churn workers to finish their last lifecycle"
wait "$CHURN_PID" || log "warning: the churn driver exited non-zero"
CHURN_PID=""
kill -0 "$AGENT_PID" 2>/dev/null || die "the agent died during the soak: $(tail -20 "$TMP/agent.log")"

mkdir -p "$(dirname "$OUT")"
cp "$TMP/samples.jsonl" "$OUT.samples.jsonl"
python3 - "$TMP/meta.json" <<PY
import json, sys
json.dump({"title": "$MINUTES min of container churn", "interval": $INTERVAL,
           "revision": "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)",
           "command": "bench/soak/run.sh --minutes $MINUTES --interval $INTERVAL --pool $POOL --parallel $PARALLEL --pause $PAUSE",
           "agent_log_warnings": $(grep -c . "$TMP/agent.log" || true)}, open(sys.argv[1], "w"))
PY
python3 bench/soak/soak.py report --samples "$TMP/samples.jsonl" --churn "$TMP/churn.json" \
  --meta "$TMP/meta.json" --out "$OUT"
log "results: $OUT (raw: $OUT.json, $OUT.samples.jsonl)"
