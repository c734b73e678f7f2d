#!/usr/bin/env python3
"""Soak measurements for bench/soak/run.sh (python3 standard library only).

  sample  every --interval s for --seconds: the agent's VmRSS, RssAnon, threads and open
          fds from /proc/PID, and from one /metrics scrape the containers it exports and
          the events it has processed; one JSON line per sample
  report  the markdown tables of a run: least-squares slope per hour and the means of the
          first and last quartile of the samples, for RSS, RssAnon and fds; over all
          samples and again without the first --warmup seconds
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cwbench  # noqa: E402  (read_proc, scrape_text, summarize_metrics, host_busy_pct)


def cmd_sample(a):
    t_end = time.time() + a.seconds
    prev = None
    with open(a.out, "w") as f:
        while True:
            t = time.time()
            p = cwbench.read_proc(a.pid)
            s = {"t": t, "rss_kib": p["VmRSS"], "rss_anon_kib": p.get("RssAnon"), "hwm_kib": p["VmHWM"],
                 "threads": p["Threads"], "fds": p.get("fds"), "cpu_ticks": p["cpu_ticks"],
                 "host_busy_pct": cwbench.host_busy_pct(prev, p) if prev else None}
            prev = p
            try:
                m = cwbench.summarize_metrics(cwbench.scrape_text(a.url))
                s.update(containers=m.get("containers", 0), series=m["series"], events_total=m["events_total"],
                         reconnects=m.get("composewatch_event_stream_reconnects_total"))
            except Exception as e:  # noqa: BLE001 - a failed scrape is a finding, not the end
                s["scrape_error"] = str(e)
            f.write(json.dumps(s) + "\n")
            f.flush()
            if t >= t_end:
                break
            time.sleep(max(0.0, a.interval - (time.time() - t)))


def slope_per_hour(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return 3600.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def quartile_means(ys):
    q = max(1, len(ys) // 4)
    return sum(ys[:q]) / q, sum(ys[-q:]) / q


def analyse(samples, key):
    pts = [(s["t"], s[key]) for s in samples if s.get(key) is not None]
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    if not ys:
        return None
    first, last = quartile_means(ys)
    return {"n": len(ys), "slope_per_hour": slope_per_hour(xs, ys), "first_quartile_mean": first,
            "last_quartile_mean": last, "change_pct": 100.0 * (last - first) / first if first else 0.0,
            "min": min(ys), "max": max(ys), "first": ys[0], "last": ys[-1]}


def cmd_report(a):
    samples = [json.loads(l) for l in open(a.samples) if l.strip()]
    churn = json.load(open(a.churn)) if a.churn else {}
    meta = json.load(open(a.meta)) if a.meta else {}
    keys = ("rss_kib", "rss_anon_kib", "fds", "threads", "containers", "series")
    res = {k: analyse(samples, k) for k in keys}
    # The same without the warm-up, while the heap grows to hold the pool's series.
    settled = [s for s in samples if s["t"] - samples[0]["t"] >= a.warmup]
    res_settled = {k: analyse(settled, k) for k in keys} if len(settled) >= 8 else None
    dur = samples[-1]["t"] - samples[0]["t"]
    busy = [s["host_busy_pct"] for s in samples if s.get("host_busy_pct") is not None]
    ev = samples[-1].get("events_total", 0) - samples[0].get("events_total", 0)
    errs = sum(1 for s in samples if "scrape_error" in s)
    out = {"samples": len(samples), "seconds": dur, "analysis": res, "churn": churn, "meta": meta,
           "warmup_seconds": a.warmup, "analysis_after_warmup": res_settled,
           "events_processed": ev, "scrape_errors": errs,
           "host_busy_pct_mean": sum(busy) / len(busy) if busy else None}
    json.dump(out, open(a.out + ".json", "w"), indent=1)
    r = res
    lines = [
        "# Soak: %s" % meta.get("title", ""),
        "",
        "`%s`" % meta.get("command", "bench/soak/run.sh"),
        "",
        "Agent revision `%s`, %s samples over %.1f min (every %s s). Churn: %s lifecycles "
        "(%s), %s API calls, %s errors; the agent processed %d events, %d scrapes failed. Whole machine "
        "busy %.0f %% on average (all processes, 2 cores)." % (
            meta.get("revision", "?"), len(samples), dur / 60, meta.get("interval", "?"),
            churn.get("lifecycles", "?"), ", ".join("%s %d" % kv for kv in churn.get("kinds", {}).items()),
            churn.get("api_calls", "?"), churn.get("error_count", "?"), ev, errs,
            out["host_busy_pct_mean"] or 0),
        "",
    ]
    for title, table in (("All samples", res), ("After the first %.0f min" % (a.warmup / 60), res_settled)):
        if table is None:
            continue
        lines += ["**%s**" % title, "",
                  "| Figure | first | min | max | last | first-quartile mean | last-quartile mean | change | slope per hour |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for key, label, unit, div in (("rss_kib", "VmRSS", "MiB", 1024), ("rss_anon_kib", "RssAnon", "MiB", 1024),
                                      ("fds", "open fds", "", 1), ("threads", "threads", "", 1),
                                      ("containers", "containers exported", "", 1),
                                      ("series", "series on /metrics", "", 1)):
            x = table[key]
            if x is None:
                continue
            fmt = (lambda v, u=unit, d=div: "%.2f %s" % (v / d, u)) if div != 1 else (lambda v: "%.1f" % v)
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %+.1f %% | %s |" % (
                label, fmt(x["first"]), fmt(x["min"]), fmt(x["max"]), fmt(x["last"]),
                fmt(x["first_quartile_mean"]), fmt(x["last_quartile_mean"]), x["change_pct"],
                (("%+.3f %s" % (x["slope_per_hour"] / div, unit)) if div != 1 else "%+.2f" % x["slope_per_hour"])))
        lines.append("")
    text = "\n".join(lines) + "\n"
    open(a.out, "w").write(text)
    sys.stdout.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--url", required=True)
    s.add_argument("--seconds", type=float, default=1800)
    s.add_argument("--interval", type=float, default=10)
    s.add_argument("--out", required=True)
    s = sub.add_parser("report")
    s.add_argument("--samples", required=True)
    s.add_argument("--churn", default="")
    s.add_argument("--meta", default="")
    s.add_argument("--warmup", type=float, default=600, help="seconds left out of the second table")
    s.add_argument("--out", required=True)
    a = p.parse_args()
    return {"sample": cmd_sample, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
