#!/usr/bin/env python3
"""Password guessing during scrapes (python3 standard library only); see bench/auth/run.sh.

One process scrapes like Prometheus: every --interval seconds a GET of the metrics path with
the right basic-auth credentials on one keep-alive connection, gzip accepted, --timeout per
scrape (a timeout counts as a failed scrape and the connection is made again). It starts
--lead seconds before the strangers, as a Prometheus that was already scraping.

--attackers strangers, spread over --processes processes so that the scraper's own clock
does not wait for their interpreter lock, each send wrong passwords on a keep-alive
connection, one request after the answer to the last, for --seconds: a new password every
time, the real user's name for half of them and unknown names for the others.

A second scraper with credentials the agent has not seen yet (--cold-user) starts
--cold-after seconds into the attack: how it fares while the password worker is busy.

The scrapers connect from 127.0.0.2 and 127.0.0.3, the strangers from --stranger-hosts
other loopback addresses (127.0.1.1, 127.0.1.2, …; default 1): a Prometheus on another host
than the strangers, as the agent tells clients apart by address.

Prints one JSON object: the scrapes within the attack window (status, latency), the
strangers' answers by status, and the cold scraper's.
"""

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import threading
import time
import urllib.parse


def authorization(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def scraper(url, user, password, source, start_at, stop_at, interval, timeout, queue):
    u = urllib.parse.urlsplit(url)
    headers = {"Authorization": authorization(user, password), "Accept-Encoding": "gzip",
               "User-Agent": "authbench-scraper"}
    conn = None
    out = []
    k = 0
    while True:
        due = start_at + k * interval
        if due >= stop_at:
            break
        now = time.time()
        if due > now:
            time.sleep(due - now)
        k += 1
        t0 = time.monotonic()
        status, error = None, None
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout, source_address=(source, 0))
            conn.request("GET", u.path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # timeout, reset: a failed scrape, as Prometheus counts it
            error = type(e).__name__
            if conn is not None:
                conn.close()
            conn = None
        out.append({"at": due, "status": status, "error": error, "ms": (time.monotonic() - t0) * 1000})
    queue.put(out)


def attacker_process(url, first, count, hosts, start_at, stop_at, queue):
    u = urllib.parse.urlsplit(url)
    counts = {}
    lock = threading.Lock()

    def one(i):
        conn = None
        n = 0
        local = {}
        while time.time() < stop_at:
            n += 1
            user = "prometheus" if (first + i) % 2 == 0 else "guest%d" % (first + i)
            headers = {"Authorization": authorization(user, "wrong-%d-%d-%d" % (os.getpid(), i, n))}
            try:
                if conn is None:
                    source = "127.0.1.%d" % ((first + i) % hosts + 1)
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10, source_address=(source, 0))
                conn.request("GET", u.path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                key = str(resp.status)
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:
                key = "error:" + type(e).__name__
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
            local[key] = local.get(key, 0) + 1
        with lock:
            for k, v in local.items():
                counts[k] = counts.get(k, 0) + v

    now = time.time()
    if start_at > now:
        time.sleep(start_at - now)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(counts)


def percentile(values, p):
    v = sorted(values)
    if not v:
        return None
    k = max(1, -(-p * len(v) // 100))
    return v[min(k, len(v)) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--cold-user", required=True)
    ap.add_argument("--cold-password", required=True)
    ap.add_argument("--attackers", type=int, default=50)
    ap.add_argument("--processes", type=int, default=5)
    ap.add_argument("--stranger-hosts", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--interval", type=float, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--lead", type=float, default=3)
    ap.add_argument("--cold-after", type=float, default=5)
    a = ap.parse_args()

    ctx = multiprocessing.get_context("fork")
    q_scrapes, q_cold, q_attack = ctx.Queue(), ctx.Queue(), ctx.Queue()
    t0 = time.time() + 0.5
    attack_from, attack_to = t0 + a.lead, t0 + a.lead + a.seconds
    procs = [ctx.Process(target=scraper, args=(a.url, a.user, a.password, "127.0.0.2", t0, attack_to, a.interval,
                                               a.timeout, q_scrapes)),
             ctx.Process(target=scraper, args=(a.url, a.cold_user, a.cold_password, "127.0.0.3",
                                               attack_from + a.cold_after, attack_to, a.interval, a.timeout, q_cold))]
    per = -(-a.attackers // a.processes)
    for p in range(a.processes):
        first, count = p * per, min(per, a.attackers - p * per)
        if count > 0:
            procs.append(ctx.Process(target=attacker_process, args=(a.url, first, count, a.stranger_hosts, attack_from,
                                                                    attack_to, q_attack)))
    for p in procs:
        p.start()
    scrapes = q_scrapes.get()
    cold = q_cold.get()
    attack = {}
    for _ in procs[2:]:
        for k, v in q_attack.get().items():
            attack[k] = attack.get(k, 0) + v
    for p in procs:
        p.join()

    during = [s for s in scrapes if attack_from <= s["at"] < attack_to]
    ms = [s["ms"] for s in during if s["status"] == 200]
    statuses = {}
    for s in during:
        key = str(s["status"]) if s["status"] is not None else "error:" + s["error"]
        statuses[key] = statuses.get(key, 0) + 1
    cold_statuses = {}
    for s in cold:
        key = str(s["status"]) if s["status"] is not None else "error:" + s["error"]
        cold_statuses[key] = cold_statuses.get(key, 0) + 1
    first_ok = next((i for i, s in enumerate(cold) if s["status"] == 200), None)
    json.dump({
        "attackers": a.attackers, "stranger_hosts": a.stranger_hosts, "seconds": a.seconds, "interval": a.interval, "timeout": a.timeout,
        "scrapes_during_attack": len(during), "scrape_statuses": statuses, "ok": statuses.get("200", 0),
        "ok_p50_ms": percentile(ms, 50), "ok_p99_ms": percentile(ms, 99), "ok_max_ms": max(ms) if ms else None,
        "all_max_ms": max((s["ms"] for s in during), default=None),
        "scrapes_before_attack": sum(1 for s in scrapes if s["at"] < attack_from),
        "strangers": attack, "stranger_requests_per_s": sum(attack.values()) / a.seconds,
        "cold_scrapes": len(cold), "cold_statuses": cold_statuses,
        "cold_first_200_after_s": None if first_ok is None else first_ok * a.interval,
    }, __import__("sys").stdout)
    print()


if __name__ == "__main__":
    main()
