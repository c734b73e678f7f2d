#!/usr/bin/env python3
"""The scrape-cost bench's measuring side (python3 standard library only); bench/scrape/run.sh
drives it. See docs/benchmarks.md, "Scrape cost: 200 and 1,000 containers".

Subcommands (each prints one JSON object on stdout):
  wait     polls /metrics until it shows N containers of --project with a
           composewatch_container_memory_usage_bytes series (exactly N with --exact)
  phase    a Prometheus-like scraper: S scrapes, one every --interval seconds (scrape
           starts), on one keep-alive connection, each timed to the last body byte, with the
           agent's CPU (all threads), read syscalls and memory over the phase; optionally the
           floor program run in the same seconds, half an interval after each scrape
  settle   waits (at most --timeout s) until the agent's CPU over a --window s window is below
           --below ms per second: start-up work (inventory, inspects, the first /system/df)
           must not be counted as the scrapes'
  tree     CPU (utime+stime+cutime+cstime, all processes under --pid) and RSS (sum) of a
           process tree, twice, --seconds apart
  report   the markdown table from the run's JSON
"""

import argparse
import gzip
import http.client
import json
import os
import re
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- /proc

def agent_cpu(pid):
    """(ns from /proc/PID/task/*/schedstat summed over threads, utime+stime ticks)."""
    ns = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return ns, stat_ticks(pid)[0]


