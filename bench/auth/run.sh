#!/usr/bin/env bash
# composewatch under password guessing: while A strangers send wrong basic-auth passwords
# for S seconds, a Prometheus-like scraper with the right ones scrapes /metrics every
# second (10 s timeout). Reports the scrapes' statuses and latency (p50/p99/max), the
# strangers' answers, the agent's CPU, and how a second scraper whose credentials the
# agent has not seen yet fares. With --compare, the same run first against another agent
# binary (the one before a change), then this one. Measures and reports; see
# docs/benchmarks.md, "Password guessing during scrapes".
#
#   bench/auth/run.sh [--attackers 50] [--seconds 30] [--containers 20] [--stranger-hosts 1]
#                     [--compare OLD_BINARY] [--out bench/results/<date>-auth.md]
#
# The scrapers connect from 127.0.0.2 and .3, the strangers from --stranger-hosts other
# loopback addresses (127.0.1.x): the agent tells clients apart by address.
#
# Needs root, a running Docker engine, python3 (stdlib, with the crypt module) and a built
# build/composewatch. Everything it creates is named cwauth-<run id>-… / labelled
# cwchurn.run=cwauth-<run id> and removed on exit, also on failure or Ctrl-C.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

ATTACKERS=50
HOSTS=1
SECONDS_=30
CONTAINERS=20
COST=10
OUT=""
BIN=""
OLD_BIN=""
DO_BUILD=1
IMAGE=composewatch-test/busybox:1

while [ $# -gt 0 ]; do
  case "$1" in
    --attackers) ATTACKERS=$2; shift 2 ;;
    --stranger-hosts) HOSTS=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --containers) CONTAINERS=$2; shift 2 ;;
    --cost) COST=$2; shift 2 ;;
    --compare) OLD_BIN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; echo "Also: --cost N (bcrypt cost of the users, default 10), --binary PATH, --no-build"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/build/composewatch}
OUT=${OUT:-bench/results/$(date +%Y-%m-%d)-auth.md}
LOG_TAG=auth
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

ready_to_run
[ -z "$OLD_BIN" ] || [ -x "$OLD_BIN" ] || die "no agent binary at $OLD_BIN"

RUN=cwauth-$(date +%Y%m%d%H%M%S)-$$
TMP=$(mktemp -d /tmp/cwauth-XXXXXX)
AGENT_PID=""

cleanup() {
  local rc=$?
  set +e
  stop_pid "$AGENT_PID"
  python3 bench/churn.py --run "$RUN" cleanup >/dev/null 2>&1
  release_test_image
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_test_image

start_idle_containers "$RUN" "$CONTAINERS"

# Two users of the same bcrypt cost: the scraper's, and one first used during the attack.
PASSWORD=scrape-$RANDOM$RANDOM
COLD_PASSWORD=cold-$RANDOM$RANDOM
python3 -W ignore - "$TMP/web.yml" "$COST" "$PASSWORD" "$COLD_PASSWORD" <<'PY'
import crypt, sys
path, cost, pw, cold = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
h = lambda p: crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** cost))
open(path, "w").write("basic_auth_users:\n  prometheus: %s\n  grafana: %s\n" % (h(pw), h(cold)))
PY
echo '{}' >"$TMP/empty-config.yml"

round() {  # round NAME BINARY
  local name=$1 bin=$2 port state
  port=$(free_port); state=$TMP/state-$name; mkdir -p "$state"
  "$bin" run "--web.listen-address=127.0.0.1:$port" --log.level=warn "--state.dir=$state" \
    "--config.file=$TMP/empty-config.yml" "--web.config.file=$TMP/web.yml" 2>"$TMP/agent-$name.log" &
  AGENT_PID=$!
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -u "prometheus:$PASSWORD" "http://127.0.0.1:$port/readyz")" = 200 ] && break
    kill -0 "$AGENT_PID" 2>/dev/null || die "the agent exited: $(tail -5 "$TMP/agent-$name.log")"
    sleep 0.2
  done
  sleep 2
  python3 bench/cwbench.py proc --pid "$AGENT_PID" >"$TMP/$name-proc-before.json"
  log "round $name ($bin): $ATTACKERS strangers for $SECONDS_ s, a scrape every second"
  python3 bench/auth/authbench.py --url "http://127.0.0.1:$port/metrics" --user prometheus --password "$PASSWORD" \
    --cold-user grafana --cold-password "$COLD_PASSWORD" --attackers "$ATTACKERS" --stranger-hosts "$HOSTS" --seconds "$SECONDS_" \
    >"$TMP/$name-bench.json"
  python3 bench/cwbench.py proc --pid "$AGENT_PID" >"$TMP/$name-proc-after.json"
  stop_pid "$AGENT_PID"; AGENT_PID=""
  python3 - "$TMP" "$name" "$bin" <<'PY'
