#!/usr/bin/env bash
# composewatch load: many concurrent scrapes of /metrics with C running containers on
# the real engine. R scrapes from K concurrent clients (curl --parallel), first against an
# agent with the default --web.max-requests (40: beyond it the documented 503), then
# against one whose limit is above K (nothing may fail); status codes, latency
# percentiles and the agent's RSS before and after. Measures and reports; see
# docs/benchmarks.md, "Load".
#
#   bench/load/run.sh [--containers 200] [--scrapes 1000] [--clients 50]
#                     [--out bench/results/<date>-load.md]
#
# Needs root, a running Docker engine, python3 (stdlib), curl >= 7.66 and a built
# build/composewatch. Everything it creates is named cwload-<run id>-… / labelled
# cwchurn.run=cwload-<run id> and removed on exit, also on failure or Ctrl-C.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

CONTAINERS=200
SCRAPES=1000
CLIENTS=50
REPEATS=3
OUT=""
BIN=""
DO_BUILD=1
IMAGE=composewatch-test/busybox:1

while [ $# -gt 0 ]; do
  case "$1" in
    --containers) CONTAINERS=$2; shift 2 ;;
    --scrapes) SCRAPES=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; echo "Also: --repeats N (rounds per agent, RSS after each; default 3), --binary PATH, --no-build"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/build/composewatch}
OUT=${OUT:-bench/results/$(date +%Y-%m-%d)-load.md}
LOG_TAG=load
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

ready_to_run

RUN=cwload-$(date +%Y%m%d%H%M%S)-$$
TMP=$(mktemp -d /tmp/cwload-XXXXXX)
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
running=$(docker ps -q --filter "label=cwchurn.run=$RUN" | wc -l)
[ "$running" -eq "$CONTAINERS" ] || die "only $running of $CONTAINERS containers run"

# One curl config: SCRAPES transfers of /metrics, each timed, the body discarded.
write_config() {  # write_config PORT FILE
  : >"$2"
  for _ in $(seq "$SCRAPES"); do
    printf 'url = "http://127.0.0.1:%s/metrics"\noutput = "/dev/null"\n' "$1" >>"$2"
  done
}

round() {  # round NAME [agent flags...]: one agent, SCRAPES scrapes by CLIENTS clients
  local name=$1; shift
  local port state
  port=$(free_port); state=$TMP/state-$name; mkdir -p "$state"
  echo '{}' >"$TMP/empty-config.yml"
  "$BIN" run "--web.listen-address=127.0.0.1:$port" --log.level=warn "--state.dir=$state" \
    "--config.file=$TMP/empty-config.yml" "$@" 2>"$TMP/agent-$name.log" &
  AGENT_PID=$!
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz")" = 200 ] && break
    kill -0 "$AGENT_PID" 2>/dev/null || die "the agent exited: $(tail -5 "$TMP/agent-$name.log")"
    sleep 0.1
  done
  # Warm-up: the containers' first inspect and cgroup paths, as a Prometheus would see it.
  for _ in $(seq 10); do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; done
  sleep 5
  python3 bench/cwbench.py proc --pid "$AGENT_PID" >"$TMP/$name-proc-before.json"
  python3 bench/cwbench.py metrics --url "http://127.0.0.1:$port/metrics" >"$TMP/$name-metrics.json"
  write_config "$port" "$TMP/curl-$name.cfg"
  log "round $name: $SCRAPES scrapes, $CLIENTS concurrent clients (agent flags: ${*:-none})"
  local t0 t1
  t0=$(now)
  : >"$TMP/$name-transfers.txt"
  # The same round REPEATS times on one agent, RSS after each: growth that goes on from
  # round to round would be a leak, a step after the first the allocator's high-water mark.
  for r in $(seq "$REPEATS"); do
    curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$CLIENTS" --max-time 30 -K "$TMP/curl-$name.cfg" \
      -w '%{http_code} %{time_total} %{time_starttransfer} %{size_download} %{num_connects} %{exitcode}\n' \
      >>"$TMP/$name-transfers.txt" || true
    sleep 2
    python3 bench/cwbench.py proc --pid "$AGENT_PID" >"$TMP/$name-proc-after-$r.json"
  done
  t1=$(now)
  cp "$TMP/$name-proc-after-$REPEATS.json" "$TMP/$name-proc-after.json"
  python3 - "$TMP" "$name" "$t0" "$t1" "$*" "$REPEATS" <<'PY'
import json, sys
tmp, name, t0, t1, flags = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
repeats = int(sys.argv[6])
per_round = [json.load(open("%s/%s-proc-after-%d.json" % (tmp, name, r))) for r in range(1, repeats + 1)]
rows = [l.split() for l in open("%s/%s-transfers.txt" % (tmp, name)) if l.strip()]
codes = {}
for r in rows:
    codes[r[0]] = codes.get(r[0], 0) + 1