def stat_ticks(pid):
    """(utime+stime, cutime+cstime) in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def status_kib(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    return out


def syscr(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("syscr:"):
                return int(line.split()[1])
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v), idle


def busy_pct(a, b):
    total, idle = b[0] - a[0], b[1] - a[1]
    return 100.0 * (total - idle) / total if total else float("nan")


# --------------------------------------------------------------------------- HTTP

def parse_url(url):
    m = re.match(r"http://([^/:]+):(\d+)(/.*)?$", url)
    if not m:
        sys.exit("bad url %r" % url)
    return m.group(1), int(m.group(2)), m.group(3) or "/"


def fetch(url, timeout=30):
    host, port, path = parse_url(url)
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def count_containers(text, project):
    needle = 'composewatch_container_memory_usage_bytes{'
    tag = 'project="%s"' % project
    return sum(1 for line in text.splitlines() if line.startswith(needle) and tag in line)


def percentile(sorted_vals, p):
    """Nearest rank."""
    if not sorted_vals:
        return None
    k = max(1, -(-p * len(sorted_vals) // 100))
    return sorted_vals[min(int(k), len(sorted_vals)) - 1]


# --------------------------------------------------------------------------- wait

def cmd_wait(a):
    t0 = time.monotonic()
    n = -1
    while True:
        try:
            status, text = fetch(a.url)
            if status == 200:
                n = count_containers(text, a.project)
                if (n == a.n) if a.exact else (n >= a.n):
                    print(json.dumps({"containers": n, "seconds": round(time.monotonic() - t0, 2)}))
                    return
        except OSError:
            pass
        if time.monotonic() - t0 > a.timeout:
            print(json.dumps({"containers": n, "seconds": None, "timeout": True}))
            sys.exit(1)
        time.sleep(0.5)


# --------------------------------------------------------------------------- phase

class Scraper:
    def __init__(self, url, gzip_, timeout):
        self.host, self.port, self.path = parse_url(url)
        self.headers = {"Accept-Encoding": "gzip"} if gzip_ else {}
        self.timeout = timeout
        self.conn = None
        self.connects = 0

    def once(self):
        """(status or error text, seconds to the last body byte, body bytes, body)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connects += 1
        t0 = time.perf_counter()
        try:
            self.conn.request("GET", self.path, headers=self.headers)
            r = self.conn.getresponse()
            body = r.read()
            dt = time.perf_counter() - t0
            if (r.getheader("Connection") or "").lower() == "close":
                self.close()
            return r.status, dt, body, r.getheader("Content-Encoding") or "identity"
        except (OSError, http.client.HTTPException) as e:  # timeout included: a failed scrape
            dt = time.perf_counter() - t0
            self.close()
            return type(e).__name__, dt, b"", None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def cmd_phase(a):
    s = Scraper(a.url, a.gzip, a.timeout)
    for _ in range(a.warmup):
        s.once()
    # The floor, in the same seconds: its pass k starts half an interval after scrape k.
    floor = None
    start = time.time() + 1.0
    if a.floor:
        with open(a.ids) as ids:
            floor = subprocess.Popen([a.floor, "--passes", str(a.n), "--interval", str(a.interval),
                                      "--start", "%.6f" % (start + a.interval / 2)],
                                     stdin=ids, stdout=subprocess.PIPE, text=True)
    # Line up the monotonic schedule with the floor's wall-clock one.
    t0 = time.monotonic() + (start - time.time())
    while time.monotonic() < t0:
        time.sleep(min(0.05, t0 - time.monotonic()))
    cpu0, r0, m0 = agent_cpu(a.pid), syscr(a.pid), machine_busy()
    lat, failed, over_timeout, statuses, sizes, encodings = [], 0, 0, {}, [], set()
    body_sample = b""
    k = 0
    stop_seen = None
    while True:
        if a.stop_file:
            if stop_seen is None and os.path.exists(a.stop_file):
                stop_seen = time.monotonic()
            if stop_seen is not None and time.monotonic() - stop_seen >= a.after:
                break
        elif k >= a.n:
            break
        slot = t0 + k * a.interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        status, dt, body, enc = s.once()
        k += 1
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        lat.append(dt)
        if dt > a.timeout:
            over_timeout += 1
        if status != 200:
            failed += 1
            continue
        sizes.append(len(body))
        encodings.add(enc)
        body_sample = body
    cpu1, r1, m1 = agent_cpu(a.pid), syscr(a.pid), machine_busy()
    wall = time.monotonic() - t0
    s.close()
    n = len(lat)
    out = {
        "scrapes": n, "failed": failed, "statuses": statuses, "over_timeout": over_timeout,
        "timeout_s": a.timeout, "connections": s.connects, "gzip_requested": a.gzip,
        "content_encoding": sorted(e for e in encodings if e),
        "interval_s": a.interval, "wall_s": round(wall, 3),
        "agent_cpu_ns": cpu1[0] - cpu0[0], "agent_cpu_ticks": cpu1[1] - cpu0[1],
        "agent_cpu_ms_per_scrape": (cpu1[0] - cpu0[0]) / 1e6 / n if n else None,
        "agent_cpu_ms_per_second": (cpu1[0] - cpu0[0]) / 1e6 / wall if wall else None,
        "agent_read_syscalls_per_scrape": (r1 - r0) / n if n else None,
        "machine_busy_pct": busy_pct(m0, m1), "loadavg_end": loadavg(),
        "agent_status": status_kib(a.pid),
    }
    sl = sorted(lat)
    for p in (50, 90, 99):
        out["p%d_ms" % p] = percentile(sl, p) * 1e3 if sl else None
    out["max_ms"] = sl[-1] * 1e3 if sl else None
    out["latencies_ms"] = [round(x * 1e3, 2) for x in lat]  # in scrape order
    if a.stop_file:
        # Seconds of the phase from the stop file's appearance; the scrapes before it are the churn's.
        out["after_stop_s"] = a.after
    if body_sample:
        out["body_bytes"] = len(body_sample)
        out["body_bytes_min"], out["body_bytes_max"] = min(sizes), max(sizes)
        text = gzip.decompress(body_sample) if a.gzip and "gzip" in encodings else body_sample
        text = text.decode("utf-8", "replace")
        out["decoded_bytes"] = len(text.encode())
        out["series"] = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        out["all_containers"] = sum(1 for line in text.splitlines()
                                    if line.startswith("composewatch_container_memory_usage_bytes{"))
        if a.project:
            out["containers"] = count_containers(text, a.project)
            out["series_of_project"] = sum(1 for line in text.splitlines()
                                           if not line.startswith("#") and 'project="%s"' % a.project in line)
    if floor:
        fo, _ = floor.communicate()
        try:
            out["floor"] = json.loads(fo)
        except ValueError:
            out["floor"] = {"error": fo.strip(), "rc": floor.returncode}
    print(json.dumps(out))