import json, sys
tmp, name, binary = sys.argv[1:4]
b = json.load(open("%s/%s-bench.json" % (tmp, name)))
before = json.load(open("%s/%s-proc-before.json" % (tmp, name)))
after = json.load(open("%s/%s-proc-after.json" % (tmp, name)))
b.update({"name": name, "binary": binary, "agent_cpu_ms": (after.get("sched_ns", 0) - before.get("sched_ns", 0)) / 1e6,
          "host_busy_pct": 100.0 * ((after["host_total"] - before["host_total"]) - (after["host_idle"] - before["host_idle"]))
                           / max(1, after["host_total"] - before["host_total"]),
          "hwm_kib": after["VmHWM"], "threads": after.get("Threads")})
json.dump(b, open("%s/%s.json" % (tmp, name), "w"))
PY
}

NAMES=()
if [ -n "$OLD_BIN" ]; then round before "$OLD_BIN"; NAMES+=(before); fi
round after "$BIN"; NAMES+=(after)

mkdir -p "$(dirname "$OUT")"
python3 - "$TMP" "$OUT" "$ATTACKERS" "$SECONDS_" "$CONTAINERS" "$COST" "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" "$HOSTS" "${NAMES[@]}" <<'PY'
import json, sys
tmp, out, attackers, seconds, containers, cost, rev, hosts = sys.argv[1:9]
rounds = [json.load(open("%s/%s.json" % (tmp, n))) for n in sys.argv[9:]]
json.dump(rounds, open(out + ".json", "w"), indent=1)
L = ["# Password guessing: %s strangers on %s host(s) for %s s while Prometheus-like scrapes run, %s containers, "
     "bcrypt cost %s" % (attackers, hosts, seconds, containers, cost), "",
     "`bench/auth/run.sh --attackers %s --stranger-hosts %s --seconds %s --containers %s`, revision `%s`."
     % (attackers, hosts, seconds, containers, rev),
     "", "| Figure | " + " | ".join("%s (`%s`)" % (r["name"], r["binary"]) for r in rounds) + " |",
     "|---|" + "---|" * len(rounds)]
def row(label, f):
    L.append("| %s | %s |" % (label, " | ".join(f(r) for r in rounds)))
fmt = lambda v: "–" if v is None else "%.1f" % v
codes = lambda d: ", ".join("%s × %d" % kv for kv in sorted(d.items())) or "–"
row("authorised scrapes during the attack: 200s of all", lambda r: "%d of %d" % (r["ok"], r["scrapes_during_attack"]))
row("their statuses", lambda r: codes(r["scrape_statuses"]))
row("200 latency p50 / p99 / max", lambda r: "%s / %s / %s ms" % (fmt(r["ok_p50_ms"]), fmt(r["ok_p99_ms"]), fmt(r["ok_max_ms"])))
row("slowest scrape of any status", lambda r: "%s ms" % fmt(r["all_max_ms"]))
row("strangers' answers", lambda r: codes(r["strangers"]))
row("strangers' requests per second", lambda r: "%.0f" % r["stranger_requests_per_s"])
row("new credentials during the attack (every 1 s from 5 s in)", lambda r: codes(r["cold_statuses"]) +
    ("; first 200 after %.0f s" % r["cold_first_200_after_s"] if r["cold_first_200_after_s"] is not None else "; no 200"))
row("agent CPU over the run", lambda r: "%.1f s" % (r["agent_cpu_ms"] / 1000))
row("machine busy (all processes)", lambda r: "%.0f %%" % r["host_busy_pct"])
row("VmHWM (peak RSS)", lambda r: "%.1f MiB" % (r["hwm_kib"] / 1024))
text = "\n".join(L) + "\n"
open(out, "w").write(text)
sys.stdout.write(text)
PY
log "results: $OUT (raw: $OUT.json)"