def pct(v, p):
    v = sorted(v)
    if not v: return float("nan")
    k = max(1, -(-p * len(v) // 100))
    return v[min(k, len(v)) - 1]
ok = [float(r[1]) * 1000 for r in rows if r[0] == "200"]
rej = [float(r[1]) * 1000 for r in rows if r[0] == "503"]
allv = [float(r[1]) * 1000 for r in rows]
before = json.load(open("%s/%s-proc-before.json" % (tmp, name)))
after = json.load(open("%s/%s-proc-after.json" % (tmp, name)))
m = json.load(open("%s/%s-metrics.json" % (tmp, name)))
out = {"name": name, "flags": flags, "transfers": len(rows), "codes": codes,
       "curl_errors": sum(1 for r in rows if r[5] != "0"), "seconds": t1 - t0 - 2 * repeats, "repeats": repeats,
       "rss_after_each_kib": [p["VmRSS"] for p in per_round], "anon_after_each_kib": [p.get("RssAnon") for p in per_round],
       "rate": len(rows) / (t1 - t0 - 2 * repeats), "connects": sum(int(r[4]) for r in rows),
       "ok_p50_ms": pct(ok, 50), "ok_p90_ms": pct(ok, 90), "ok_p99_ms": pct(ok, 99), "ok_max_ms": max(ok) if ok else None,
       "rejected_p50_ms": pct(rej, 50), "all_p50_ms": pct(allv, 50), "all_p99_ms": pct(allv, 99),
       "body_bytes": max((int(r[3]) for r in rows if r[0] == "200"), default=0),
       "containers_exported": m.get("containers"), "series": m.get("series"),
       "rss_before_kib": before["VmRSS"], "rss_after_kib": after["VmRSS"],
       "anon_before_kib": before.get("RssAnon"), "anon_after_kib": after.get("RssAnon"),
       "hwm_after_kib": after["VmHWM"], "fds_before": before.get("fds"), "fds_after": after.get("fds"),
       "agent_cpu_ms": (after.get("sched_ns", 0) - before.get("sched_ns", 0)) / 1e6,
       "host_busy_pct": 100.0 * ((after["host_total"] - before["host_total"]) - (after["host_idle"] - before["host_idle"]))
                        / max(1, after["host_total"] - before["host_total"])}
json.dump(out, open("%s/%s.json" % (tmp, name), "w"))
PY
  stop_pid "$AGENT_PID"; AGENT_PID=""
}

round default
round above-clients "--web.max-requests=$((CLIENTS + 14))"

mkdir -p "$(dirname "$OUT")"
python3 - "$TMP" "$OUT" "$CONTAINERS" "$SCRAPES" "$CLIENTS" "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, sys
tmp, out, c, s, k, rev = sys.argv[1:7]
rounds = [json.load(open("%s/%s.json" % (tmp, n))) for n in ("default", "above-clients")]
json.dump(rounds, open(out + ".json", "w"), indent=1)
L = ["# Load: %s scrapes of /metrics from %s concurrent clients, %s running containers" % (s, k, c), "",
     "`bench/load/run.sh --containers %s --scrapes %s --clients %s`, agent revision `%s`; each agent takes "
     "the round %d times, the figures are over all of them." % (c, s, k, rev, rounds[0]["repeats"]), "",
     "| Figure | " + " | ".join("`%s`" % (r["flags"] or "defaults (--web.max-requests=40)") for r in rounds) + " |",
     "|---|" + "---|" * len(rounds)]
def row(label, f):
    L.append("| %s | %s |" % (label, " | ".join(f(r) for r in rounds)))
row("responses by status", lambda r: ", ".join("%s × %d" % kv for kv in sorted(r["codes"].items())))
row("curl errors (connection, timeout)", lambda r: str(r["curl_errors"]))
row("wall time, rate", lambda r: "%.1f s, %.0f scrapes/s" % (r["seconds"], r["rate"]))
row("200 latency p50 / p90 / p99 / max", lambda r: "%.1f / %.1f / %.1f / %.1f ms" % (r["ok_p50_ms"], r["ok_p90_ms"], r["ok_p99_ms"], r["ok_max_ms"] or 0))
row("503 latency p50", lambda r: "%.2f ms" % r["rejected_p50_ms"] if r["codes"].get("503") else "–")
row("body, series, containers exported", lambda r: "%.1f KB, %s, %s" % (r["body_bytes"] / 1000, r["series"], r["containers_exported"]))
row("VmRSS before → after", lambda r: "%.1f → %.1f MiB" % (r["rss_before_kib"] / 1024, r["rss_after_kib"] / 1024))
row("RssAnon before → after", lambda r: "%.1f → %.1f MiB" % (r["anon_before_kib"] / 1024, r["anon_after_kib"] / 1024))
row("RssAnon after each round", lambda r: " → ".join("%.1f" % (v / 1024) for v in r["anon_after_each_kib"]) + " MiB")
row("VmHWM after", lambda r: "%.1f MiB" % (r["hwm_after_kib"] / 1024))
row("open fds before → after", lambda r: "%s → %s" % (r["fds_before"], r["fds_after"]))
row("agent CPU for the round", lambda r: "%.0f ms" % r["agent_cpu_ms"])
row("machine busy (all processes)", lambda r: "%.0f %%" % r["host_busy_pct"])
text = "\n".join(L) + "\n"
open(out, "w").write(text)
sys.stdout.write(text)
PY
log "results: $OUT (raw: $OUT.json)"