# --------------------------------------------------------------------------- settle

def cmd_settle(a):
    t0 = time.monotonic()
    samples = [(t0, agent_cpu(a.pid)[0])]
    rate = None
    while True:
        time.sleep(1.0)
        now = time.monotonic()
        samples.append((now, agent_cpu(a.pid)[0]))
        old = [x for x in samples if now - x[0] >= a.window]
        if old:
            t, ns = old[-1]
            rate = (samples[-1][1] - ns) / 1e6 / (now - t)
            if rate < a.below:
                break
        if now - t0 > a.timeout:
            break
    print(json.dumps({"seconds": round(time.monotonic() - t0, 1), "cpu_ms_per_second": rate,
                      "settled": rate is not None and rate < a.below}))


# --------------------------------------------------------------------------- tree

def tree_of(root):
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_sample(root):
    ticks, rss, names = 0, 0, {}
    for p in tree_of(root):
        try:
            own, kids = stat_ticks(p)
            st = status_kib(p)
            with open("/proc/%d/comm" % p) as f:
                comm = f.read().strip()
        except (OSError, ValueError):
            continue
        ticks += own + kids
        rss += st.get("VmRSS", 0)
        names[comm] = names.get(comm, 0) + 1
    return ticks, rss, names


def cmd_tree(a):
    t0, rss0, _ = tree_sample(a.pid)
    w0 = time.monotonic()
    rss_samples = [rss0]
    end = w0 + a.seconds
    while time.monotonic() < end:
        time.sleep(min(5.0, max(0.0, end - time.monotonic())))
        rss_samples.append(tree_sample(a.pid)[1])
    t1, rss1, names = tree_sample(a.pid)
    wall = time.monotonic() - w0
    print(json.dumps({
        "seconds": round(wall, 2), "cpu_ticks": t1 - t0,
        "cpu_ms_per_second": (t1 - t0) * 1000.0 / TICK / wall,
        "rss_kib_end": rss1, "rss_kib_max": max(rss_samples + [rss1]), "processes": names,
        "loadavg_end": loadavg(),
    }))


# --------------------------------------------------------------------------- report

def f1(v, unit=""):
    return "–" if v is None else "%.1f%s" % (v, unit)


def f2(v, unit=""):
    return "–" if v is None else "%.2f%s" % (v, unit)


def mib(kib):
    return "–" if kib is None else "%.1f MiB" % (kib / 1024.0)


