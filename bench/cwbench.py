#!/usr/bin/env python3
"""Measurement helpers for bench/run.sh (python3 standard library only).

Subcommands (each prints one JSON object on stdout):
  latency      sequential keep-alive GET /metrics, latency percentiles and sizes
  metrics      one scrape: composewatch_events_total by type/action, and a few gauges
  wait-events  poll /metrics until composewatch_events_total sums to a target
  burst        pause/unpause containers through the engine API, counting successes
  tally        count the lines of a `docker events` capture inside a time window
  proc         VmRSS, VmHWM, threads and utime+stime of a process, from /proc
  report       render the markdown results table from the JSON files of a run
"""

import argparse
import gzip
import http.client
import json
import os
import re
import socket
import sys
import threading
import time


# --------------------------------------------------------------------------- scraping

def connect(url):
    m = re.match(r"http://([^/:]+):(\d+)(/.*)?$", url)
    if not m:
        sys.exit("bad url %r (want http://host:port/path)" % url)
    host, port, path = m.group(1), int(m.group(2)), m.group(3) or "/"
    return (lambda: http.client.HTTPConnection(host, port, timeout=30)), path


def get(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    return r, body


def scrape_text(url):
    mk, path = connect(url)
    c = mk()
    try:
        r, body = get(c, path)
        if r.status != 200:
            raise RuntimeError("GET %s: HTTP %d" % (url, r.status))
        return body.decode("utf-8", "replace")
    finally:
        c.close()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_samples(text):
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = dict(LABEL.findall(m.group(3) or ""))
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        yield m.group(1), labels, value


def summarize_metrics(text):
    events = {}
    out = {"events_total": 0.0, "events": events, "series": 0}
    for name, labels, value in parse_samples(text):
        out["series"] += 1
        if name == "composewatch_events_total":
            key = "%s/%s" % (labels.get("type", ""), labels.get("action", ""))
            events[key] = events.get(key, 0.0) + value
            out["events_total"] += value
        elif name in ("composewatch_event_stream_reconnects_total", "composewatch_engine_up",
                      "process_resident_memory_bytes", "process_cpu_seconds_total",
                      "process_open_fds"):
            out[name] = value
        elif name == "composewatch_container_info":
            out["containers"] = out.get("containers", 0) + 1
    return out


def percentile(sorted_vals, p):
    """Nearest-rank percentile."""
    if not sorted_vals:
        return float("nan")
    k = max(1, int(-(-p * len(sorted_vals) // 100)))  # ceil(p/100 * n)
    return sorted_vals[min(k, len(sorted_vals)) - 1]


def cmd_latency(a):
    mk, path = connect(a.url)
    headers = {"Accept-Encoding": "gzip"} if a.gzip else {}
    conn = mk()
    lat = []
    sizes = []
    raw_sizes = []
    reconnects = 0
    errors = 0
    encodings = set()
    ctype = None
    for _ in range(a.warmup):
        get(conn, path, headers)
    for _ in range(a.n):
        t0 = time.perf_counter_ns()
        try:
            r, body = get(conn, path, headers)
        except (http.client.HTTPException, OSError):
            # The server closed the keep-alive connection: count it, reconnect, retry once.
            reconnects += 1
            conn.close()
            conn = mk()
            t0 = time.perf_counter_ns()
            r, body = get(conn, path, headers)
        t1 = time.perf_counter_ns()
        if r.status != 200:
            errors += 1
            continue
        lat.append((t1 - t0) / 1e6)
        enc = r.getheader("Content-Encoding") or "identity"
        encodings.add(enc)
        ctype = r.getheader("Content-Type")
        sizes.append(len(body))
        if enc == "gzip":
            raw_sizes.append(len(gzip.decompress(body)))
        if (r.getheader("Connection") or "").lower() == "close":
            reconnects += 1
            conn.close()
            conn = mk()
    conn.close()
    s = sorted(lat)
    out = {
        "n": len(lat), "errors": errors, "reconnects": reconnects,
        "gzip_requested": a.gzip, "content_encoding": sorted(encodings), "content_type": ctype,
        "p50_ms": percentile(s, 50), "p90_ms": percentile(s, 90), "p99_ms": percentile(s, 99),
        "max_ms": s[-1] if s else float("nan"), "min_ms": s[0] if s else float("nan"),
        "mean_ms": sum(s) / len(s) if s else float("nan"),
        "body_bytes": sizes[-1] if sizes else 0,
        "body_bytes_min": min(sizes) if sizes else 0, "body_bytes_max": max(sizes) if sizes else 0,
    }
    if raw_sizes:
        out["decoded_bytes"] = raw_sizes[-1]
    print(json.dumps(out))


def cmd_metrics(a):
    print(json.dumps(summarize_metrics(scrape_text(a.url))))


def cmd_wait_events(a):
    """Polls until the sum of composewatch_events_total (optionally only some actions)
    reaches the target; reports when it was reached (wall clock, end of the scrape)."""
    deadline = time.time() + a.timeout
    actions = set(a.actions.split(",")) if a.actions else None
    base = a.base
    last = None
    last_change = time.time()
    polls = 0
    while True:
        polls += 1
        try:
            m = summarize_metrics(scrape_text(a.url))
        except (OSError, RuntimeError, http.client.HTTPException) as e:
            m = None
            err = str(e)
        now = time.time()
        if m is not None:
            if actions is None:
                total = m["events_total"]
            else:
                total = sum(v for k, v in m["events"].items() if k in actions)
            got = total - base
            if got != last:
                last, last_change = got, now
            if got >= a.target:
                print(json.dumps({"reached": True, "count": got, "time": now, "polls": polls,
                                  "metrics": m}))
                return
            if a.settle and now - last_change >= a.settle:
                print(json.dumps({"reached": False, "count": got, "time": now, "polls": polls,
                                  "settled": True, "metrics": m}))
                return
        if now >= deadline:
            print(json.dumps({"reached": False, "count": last, "time": now, "polls": polls,
                              "timeout": True, "metrics": m,
                              "error": None if m is not None else err}))
            return
        time.sleep(a.interval)


# --------------------------------------------------------------------------- event burst

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def cmd_burst(a):
    """Pauses and unpauses the given containers through the engine API (HTTP over the unix
    socket, keep-alive, one connection per worker). Each successful call (HTTP 204) is one
    lifecycle event the engine must emit; that count is ground truth (a)."""
    ids = [l.strip() for l in open(a.ids) if l.strip()]
    pairs = a.events // 2
    workers = min(a.parallel, len(ids))
    # Worker w owns containers w, w+P, w+2P, ... (so no container is paused twice) and
    # cycles through them; the pairs are spread evenly over the workers.
    own = [ids[w::workers] for w in range(workers)]
    quota = [pairs // workers + (1 if w < pairs % workers else 0) for w in range(workers)]
    ok = {"pause": 0, "unpause": 0}
    failed = {"pause": 0, "unpause": 0}
    errors = []
    lock = threading.Lock()

    def call(conn, cid, action):
        conn.request("POST", "/v%s/containers/%s/%s" % (a.api, cid, action), body=b"",
                     headers={"Content-Length": "0"})
        r = conn.getresponse()
        body = r.read()
        return r.status, body

    def work(w):
        conn = UnixHTTPConnection(a.socket)
        mine = own[w]
        n_ok = {"pause": 0, "unpause": 0}
        n_fail = {"pause": 0, "unpause": 0}
        for j in range(quota[w]):
            cid = mine[j % len(mine)]
            for action in ("pause", "unpause"):
                try:
                    st, body = call(conn, cid, action)
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = UnixHTTPConnection(a.socket)
                    st, body = -1, str(e).encode()
                if st == 204:
                    n_ok[action] += 1
                else:
                    n_fail[action] += 1
                    with lock:
                        if len(errors) < 10:
                            errors.append("%s %s: %s %s" % (action, cid[:12], st, body[:200]))
        conn.close()
        with lock:
            for k in ok:
                ok[k] += n_ok[k]
                failed[k] += n_fail[k]

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t1 = time.time()
    total = ok["pause"] + ok["unpause"]
    print(json.dumps({"ok": ok, "failed": failed, "ok_total": total, "workers": workers,
                      "t_start": t0, "t_end": t1, "seconds": t1 - t0,
                      "rate": total / (t1 - t0) if t1 > t0 else 0.0, "errors": errors}))


def cmd_tally(a):
    """Counts a `docker events --format '{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.Attributes.name}}'`
    capture: events of the window [t0, t1] by type/action, split into ours (name prefix)
    and others."""
    t0 = int(a.t0 * 1e9)
    t1 = int(a.t1 * 1e9)
    ours, others = {}, {}
    lines = 0
    outside = 0
    first = last = None
    for line in open(a.file):
        parts = line.rstrip("\n").split(" ", 3)
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        lines += 1
        tn = int(parts[0])
        if tn < t0 or tn > t1:
            outside += 1
            continue
        typ = parts[1]
        action = parts[2].split(":", 1)[0]
        name = parts[3] if len(parts) > 3 else ""
        d = ours if name.startswith(a.prefix) else others
        key = "%s/%s" % (typ, action)
        d[key] = d.get(key, 0) + 1
        first = tn if first is None else min(first, tn)
        last = tn if last is None else max(last, tn)
    print(json.dumps({"lines": lines, "outside_window": outside, "ours": ours, "others": others,
                      "first_ns": first, "last_ns": last}))


# --------------------------------------------------------------------------- /proc

def read_proc(pid):
    out = {"pid": pid, "time": time.time(), "clk_tck": os.sysconf("SC_CLK_TCK")}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "VmSize", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])  # kB for the Vm*/Rss* lines
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the ")".
    out["utime"] = int(rest[11])
    out["stime"] = int(rest[12])
    out["cpu_ticks"] = out["utime"] + out["stime"]
    with open("/proc/uptime") as f:
        out["uptime"] = float(f.read().split()[0])
    # Whole-host CPU counters, to tell how busy the machine was during a phase.
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    out["host_total"] = sum(cpu[:8])  # user..steal (guest time is inside user)
    out["host_idle"] = cpu[3] + cpu[4]  # idle + iowait
    out["ncpu"] = os.cpu_count()
    with open("/proc/loadavg") as f:
        out["loadavg"] = float(f.read().split()[0])
    # Nanosecond CPU time of the live threads (schedstat), finer than the 10 ms ticks.
    try:
        ns = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns += int(f.read().split()[0])
        out["sched_ns"] = ns
    except (OSError, ValueError, IndexError):
        pass
    try:
        out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        pass
    return out


def host_busy_pct(a, b):
    """Share of all CPUs busy between two read_proc snapshots, in percent of the machine."""
    tot = b["host_total"] - a["host_total"]
    return 100.0 * (tot - (b["host_idle"] - a["host_idle"])) / tot if tot > 0 else 0.0


def cmd_proc(a):
    print(json.dumps(read_proc(a.pid)))


# --------------------------------------------------------------------------- report

def load(d, name):
    try:
        with open(os.path.join(d, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def ms(v):
    return "%.2f ms" % v


def verdict(ok):
    return "met" if ok else "**missed**"


def cmd_report(a):
    d = a.dir
    env = load(d, "env") or {}
    rows = []
    notes = []

    def row(fig, val, target="", res=""):
        rows.append((fig, val, target, res))

    setup = load(d, "setup") or {}
    row("Bench containers running (compose-labelled, `--network none`)", str(setup.get("running", "?")))
    series = load(d, "series")
    if setup.get("engine_total") is not None:
        known = series.get("containers") if series else None
        row("Containers on the engine at setup / known to the agent at warm-up",
            "%s / %s" % (setup["engine_total"], known if known is not None else "?"))
        if setup["engine_total"] > setup.get("running", 0) or (known or 0) > setup.get("running", 0):
            notes.append("The engine held other containers besides the bench's (%s at setup, %s "
                         "known to the agent): scrape size, latency and RSS include them."
                         % (setup["engine_total"], known))
    ready = load(d, "ready")
    if ready:
        row("Agent start to `/readyz` 200", "%.2f s" % ready["seconds"])
    warm = load(d, "rss_warm")
    after_scr = load(d, "rss_scrapes")
    after_burst = load(d, "rss_burst")
    for label, p in (("Agent RSS after warm-up (VmRSS)", warm),
                     ("Agent RSS after the scrapes (VmRSS)", after_scr),
                     ("Agent RSS after the event burst (VmRSS)", after_burst)):
        if p:
            row(label, mib(p["VmRSS"]), "≤ 15 MiB", verdict(p["VmRSS"] <= 15 * 1024))
    last = after_burst or after_scr or warm
    if last:
        row("Agent peak RSS on the real engine (VmHWM)", mib(last["VmHWM"]), "≤ 15 MiB",
            verdict(last["VmHWM"] <= 15 * 1024))
        row("Agent threads / open fds", "%s / %s" % (last.get("Threads", "?"), last.get("fds", "?")))
    idle = load(d, "idle")
    if idle:
        row("Agent CPU while idle (%d s, no scrapes)" % round(idle["seconds"]),
            "%.3f %% of one core (%.1f ms CPU per minute)" % (idle["pct"], idle["ms_per_min"]))
        if idle.get("ticks") is not None:
            row("Agent CPU while idle, from utime+stime ticks", "%d ticks of %d ms"
                % (idle["ticks"], 1000 // idle.get("clk_tck", 100)))
        row("Engine events during the idle window (independent `docker events`)",
            str(idle.get("engine_events", "?")))
        if idle.get("engine_events"):
            notes.append("The engine was not quiet during the idle window (%s events, %s): "
                         "the idle CPU figure includes handling them."
                         % (idle["engine_events"], json.dumps(idle.get("engine_events_by_action"))))
    for name, title in (("lat_plain", "`/metrics`"), ("lat_gzip", "`/metrics` with `Accept-Encoding: gzip`")):
        l = load(d, name)
        if not l:
            continue
        row("%s latency p50 / p90 / p99 / max over %d sequential scrapes" % (title, l["n"]),
            "%s / %s / %s / %s" % (ms(l["p50_ms"]), ms(l["p90_ms"]), ms(l["p99_ms"]), ms(l["max_ms"])),
            "p99 ≤ 10 ms", verdict(l["p99_ms"] <= 10.0))
        size = "%d bytes" % l["body_bytes"]
        if "decoded_bytes" in l:
            size += " (%s; %d bytes decoded)" % (",".join(l["content_encoding"]), l["decoded_bytes"])
        elif l.get("gzip_requested"):
            size += " (not compressed: Content-Encoding %s)" % ",".join(l["content_encoding"])
            notes.append("gzip was requested but the response was not gzip-encoded.")
        row("%s response size" % title, size)
        if l.get("errors") or l.get("reconnects"):
            notes.append("%s: %d non-200 answers, %d reconnects." % (name, l["errors"], l["reconnects"]))
        if "cpu_ms_per_scrape" in l:
            row("Agent CPU per scrape (%s)" % title, "%.2f ms" % l["cpu_ms_per_scrape"])
    if series:
        row("Series in one scrape", str(series.get("series")))
    b = load(d, "burst")
    if b:
        t = b.get("tally") or {}
        ours = t.get("ours", {})
        others = t.get("others", {})
        keys = ("container/pause", "container/unpause")
        sub_ours = sum(ours.get(k, 0) for k in keys)
        sub_all = sub_ours + sum(others.get(k, 0) for k in keys)
        agent = b.get("agent_delta")
        issued = b["api"]["ok_total"]
        row("Real engine burst: pause/unpause calls that succeeded (truth a)",
            "%d (%d failed)" % (issued, sum(b["api"]["failed"].values())))
        row("Real engine burst: pause/unpause events seen by a live `docker events` (truth b)",
            "%d ours + %d others" % (sub_ours, sub_all - sub_ours))
        row("Real engine burst: counted by the agent (`composewatch_events_total` delta)",
            "%s" % ("%d" % agent if agent is not None else "not measured"))
        if agent is not None:
            lost = sub_all - agent
            row("Real engine burst: lost (truth b − agent)", "%d" % lost, "0", verdict(lost == 0))
            if sub_ours > issued:
                notes.append(
                    "The engine emitted %d pause/unpause events for %d successful calls (%+d). "
                    "Engine 20.10 logs pause/unpause both from the API call and from "
                    "containerd's task events; when these race it emits extra events (seen as "
                    "unpause, pause, unpause within one unpause call). So truth (a) is a lower "
                    "bound, and losses are counted against what a live subscriber received "
                    "(truth b)." % (sub_ours, issued, sub_ours - issued))
            elif sub_ours < issued:
                notes.append("The `docker events` subscriber saw %d of our events for %d "
                             "successful calls: the subscriber itself lost events, so truth (b) "
                             "is unreliable in this run." % (sub_ours, issued))
            if agent < issued:
                notes.append("The agent counted fewer events (%d) than calls succeeded (%d)."
                             % (agent, issued))
        row("Real engine burst: engine event rate (%d parallel clients)" % b["api"]["workers"],
            "%.0f events/s (%d events in %.2f s)" % (b["api"]["rate"], issued, b["api"]["seconds"]),
            "", "engine-bound")
        if b.get("lag_s") is not None:
            row("Real engine burst: agent count complete after the last call", "%.2f s" % b["lag_s"])
        if b.get("cpu_ms") is not None:
            row("Real engine burst: agent CPU used", "%.0f ms (%.1f µs per event)"
                % (b["cpu_ms"], 1000.0 * b["cpu_ms"] / max(1, issued)))
        if sub_all != sub_ours:
            notes.append("Other engine activity during the burst window: %s (the agent counts "
                         "engine-wide, so these are part of the comparison)." % json.dumps(others))
        if b.get("note"):
            notes.append(b["note"])
    f = load(d, "fake")
    if f:
        if f.get("error"):
            row("Fake engine: agent throughput", "not measured: %s" % f["error"], "≥ 5,000 events/s",
                "**missed**")
        else:
            row("Fake engine: events streamed (one per chunk)", "%d" % f["sent"])
            row("Fake engine: events counted by the agent", "%d" % f["counted"])
            row("Fake engine: lost", "%d" % (f["sent"] - f["counted"]), "0",
                verdict(f["sent"] == f["counted"]))
            if f.get("rate"):
                row("Fake engine: agent throughput (first byte sent → full count on `/metrics`)",
                    "%.0f events/s (%.2f s; poll every %.2f s)" % (f["rate"], f["seconds"], f["interval"]),
                    "≥ 5,000 events/s", verdict(f["rate"] >= 5000))
            if f.get("write_seconds") is not None:
                row("Fake engine: time to write the whole stream into the socket",
                    "%.2f s" % f["write_seconds"])
            if f.get("blocked_seconds") is not None and f.get("write_seconds"):
                share = f["blocked_seconds"] / f["write_seconds"]
                row("Fake engine: share of that time spent waiting for the agent to read",
                    "%.0f %%" % (100 * share))
                inspects = sum(v for k, v in f.get("requests", {}).items() if k.endswith("/json")
                               and "/containers/{id}/" in k)
                if share >= 0.5:
                    notes.append("Fake engine: the writer waited for the socket to drain %.0f %% of "
                                 "the time, so the agent's reading, not the fake engine, was the "
                                 "limit." % (100 * share))
                else:
                    notes.append("Fake engine: the writer waited for the agent only %.0f %% of the "
                                 "time, so the fake engine (one Python process writing the stream "
                                 "and answering %d inspect requests, %.1f s CPU, on the same 2 "
                                 "cores as the agent) was at least part of the limit: the agent is "
                                 "at least this fast." % (100 * share, inspects,
                                                          f.get("fake_cpu_seconds") or 0))
            if f.get("rss"):
                row("Fake engine: agent RSS / peak RSS after the stream",
                    "%s / %s" % (mib(f["rss"]["VmRSS"]), mib(f["rss"]["VmHWM"])), "≤ 15 MiB",
                    verdict(f["rss"]["VmHWM"] <= 15 * 1024))
            if f.get("cpu_ms") is not None:
                row("Fake engine: agent CPU since its start", "%.0f ms (%.1f µs per event)"
                    % (f["cpu_ms"], 1000.0 * f["cpu_ms"] / max(1, f["counted"])))
            if f.get("mismatch"):
                notes.append("Fake engine: per-action counts differ (sent vs agent): %s"
                             % json.dumps(f["mismatch"]))
            if f.get("requests"):
                notes.append("Fake engine: requests the agent made: %s" % ", ".join(
                    "`%s` × %d" % (k, v) for k, v in sorted(f["requests"].items())))
    busy = [(label, x["host_busy_pct"]) for label, x in
            (("idle window", idle), ("scrapes", load(d, "lat_plain")), ("burst", b), ("fake engine", f))
            if x and x.get("host_busy_pct") is not None]
    if busy:
        row("Whole machine CPU busy during: " + ", ".join(l for l, _ in busy),
            " / ".join("%.0f %%" % v for _, v in busy), "", "all processes, all %s CPUs" % env.get("nproc"))
    for n in env.get("notes", []):
        notes.append(n)
    for name in ("agent-real", "agent-fake"):
        try:
            lines = [l.rstrip("\n") for l in open(os.path.join(d, name + ".log")) if l.strip()]
        except OSError:
            continue
        if lines:
            notes.append("The agent logged %d line(s) at warn/error level (%s), first: `%s`"
                         % (len(lines), name, lines[0][:300].replace("`", "'")))

    out = []
    out.append("## composewatch benchmark, %s" % env.get("date", "?"))
    out.append("")
    agent = "`%s`" % env.get("agent_version")
    if env.get("revision", "") not in env.get("agent_version", ""):
        agent += " (tree %s)" % env.get("revision")
    out.append("Machine: %s × %s, %s MiB RAM, kernel %s; Docker Engine %s (API %s), "
               "cgroup v%s, %s driver; agent %s."
               % (env.get("nproc"), env.get("cpu_model"), env.get("mem_mib"), env.get("kernel"),
                  env.get("engine_version"), env.get("api_version"), env.get("cgroup_version"),
                  env.get("cgroup_driver"), agent))
    out.append("")
    out.append("Command: `%s`; 1/5/15-minute load average at the start: %s."
               % (env.get("command", "bench/run.sh"), env.get("loadavg_start", "?")))
    out.append("")
    out.append("| Figure | Measured | Target | Result |")
    out.append("|---|---|---|---|")
    for r in rows:
        out.append("| %s | %s | %s | %s |" % r)
    if notes:
        out.append("")
        out.append("Notes:")
        for n in notes:
            out.append("- " + n)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("latency")
    s.add_argument("--url", required=True)
    s.add_argument("-n", type=int, default=500)
    s.add_argument("--warmup", type=int, default=5)
    s.add_argument("--gzip", action="store_true")
    s.set_defaults(fn=cmd_latency)

    s = sub.add_parser("metrics")
    s.add_argument("--url", required=True)
    s.set_defaults(fn=cmd_metrics)

    s = sub.add_parser("wait-events")
    s.add_argument("--url", required=True)
    s.add_argument("--target", type=float, required=True)
    s.add_argument("--base", type=float, default=0.0, help="subtract this from the sum")
    s.add_argument("--actions", help="comma list of type/action keys to sum (default all)")
    s.add_argument("--timeout", type=float, default=120)
    s.add_argument("--interval", type=float, default=0.05)
    s.add_argument("--settle", type=float, default=0.0,
                   help="give up early when the count has not changed for this long")
    s.set_defaults(fn=cmd_wait_events)

    s = sub.add_parser("burst")
    s.add_argument("--socket", default="/var/run/docker.sock")
    s.add_argument("--api", default="1.41")
    s.add_argument("--ids", required=True, help="file with one container ID per line")
    s.add_argument("--events", type=int, default=6000)
    s.add_argument("--parallel", type=int, default=8)
    s.set_defaults(fn=cmd_burst)

    s = sub.add_parser("tally")
    s.add_argument("--file", required=True)
    s.add_argument("--t0", type=float, required=True)
    s.add_argument("--t1", type=float, required=True)
    s.add_argument("--prefix", required=True)
    s.set_defaults(fn=cmd_tally)

    s = sub.add_parser("proc")
    s.add_argument("--pid", type=int, required=True)
    s.set_defaults(fn=cmd_proc)

    s = sub.add_parser("report")
    s.add_argument("--dir", required=True)
    s.set_defaults(fn=cmd_report)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