def cmd_report(a):
    with open(a.json) as f:
        d = json.load(f)
    sizes = d["sizes"]
    out = []
    w = out.append
    w("# composewatch scrape cost, %s" % d["started"])
    w("")
    w("Agent `%s` (revision `%s`), %s; %s, %d CPUs. `%s`." % (
        d["binary"], d.get("revision", "?"), d.get("agent_version", ""), d.get("engine", ""),
        d.get("cpus", 0), d["command"]))
    w("Containers: `%s` running `sleep`, Compose-labelled, `--network %s`. One scraper, one scrape "
      "every %s s (scrape starts) on one keep-alive connection, %d scrapes per phase after 10 warm-up scrapes; "
      "the floor (`bench/scrape/floor.cpp`) ran in the same seconds, half an interval after each scrape."
      % (d["image"], d["network"], d["interval"], d["scrapes"]))
    w("")
    head = "| Figure | " + " | ".join("%d containers" % s["n"] for s in sizes) + " | Goal |"
    w(head)
    w("|---|" + "---|" * len(sizes) + "---|")

    def row(name, fn, goal=""):
        cells = []
        for s in sizes:
            try:
                cells.append(fn(s))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        w("| %s | %s | %s |" % (name, " | ".join(cells), goal))

    def ph(s, name):
        return s["phases"][name]

    started = {s["n"]: s["n"] - (sizes[i - 1]["n"] if i else 0) for i, s in enumerate(sizes)}
    row("Containers started (`docker run`, `xargs -P 8`; the later sizes add to the earlier)",
        lambda s: "%d in %.1f s (%.1f/s)" % (started[s["n"]], s["start_s"], started[s["n"]] / s["start_s"]))
    row("Agent start to N containers on `/metrics`", lambda s: "%.1f s" % s["ready_s"])
    row("Agent settled before the scrapes (CPU over 10 s below 20 ms/s)", lambda s: "%s after %.0f s (%.1f ms/s)" % (
        "yes" if s["settle"]["settled"] else "no", s["settle"]["seconds"], s["settle"]["cpu_ms_per_second"]))
    row("Other running containers on the engine (read by the agent and the floor too)",
        lambda s: "%d" % s["others_running"])
    row("Containers on `/metrics`: the run's / all / series (lines not `#`)",
        lambda s: "%d / %d / %d" % (ph(s, "plain")["containers"], ph(s, "plain")["all_containers"],
                                    ph(s, "plain")["series"]))
    row("Series per container (the run's project)",
        lambda s: "%.1f" % (ph(s, "plain")["series_of_project"] / ph(s, "plain")["containers"]))
    row("Body, bytes per series", lambda s: "%s B, %.0f B" % (
        format(ph(s, "plain")["body_bytes"], ","), ph(s, "plain")["body_bytes"] / ph(s, "plain")["series"]))
    row("Body with gzip (ratio)", lambda s: "%s B (%.1f x)" % (
        format(ph(s, "gzip")["body_bytes"], ","), ph(s, "gzip")["decoded_bytes"] / ph(s, "gzip")["body_bytes"]))
    goal_p99 = {200: "≤ 25 ms", 1000: "≤ 100 ms"}
    for name, title in (("plain", "plain"), ("gzip", "gzip")):
        row("`/metrics` %s p50 / p99 / max" % title, lambda s, n=name: "%s / **%s** / %s ms" % (
            f1(ph(s, n)["p50_ms"]), f1(ph(s, n)["p99_ms"]), f1(ph(s, n)["max_ms"])),
            " / ".join("%d: %s" % (s["n"], goal_p99[s["n"]]) for s in sizes if s["n"] in goal_p99)
            if name == "plain" else "")
        row("Failed scrapes (%s)" % title, lambda s, n=name: "%d of %d" % (ph(s, n)["failed"], ph(s, n)["scrapes"]))
        row("Agent CPU per scrape (%s)" % title, lambda s, n=name: f2(ph(s, n)["agent_cpu_ms_per_scrape"], " ms"))
        row("Agent read syscalls per scrape / floor files per pass (%s; 1.0 = every file read afresh)" % title,
            lambda s, n=name: "%.2f" % (ph(s, n)["agent_read_syscalls_per_scrape"] / ph(s, n)["floor"]["files_per_pass"]))
        row("Floor CPU per pass (during %s)" % title, lambda s, n=name: "%s (%d files, %d failed)" % (
            f2(ph(s, n)["floor"]["cpu_s_per_pass"] * 1e3, " ms"), ph(s, n)["floor"]["files_per_pass"],
            ph(s, n)["floor"]["failed"]))
        row("Floor wall per pass p50 (during %s)" % title,
            lambda s, n=name: f2(ph(s, n)["floor"]["wall_s_p50"] * 1e3, " ms"))
        row("**Ratio** agent CPU per scrape / floor CPU per pass (%s)" % title, lambda s, n=name: "**%.2f x**" % (
            ph(s, n)["agent_cpu_ms_per_scrape"] / (ph(s, n)["floor"]["cpu_s_per_pass"] * 1e3)),
            "≤ 1.3 x" if name == "plain" else "")
    row("Agent VmRSS / VmHWM after the scrapes",
        lambda s: "%s / %s" % (mib(ph(s, "gzip")["agent_status"]["VmRSS"]), mib(ph(s, "gzip")["agent_status"]["VmHWM"])),
        "1000: RSS ≤ 50 MiB")
    row("Agent RssAnon after the scrapes", lambda s: mib(ph(s, "gzip")["agent_status"]["RssAnon"]))
    row("Agent CPU per second over the plain phase (one scrape every interval)",
        lambda s: f1(ph(s, "plain")["agent_cpu_ms_per_second"], " ms/s"))
    row("Load average at the end of plain / gzip", lambda s: "%.2f / %.2f" % (
        ph(s, "plain")["loadavg_end"][0], ph(s, "gzip")["loadavg_end"][0]))
    row("Machine busy during plain / gzip", lambda s: "%.0f %% / %.0f %%" % (
        ph(s, "plain")["machine_busy_pct"], ph(s, "gzip")["machine_busy_pct"]))
    if any("churn" in s for s in sizes):
        row("Churn: containers re-created (`rm -f` + `run`, `xargs -P 8`)",
            lambda s: "%d in %.0f s" % (s["churn"]["recreated"], s["churn"]["seconds"]))
        row("Churn: scrapes, failed, over 10 s", lambda s: "%d, %d, %d" % (
            ph(s, "churn")["scrapes"], ph(s, "churn")["failed"], ph(s, "churn")["over_timeout"]), "0 over 10 s")
        row("Churn: scrape p50 / p99 / max", lambda s: "%s / %s / **%s** ms" % (
            f1(ph(s, "churn")["p50_ms"]), f1(ph(s, "churn")["p99_ms"]), f1(ph(s, "churn")["max_ms"])))
        row("Churn: N containers on `/metrics` again after", lambda s: "%s (%d after %.1f s)" % (
            "yes" if s["churn"]["after"].get("containers") == s["n"] else "no",
            s["churn"]["after"].get("containers", -1), s["churn"]["after"].get("seconds", -1)))
        row("Churn: agent VmRSS / VmHWM after", lambda s: "%s / %s" % (
            mib(ph(s, "churn")["agent_status"]["VmRSS"]), mib(ph(s, "churn")["agent_status"]["VmHWM"])))
    if any("netdata" in s for s in sizes):
        row("netdata 1.37: cgroup charts / containers with a cpu chart / discovery",
            lambda s: "%s / %s / %s s" % (s["netdata"].get("cgroup_charts", s["netdata"].get("error", "–")),
                                          s["netdata"].get("containers_with_cpu_chart", "–"),
                                          s["netdata"].get("discovery_s", "–")))
        row("netdata: CPU per second (all its processes)", lambda s: f1(s["netdata"]["tree"]["cpu_ms_per_second"], " ms/s"))
        row("agent for comparison: CPU per second at one scrape a second, every scrape reading (= CPU per plain scrape)",
            lambda s: f1(ph(s, "plain")["agent_cpu_ms_per_scrape"], " ms/s"))
        row("netdata: RSS (sum of its processes) end / max", lambda s: "%s / %s" % (
            mib(s["netdata"]["tree"]["rss_kib_end"]), mib(s["netdata"]["tree"]["rss_kib_max"])))
    w("")
    for s in sizes:
        for n in s.get("notes", []):
            w("- %d containers: %s" % (s["n"], n))
    for n in d.get("notes", []):
        w("- %s" % n)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("wait")
    s.add_argument("--url", required=True)
    s.add_argument("--project", required=True)
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--exact", action="store_true")
    s.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("phase")
    s.add_argument("--url", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--n", type=int, default=120)
    s.add_argument("--interval", type=float, default=1.0)
    s.add_argument("--warmup", type=int, default=10)
    s.add_argument("--timeout", type=float, default=10.0)
    s.add_argument("--gzip", action="store_true")
    s.add_argument("--project")
    s.add_argument("--floor")
    s.add_argument("--ids")
    s.add_argument("--stop-file", help="scrape until this file exists, then --after more seconds")
    s.add_argument("--after", type=float, default=10.0)
    s = sub.add_parser("settle")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--window", type=float, default=10)
    s.add_argument("--below", type=float, default=20)
    s.add_argument("--timeout", type=float, default=180)
    s = sub.add_parser("tree")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--seconds", type=float, default=60)
    s = sub.add_parser("report")
    s.add_argument("--json", required=True)
    s.add_argument("--out")
    a = ap.parse_args()
    {"wait": cmd_wait, "phase": cmd_phase, "settle": cmd_settle, "tree": cmd_tree, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
