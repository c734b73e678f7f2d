#!/usr/bin/env python3
"""Measurement helpers for bench/disk/run.sh (python3 standard library only).

Subcommands (each prints one JSON object on stdout):
  seed         make volumes, images and containers on the real engine (Engine API)
  df-time      time sequential GET /system/df on an engine socket, with dockerd's CPU
  wait-disk    poll /metrics until the disk collector has published a df
  window       a measurement window: CPU and RSS of agents, df calls they made, engine events
  latency      interleaved sequential GET /metrics of several agents, percentiles and sizes
  report       render the markdown results from the JSON files of a run
"""

import argparse
import gzip
import http.client
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cwbench  # noqa: E402  (bench/cwbench.py: read_proc, percentile, connect, get)

API = "/v1.41"

# The families the disk collector renders (agent/metrics/disk_collector.cpp).
DISK_FAMILIES = ("composewatch_filesystem_avail_bytes", "composewatch_filesystem_size_bytes",
                 "composewatch_disk_usage_bytes", "composewatch_disk_reclaimable_bytes",
                 "composewatch_disk_objects", "composewatch_volume_size_bytes",
                 "composewatch_volume_in_use", "composewatch_image_size_bytes",
                 "composewatch_volume_finding")
DISK_DURATION = re.compile(rb'^composewatch_collector_duration_seconds\{collector="disk"\} (\S+)$', re.M)


def fail(msg):
    print(json.dumps({"error": msg}))
    sys.exit(1)


# --------------------------------------------------------------------------- engine API

def engine(socket_path, timeout=300):
    return cwbench.UnixHTTPConnection(socket_path, timeout=timeout)


def call(conn, method, path, body=None, headers=None):
    hdrs = dict(headers or {})
    if body is None:
        body = b""
    elif isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    hdrs["Content-Length"] = str(len(body))
    conn.request(method, API + path, body=body, headers=hdrs)
    r = conn.getresponse()
    return r.status, r.read()


def parallel(items, workers, fn, socket_path):
    """Runs fn(conn, item) over items on `workers` threads, one engine connection each.
    Returns the list of errors (strings)."""
    errors = []
    lock = threading.Lock()
    queue = list(items)

    def work():
        conn = engine(socket_path)
        while True:
            with lock:
                if not queue or len(errors) >= 5:
                    break
                item = queue.pop(0)
            try:
                fn(conn, item)
            except Exception as e:  # noqa: BLE001 - reported, the run stops
                conn.close()
                conn = engine(socket_path)
                with lock:
                    errors.append("%s: %s" % (item, e))
        conn.close()

    # Daemon threads: on Ctrl-C the process ends at once instead of finishing the queue.
    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def cmd_seed(a):
    """Images: one legacy-builder build per image (POST /build, what `docker build` does
    without BuildKit, so no build cache is left behind) FROM the test image with a LABEL
    and a COPY of a few KiB of its own: each image is the shared base layer plus one small
    layer.
    Volumes: half of them with Compose labels; half of them (a different half) filled with
    a few KiB by short-lived containers, 25 volumes per container. Sleepers: running
    containers of a Compose project, each mounting two of the volumes."""
    out = {}
    label = {"cwbench.run": a.run_id}
    sock = a.socket

    t0 = time.time()

    def build(conn, i):
        data = os.urandom(1024 * (2 + i % 5))
        # The labels come first, so that every intermediate image of the build carries the
        # run's label too: an interrupted build leaves nothing that cleanup cannot find.
        dockerfile = 'FROM %s\nLABEL cwbench.run="%s" cwbench.image="%d"\nCOPY data /cwbench/data\n' % (
            a.image, a.run_id, i)
        ctx = io.BytesIO()
        with tarfile.open(fileobj=ctx, mode="w") as tar:
            for name, content in (("Dockerfile", dockerfile.encode()), ("data", data)):
                ti = tarfile.TarInfo(name)
                ti.size = len(content)
                ti.mtime = int(time.time())
                tar.addfile(ti, io.BytesIO(content))
        q = "t=%s&rm=1&forcerm=1&networkmode=none&q=1" % quote("%simg-%d:1" % (a.prefix, i))
        conn.request("POST", API + "/build?" + q, body=ctx.getvalue(),
                     headers={"Content-Type": "application/x-tar", "Content-Length": str(len(ctx.getvalue()))})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("build: HTTP %d %s" % (r.status, body[:200]))
        for line in body.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "error" in msg:
                raise RuntimeError("build: %s" % msg["error"])

    errors = parallel(range(a.images), a.parallel, build, sock)
    out["images"] = {"made": a.images - len(errors), "seconds": time.time() - t0}
    if errors:
        out["errors"] = errors
        print(json.dumps(out))
        sys.exit(1)

    t0 = time.time()
    vol_names = ["%svol-%d" % (a.prefix, k) for k in range(a.volumes)]

    def create_volume(conn, k):
        labels = dict(label)
        if k % 2 == 1:
            labels.update({"com.docker.compose.project": a.project, "com.docker.compose.volume": "v%d" % k})
        st, body = call(conn, "POST", "/volumes/create", {"Name": vol_names[k], "Labels": labels})
        if st != 201:
            raise RuntimeError("volume create: HTTP %d %s" % (st, body[:200]))

    errors = parallel(range(a.volumes), a.parallel, create_volume, sock)
    out["volumes"] = {"made": a.volumes - len(errors), "compose_labelled": a.volumes // 2,
                      "seconds": time.time() - t0}
    if errors:
        out["errors"] = errors
        print(json.dumps(out))
        sys.exit(1)

    # k % 4 in (0, 1): half the volumes, half of them Compose ones, get a few KiB.
    t0 = time.time()
    to_fill = [k for k in range(a.volumes) if k % 4 in (0, 1)]
    batches = [to_fill[i:i + 25] for i in range(0, len(to_fill), 25)]
    script = ('for d in /v/*; do n=$(( ${d##*/} % 7 + 2 )); '
              'dd if=/dev/urandom of=$d/data bs=1024 count=$n 2>/dev/null || exit 1; done')

    def fill(conn, b):
        ks = batches[b]
        st, body = call(conn, "POST", "/containers/create?name=%sfill-%d" % (a.prefix, b), {
            "Image": a.image, "Cmd": ["sh", "-c", script], "Labels": label,
            "NetworkDisabled": True,
            "HostConfig": {"NetworkMode": "none", "Binds": ["%s:/v/%d" % (vol_names[k], k) for k in ks]}})
        if st != 201:
            raise RuntimeError("create: HTTP %d %s" % (st, body[:200]))
        cid = json.loads(body)["Id"]
        try:
            st, body = call(conn, "POST", "/containers/%s/start" % cid)
            if st not in (204, 304):
                raise RuntimeError("start: HTTP %d %s" % (st, body[:200]))
            st, body = call(conn, "POST", "/containers/%s/wait" % cid)
            if st != 200 or json.loads(body).get("StatusCode") != 0:
                raise RuntimeError("wait: HTTP %d %s" % (st, body[:200]))
        finally:
            call(conn, "DELETE", "/containers/%s?force=1" % cid)

    errors = parallel(range(len(batches)), a.parallel, fill, sock)
    out["filled"] = {"volumes": len(to_fill), "containers": len(batches), "seconds": time.time() - t0}
    if errors:
        out["errors"] = errors
        print(json.dumps(out))
        sys.exit(1)

    # Sleeper j: service s<j> of the project, image j, mounting volumes 4j+1 (Compose,
    # filled) and 4j+3 (Compose, empty).
    t0 = time.time()

    def sleeper(conn, j):
        labels = dict(label, **{"com.docker.compose.project": a.project, "com.docker.compose.service": "s%d" % j,
                                "com.docker.compose.container-number": "1",
                                "com.docker.compose.oneoff": "False"})
        binds = ["%s:/data/%s" % (vol_names[k], slot) for k, slot in ((4 * j + 1, "a"), (4 * j + 3, "b"))
                 if k < a.volumes]
        st, body = call(conn, "POST", "/containers/create?name=%ss%d-1" % (a.prefix, j), {
            "Image": "%simg-%d:1" % (a.prefix, j % max(1, a.images)) if a.images else a.image,
            "Cmd": ["sleep", "36000"], "Labels": labels, "NetworkDisabled": True,
            "HostConfig": {"NetworkMode": "none", "Binds": binds}})
        if st != 201:
            raise RuntimeError("create: HTTP %d %s" % (st, body[:200]))
        st, body = call(conn, "POST", "/containers/%s/start" % json.loads(body)["Id"])
        if st not in (204, 304):
            raise RuntimeError("start: HTTP %d %s" % (st, body[:200]))

    errors = parallel(range(a.sleepers), a.parallel, sleeper, sock)
    out["sleepers"] = {"running": a.sleepers - len(errors), "seconds": time.time() - t0}
    if errors:
        out["errors"] = errors
        print(json.dumps(out))
        sys.exit(1)
    print(json.dumps(out))


def dockerd_cpu(pid):
    if not pid:
        return None
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def cmd_df_time(a):
    """Sequential GET /system/df, each on a new connection as the agent makes them.
    Engine 20.10 refuses a df while another one runs ("a disk usage operation is already
    running", HTTP 500): such an answer is counted and the call retried after 0.5 s."""
    calls = []
    refused = 0
    body = b""
    cpu0 = dockerd_cpu(a.dockerd_pid)
    t_all = time.time()
    while len(calls) < a.n:
        conn = engine(a.socket, timeout=a.timeout)
        t0 = time.perf_counter()
        try:
            st, body = call(conn, "GET", "/system/df")
        finally:
            conn.close()
        t1 = time.perf_counter()
        if st == 500 and b"already running" in body:
            refused += 1
            if refused > 20 * a.n:
                fail("GET /system/df: refused %d times (another df keeps running)" % refused)
            time.sleep(0.5)
            continue
        if st != 200:
            fail("GET /system/df: HTTP %d %s" % (st, body[:200]))
        calls.append(t1 - t0)
    cpu1 = dockerd_cpu(a.dockerd_pid)
    doc = json.loads(body)
    p = a.prefix or "\x00"
    imgs = doc.get("Images") or []
    vols = doc.get("Volumes") or []
    ctrs = doc.get("Containers") or []
    out = {
        "n": len(calls), "seconds": calls, "min_s": min(calls), "median_s": statistics.median(calls),
        "max_s": max(calls), "wall_s": time.time() - t_all, "refused_busy": refused,
        "body_bytes": len(body),
        "images": len(imgs), "images_ours": sum(1 for i in imgs if any(t.startswith(p) for t in i.get("RepoTags") or [])),
        "volumes": len(vols), "volumes_ours": sum(1 for v in vols if v.get("Name", "").startswith(p)),
        "containers": len(ctrs),
        "containers_ours": sum(1 for c in ctrs if any(n.lstrip("/").startswith(p) for n in c.get("Names") or [])),
        "build_cache": len(doc.get("BuildCache") or []), "layers_size": doc.get("LayersSize"),
        "volume_bytes": sum(max(0, (v.get("UsageData") or {}).get("Size", 0)) for v in vols),
    }
    if cpu0 is not None and cpu1 is not None:
        # dockerd's whole CPU over the calls: what else it did meanwhile is included.
        out["dockerd_cpu_s"] = cpu1 - cpu0
        out["dockerd_cpu_ms_per_call"] = 1000.0 * (cpu1 - cpu0) / len(calls)
    print(json.dumps(out))


# --------------------------------------------------------------------------- agent side

def disk_state(url):
    text = cwbench.scrape_text(url)
    out = {"ok": None, "volumes": None, "images": None}
    for name, labels, value in cwbench.parse_samples(text):
        if name == "composewatch_collector_success" and labels.get("collector") == "disk":
            out["ok"] = value
        elif name == "composewatch_disk_objects":
            out[labels.get("kind")] = value
    return out


def cmd_wait_disk(a):
    """Polls /metrics until the disk collector reports success and, when asked, at least
    `--volumes` volumes: the agent has answered its first df."""
    deadline = time.time() + a.timeout
    last = None
    while time.time() < deadline:
        try:
            last = disk_state(a.url)
            if last["ok"] == 1 and (last.get("volumes") or 0) >= a.volumes:
                print(json.dumps(dict(last, reached=True, time=time.time())))
                return
        except (OSError, RuntimeError, http.client.HTTPException) as e:
            last = {"error": str(e)}
        time.sleep(0.2)
    print(json.dumps({"reached": False, "last": last}))
    sys.exit(1)


def cpu_seconds(a, b):
    """CPU between two read_proc snapshots: schedstat (ns, live threads) when both have
    it, else utime+stime ticks."""
    if "sched_ns" in a and "sched_ns" in b:
        return (b["sched_ns"] - a["sched_ns"]) / 1e9, "schedstat"
    return (b["cpu_ticks"] - a["cpu_ticks"]) / a["clk_tck"], "utime+stime"


def pairs(values, what):
    out = {}
    for v in values or []:
        name, sep, rest = v.partition("=")
        if not sep:
            fail("%s: expected NAME=VALUE, got %r" % (what, v))
        out[name] = rest
    return out


def df_calls_fake(path, t0, t1):
    """df requests in a fake engine's request log (time method path) inside [t0, t1]."""
    n = 0
    for line in open(path):
        p = line.split()
        if len(p) >= 3 and p[2].split("?")[0].endswith("/system/df") and t0 <= float(p[0]) <= t1:
            n += 1
    return {"calls": n}


def df_calls_relay(path, t0, t1):
    """df connections in a relay log whose request was sent inside [t0, t1], with how long
    the agent waited for the whole answer and the answers' statuses."""
    durations, statuses, sizes = [], {}, []
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        req = r.get("request") or ""
        if not req.split("?")[0].endswith("/system/df") or r.get("t_request") is None:
            continue
        if not t0 <= r["t_request"] <= t1:
            continue
        statuses[str(r.get("status"))] = statuses.get(str(r.get("status")), 0) + 1
        if r.get("t_last_byte"):
            durations.append(r["t_last_byte"] - r["t_request"])
        if r.get("status") == 200:
            sizes.append(r["bytes_down"])
    out = {"calls": sum(statuses.values()), "statuses": statuses}
    if durations:
        s = sorted(durations)
        out.update(min_s=s[0], median_s=statistics.median(s), max_s=s[-1])
    if sizes:
        out["response_bytes"] = max(sizes)
    return out


def cmd_window(a):
    """Snapshots the agents, waits `--seconds` with no scrapes, snapshots them again and
    counts the df calls each made in between (from a fake engine's request log or a
    relay's log). With --docker-events, a live `docker events` subscriber counts what else
    happened on the engine meanwhile (the agents handle those events too)."""
    pids = {k: int(v) for k, v in pairs(a.agent, "--agent").items()}
    fake_logs = pairs(a.fake_log, "--fake-log")
    relay_logs = pairs(a.relay_log, "--relay-log")
    ev = None
    if a.docker_events:
        ev = subprocess.Popen(["docker", "events", "--format", "{{.TimeNano}} {{.Type}} {{.Action}}"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(0.5)
    before = {k: cwbench.read_proc(p) for k, p in pids.items()}
    t0 = time.time()
    time.sleep(a.seconds)
    t1 = time.time()
    after = {k: cwbench.read_proc(p) for k, p in pids.items()}
    out = {"seconds": t1 - t0, "t0": t0, "t1": t1, "agents": {}}
    for k in pids:
        cpu, source = cpu_seconds(before[k], after[k])
        out["agents"][k] = {"cpu_s": cpu, "source": source,
                            "ticks": after[k]["cpu_ticks"] - before[k]["cpu_ticks"],
                            "before": before[k], "after": after[k]}
        if k in fake_logs:
            out["agents"][k]["df"] = df_calls_fake(fake_logs[k], t0, t1)
        if k in relay_logs:
            out["agents"][k]["df"] = df_calls_relay(relay_logs[k], t0, t1)
    any_snap = next(iter(after.values()), None)
    if any_snap:
        first = next(iter(before.values()))
        out["host_busy_pct"] = cwbench.host_busy_pct(first, any_snap)
    if ev is not None:
        time.sleep(0.5)
        ev.terminate()
        text, _ = ev.communicate(timeout=10)
        by = {}
        lo, hi = int(t0 * 1e9), int(t1 * 1e9)
        for line in text.splitlines():
            p = line.split(" ", 2)
            if len(p) >= 3 and p[0].isdigit() and lo <= int(p[0]) <= hi:
                key = p[1] + "/" + p[2].split(":")[0]
                by[key] = by.get(key, 0) + 1
        out["engine_events"] = sum(by.values())
        out["engine_events_by_action"] = by
    print(json.dumps(out))


def disk_lines(text):
    """Series and bytes of the Disk group in one /metrics body (HELP/TYPE lines included)."""
    series = 0
    size = 0
    for line in text.split(b"\n"):
        if line.startswith(b"#"):
            parts = line.split(b" ", 3)
            name = parts[2].decode() if len(parts) > 2 else ""
        else:
            name = line.split(b"{", 1)[0].split(b" ", 1)[0].decode()
            if name in DISK_FAMILIES:
                series += 1
        if name in DISK_FAMILIES:
            size += len(line) + 1
    return series, size


def cmd_latency(a):
    """Sequential GET /metrics against each target in turn, one keep-alive connection per
    target: round r scrapes the targets in the given order when r is even and in reverse
    when odd, so that both see the same moments of the machine. Each scrape is timed from
    sending the request to having read the whole body."""
    targets = pairs(a.target, "--target")
    pids = {k: int(v) for k, v in pairs(a.pid, "--pid").items()}
    names = list(targets)
    headers = {"Accept-Encoding": "gzip"} if a.gzip else {}
    conns = {}
    paths = {}
    for n in names:
        mk, paths[n] = cwbench.connect(targets[n])
        conns[n] = (mk, mk())
    lat = {n: [] for n in names}
    disk_self = {n: [] for n in names}
    last = {n: None for n in names}
    wire = {n: 0 for n in names}
    errors = {n: 0 for n in names}

    def one(n):
        mk, c = conns[n]
        t0 = time.perf_counter_ns()
        try:
            r, body = cwbench.get(c, paths[n], headers)
        except (http.client.HTTPException, OSError):
            c.close()
            c = mk()
            conns[n] = (mk, c)
            t0 = time.perf_counter_ns()
            r, body = cwbench.get(c, paths[n], headers)
        t1 = time.perf_counter_ns()
        if r.status != 200:
            errors[n] += 1
            return None
        if (r.getheader("Content-Encoding") or "") == "gzip":
            wire[n] = len(body)
            body = gzip.decompress(body)
        else:
            wire[n] = len(body)
        return (t1 - t0) / 1e6, body

    for _ in range(a.warmup):
        for n in names:
            one(n)
    before = {k: cwbench.read_proc(p) for k, p in pids.items()}
    for r in range(a.n):
        for n in (names if r % 2 == 0 else names[::-1]):
            got = one(n)
            if got is None:
                continue
            ms, body = got
            lat[n].append(ms)
            m = DISK_DURATION.search(body)
            if m:
                disk_self[n].append(float(m.group(1)) * 1000.0)
            last[n] = body
    after = {k: cwbench.read_proc(p) for k, p in pids.items()}
    out = {"n": a.n, "gzip": a.gzip, "order": names, "targets": {}}
    for n in names:
        s = sorted(lat[n])
        d = sorted(disk_self[n])
        series, disk_bytes = disk_lines(last[n] or b"")
        t = {
            "n": len(s), "errors": errors[n],
            "p50_ms": cwbench.percentile(s, 50), "p95_ms": cwbench.percentile(s, 95),
            "p99_ms": cwbench.percentile(s, 99), "max_ms": s[-1] if s else None,
            "mean_ms": sum(s) / len(s) if s else None,
            "body_bytes": len(last[n] or b""), "wire_bytes": wire[n],
            "series": sum(1 for l in (last[n] or b"").split(b"\n") if l and not l.startswith(b"#")),
            "disk_series": series, "disk_bytes": disk_bytes,
        }
        if d:
            t["disk_collect_p50_ms"] = cwbench.percentile(d, 50)
            t["disk_collect_p99_ms"] = cwbench.percentile(d, 99)
            t["disk_collect_mean_ms"] = sum(d) / len(d)
        if n in pids:
            cpu, source = cpu_seconds(before[n], after[n])
            t["cpu_ms_per_scrape"] = 1000.0 * cpu / max(1, len(s))
            t["cpu_source"] = source
            t["rss_after"] = after[n]
        out["targets"][n] = t
    if before:
        k = next(iter(before))
        out["host_busy_pct"] = cwbench.host_busy_pct(before[k], after[k])
    print(json.dumps(out))


# --------------------------------------------------------------------------- report

# The result files and sizes read as bench/cwbench.py reads them.
load = cwbench.load
mib = cwbench.mib


def kib_bytes(n):
    return "%d bytes (%.1f KiB)" % (n, n / 1024.0)


def per_collection(win, busy, idle):
    """(agent CPU ms per df call net of the idle agent, raw ms per call, calls)."""
    b, i = win["agents"][busy], win["agents"][idle]
    calls = (b.get("df") or {}).get("calls", 0)
    if not calls:
        return None, None, 0
    net = (b["cpu_s"] - i["cpu_s"]) * 1000.0 / calls
    raw = b["cpu_s"] * 1000.0 / calls
    return net, raw, calls


def cmd_report(a):
    d = a.dir
    env = load(d, "env") or {}
    rows = []
    notes = list(env.get("notes", []))

    def section(title):
        rows.append(None)
        rows.append(("**%s**" % title, ""))

    def row(fig, val):
        rows.append((fig, val))

    fs = load(d, "fake_setup")
    fw = load(d, "fake_window")
    if fs:
        section("Fake engine: %d volumes, %d images, %d Compose containers" % (fs["volumes"], fs["images"],
                                                                              fs["containers"]))
        row("`/system/df` body, on / off", "%s / %d bytes" % (kib_bytes(fs["df_bytes_on"]), fs["df_bytes_off"]))
        row("Agent RSS after warm-up (VmRSS): off / on",
            "%s / %s" % (mib(fs["rss"]["off"]["VmRSS"]), mib(fs["rss"]["on"]["VmRSS"])))
        row("Agent anonymous RSS after warm-up (RssAnon): off / on",
            "%s / %s" % (mib(fs["rss"]["off"]["RssAnon"]), mib(fs["rss"]["on"]["RssAnon"])))
    if fw:
        net, raw, calls = per_collection(fw, "collecting", "on")
        c = fw["agents"]["collecting"]
        i = fw["agents"]["on"]
        row("Window without scrapes", "%.1f s" % fw["seconds"])
        row("df calls made in it: `interval: 1s` agent / `interval: 1h` agent",
            "%d / %d" % (calls, (i.get("df") or {}).get("calls", 0)))
        row("Agent CPU in the window: `interval: 1s` / `interval: 1h`",
            "%.1f ms / %.1f ms (%s; utime+stime %d / %d ticks)" % (c["cpu_s"] * 1000, i["cpu_s"] * 1000, c["source"],
                                                                  c["ticks"], i["ticks"]))
        if net is not None:
            row("**Agent CPU per df collection** (difference / calls)", "**%.2f ms** (%.2f ms before subtracting "
                "the idle agent)" % (net, raw))
            row("Same, as a share of one core at the default `interval: 5m`",
                "%.4f %%" % (100.0 * net / 1000.0 / 300.0))
        e_net, e_raw, e_calls = (per_collection(fw, "collecting-empty", "off") if "collecting-empty" in fw["agents"]
                                 else (None, None, 0))
        if e_net is not None:
            row("Agent CPU per df collection of an empty df (%d calls, against the `interval: 1h` agent of the "
                "empty df)" % e_calls, "%.2f ms" % e_net)
            if net is not None:
                row("Part that grows with the df: per collection, per KiB of body",
                    "%.2f ms, %.1f µs/KiB" % (net - e_net, 1000.0 * (net - e_net) / (fs["df_bytes_on"] / 1024.0)
                                              if fs else float("nan")))
        ca = c["after"]
        row("`interval: 1s` agent RSS / peak RSS after the window (VmRSS / VmHWM)",
            "%s / %s" % (mib(ca["VmRSS"]), mib(ca["VmHWM"])))
        if "collecting-empty" in fw["agents"]:
            ea = fw["agents"]["collecting-empty"]["after"]
            row("Same for the agent collecting an empty df every second", "%s / %s" % (mib(ea["VmRSS"]),
                                                                                      mib(ea["VmHWM"])))
            row("RssAnon after the window: df of %d volumes / empty df, both every second" % fs["volumes"]
                if fs else "RssAnon after the window", "%s / %s" % (mib(ca["RssAnon"]), mib(ea["RssAnon"])))
        row("`interval: 1h` agent RSS / peak RSS after the window (VmRSS / VmHWM)",
            "%s / %s" % (mib(i["after"]["VmRSS"]), mib(i["after"]["VmHWM"])))
        row("Whole machine CPU busy during the window", "%.0f %%" % fw.get("host_busy_pct", 0))
    for kind in ("plain", "gzip"):
        l = load(d, "fake_latency_%s" % kind)
        if not l:
            continue
        off, on = l["targets"]["off"], l["targets"]["on"]
        title = "`/metrics`" + (" with `Accept-Encoding: gzip`" if kind == "gzip" else "")
        section("%s latency on the fake engine, %d interleaved rounds: Disk group off vs on" % (title, l["n"]))
        for lab, t in (("off", off), ("on", on)):
            row("%s, %s: p50 / p95 / p99 / max" % (title, lab), "%.2f / %.2f / %.2f / %.2f ms"
                % (t["p50_ms"], t["p95_ms"], t["p99_ms"], t["max_ms"]))
        row("Difference on − off: p50 / p95 / p99", "%+.2f / %+.2f / %+.2f ms" % (
            on["p50_ms"] - off["p50_ms"], on["p95_ms"] - off["p95_ms"], on["p99_ms"] - off["p99_ms"]))
        row("Agent CPU per scrape: off / on (difference)", "%.2f / %.2f ms (%+.2f ms)" % (
            off["cpu_ms_per_scrape"], on["cpu_ms_per_scrape"], on["cpu_ms_per_scrape"] - off["cpu_ms_per_scrape"]))
        if "disk_collect_p50_ms" in on:
            row("Disk collector's own time per scrape (`composewatch_collector_duration_seconds`): off / on, p50 "
                "(p99)", "%.3f (%.3f) / %.3f (%.3f) ms" % (off["disk_collect_p50_ms"], off["disk_collect_p99_ms"],
                                                          on["disk_collect_p50_ms"], on["disk_collect_p99_ms"]))
        size = "%d / %d bytes" % (off["body_bytes"], on["body_bytes"])
        if kind == "gzip":
            size += " decoded; %d / %d bytes gzip" % (off["wire_bytes"], on["wire_bytes"])
        row("%s body: off / on" % title, size)
        if kind == "plain":
            row("Series: off / on (of which Disk group)", "%d / %d (%d / %d)" % (
                off["series"], on["series"], off["disk_series"], on["disk_series"]))
            row("Disk group's share of the body: off / on", "%d / %d bytes" % (off["disk_bytes"], on["disk_bytes"]))
        row("Whole machine CPU busy during the scrapes", "%.0f %%" % l.get("host_busy_pct", 0))
        for lab, t in (("off", off), ("on", on)):
            if t.get("errors"):
                notes.append("%s latency, %s: %d non-200 answers." % (kind, lab, t["errors"]))
    fr = load(d, "fake_rss_after")
    if fr:
        row("Agent RSS after all scrapes (VmRSS / VmHWM): off; on", "%s / %s; %s / %s" % (
            mib(fr["off"]["VmRSS"]), mib(fr["off"]["VmHWM"]), mib(fr["on"]["VmRSS"]), mib(fr["on"]["VmHWM"])))

    seed = load(d, "real_seed")
    pre = load(d, "real_df_before")
    post = load(d, "real_df_after")
    rw = load(d, "real_window")
    if seed or post:
        section("Real engine")
    if pre:
        row("Engine before seeding: images / containers / volumes in `/system/df`",
            "%d / %d / %d" % (pre["images"], pre["containers"], pre["volumes"]))
        row("`GET /system/df` before seeding: min / median / max over %d calls" % pre["n"],
            "%.3f / %.3f / %.3f s (%s)" % (pre["min_s"], pre["median_s"], pre["max_s"], kib_bytes(pre["body_bytes"])))
    if seed:
        row("Seeded: images (built) / volumes (Compose-labelled) / filled with data / running containers",
            "%d / %d (%d) / %d / %d" % (seed["images"]["made"], seed["volumes"]["made"],
                                        seed["volumes"]["compose_labelled"], seed["filled"]["volumes"],
                                        seed["sleepers"]["running"]))
        row("Seeding took", "%.1f s (images %.1f s, volumes %.1f s, data %.1f s, containers %.1f s)" % (
            seed.get("seconds", 0), seed["images"]["seconds"], seed["volumes"]["seconds"],
            seed["filled"]["seconds"], seed["sleepers"]["seconds"]))
    if post:
        row("Engine after seeding: images / containers / volumes in `/system/df` (ours)",
            "%d / %d / %d (%d / %d / %d)" % (post["images"], post["containers"], post["volumes"],
                                             post["images_ours"], post["containers_ours"], post["volumes_ours"]))
        row("**`GET /system/df` on the real engine**: min / median / max over %d calls" % post["n"],
            "**%.3f / %.3f / %.3f s**" % (post["min_s"], post["median_s"], post["max_s"]))
        row("`/system/df` body on the real engine", kib_bytes(post["body_bytes"]))
        if post.get("dockerd_cpu_ms_per_call") is not None:
            row("dockerd CPU per df call", "%.0f ms" % post["dockerd_cpu_ms_per_call"])
        if post.get("refused_busy"):
            notes.append("The engine refused %d df calls of the timing run with \"a disk usage operation is "
                         "already running\": someone else ran a df meanwhile." % post["refused_busy"])
    if rw:
        net, raw, calls = per_collection(rw, "collecting", "idle")
        c = rw["agents"]["collecting"]
        i = rw["agents"]["idle"]
        cdf = c.get("df") or {}
        row("Window without scrapes", "%.1f s" % rw["seconds"])
        row("df calls made in it: `interval: 1s` agent / `interval: 1h` agent (answers by status)",
            "%d / %d (%s)" % (calls, (i.get("df") or {}).get("calls", 0), json.dumps(cdf.get("statuses", {}))))
        if cdf.get("median_s") is not None:
            row("df as the agent saw it (request sent → last byte): min / median / max",
                "%.3f / %.3f / %.3f s" % (cdf["min_s"], cdf["median_s"], cdf["max_s"]))
        row("Agent CPU in the window: `interval: 1s` / `interval: 1h`",
            "%.1f ms / %.1f ms (%s; utime+stime %d / %d ticks)" % (c["cpu_s"] * 1000, i["cpu_s"] * 1000, c["source"],
                                                                  c["ticks"], i["ticks"]))
        if net is not None:
            row("**Agent CPU per df collection on the real engine** (difference / calls)",
                "**%.2f ms** (%.2f ms before subtracting the idle agent)" % (net, raw))
        row("`interval: 1s` agent RSS / peak RSS after the window",
            "%s / %s" % (mib(c["after"]["VmRSS"]), mib(c["after"]["VmHWM"])))
        row("Engine events during the window (live `docker events`)", str(rw.get("engine_events", "?")))
        row("Whole machine CPU busy during the window", "%.0f %%" % rw.get("host_busy_pct", 0))
        if rw.get("engine_events"):
            notes.append("Real engine window: %d engine events (%s) from other users of the engine; both agents "
                         "followed them, so the difference still isolates df." % (
                             rw["engine_events"], json.dumps(rw.get("engine_events_by_action"))))
        bad = {k: v for k, v in (cdf.get("statuses") or {}).items() if k != "200"}
        if bad:
            notes.append("Real engine window: df answers other than 200: %s (engine 20.10 answers 500 \"a disk "
                         "usage operation is already running\" when another df is in progress)." % json.dumps(bad))
    re_ = load(d, "real_engine")
    if re_ and re_.get("dockerd_pid_start") != re_.get("dockerd_pid_end"):
        notes.append("**dockerd was restarted during the real-engine phase** (pid %s, then %s): someone else "
                     "restarted the shared engine; the real-engine figures of this run are not reliable."
                     % (re_.get("dockerd_pid_start"), re_.get("dockerd_pid_end")))
    rl = load(d, "real_latency")
    if rl:
        t = rl["targets"]["real"]
        row("`/metrics` on the real engine (Disk group on), %d scrapes: p50 / p95 / p99 / max" % t["n"],
            "%.2f / %.2f / %.2f / %.2f ms" % (t["p50_ms"], t["p95_ms"], t["p99_ms"], t["max_ms"]))
        row("`/metrics` on the real engine: body, series (Disk group), CPU per scrape",
            "%d bytes, %d (%d), %.2f ms" % (t["body_bytes"], t["series"], t["disk_series"], t["cpu_ms_per_scrape"]))
        if "disk_collect_p50_ms" in t:
            row("Disk collector's own time per scrape on the real engine, p50 (p99)",
                "%.3f (%.3f) ms" % (t["disk_collect_p50_ms"], t["disk_collect_p99_ms"]))
    for name in ("agent-off", "agent-on", "agent-collecting", "agent-real-idle", "agent-real-collecting"):
        try:
            lines = [l.rstrip("\n") for l in open(os.path.join(d, name + ".log")) if l.strip()]
        except OSError:
            continue
        if lines:
            notes.append("The agent logged %d line(s) at warn/error level (%s), first: `%s`"
                         % (len(lines), name, lines[0][:300].replace("`", "'")))

    out = ["## composewatch disk collector benchmark, %s" % env.get("date", "?"), ""]
    agent = "`%s`" % env.get("agent_version")
    if env.get("revision", "") not in env.get("agent_version", ""):
        agent += " (tree %s)" % env.get("revision")
    out.append("Machine: %s × %s, %s MiB RAM, kernel %s; Docker Engine %s (API %s), storage driver %s; agent %s."
               % (env.get("nproc"), env.get("cpu_model"), env.get("mem_mib"), env.get("kernel"),
                  env.get("engine_version"), env.get("api_version"), env.get("storage_driver"), agent))
    out.append("")
    out.append("Command: `%s`; 1/5/15-minute load average at the start: %s; took %s s."
               % (env.get("command", "bench/disk/run.sh"), env.get("loadavg_start", "?"), env.get("took_s", "?")))
    out.append("")
    out.append("| Figure | Measured |")
    out.append("|---|---|")
    for r in rows:
        if r is None:
            continue
        out.append("| %s | %s |" % r)
    if notes:
        out += ["", "Notes:"] + ["- " + n for n in notes]
    sys.stdout.write("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("seed")
    s.add_argument("--socket", default="/var/run/docker.sock")
    s.add_argument("--prefix", required=True)
    s.add_argument("--run-id", required=True)
    s.add_argument("--project", required=True, help="Compose project name for labelled volumes and containers")
    s.add_argument("--image", required=True, help="base image")
    s.add_argument("--volumes", type=int, default=200)
    s.add_argument("--images", type=int, default=100)
    s.add_argument("--sleepers", type=int, default=10)
    s.add_argument("--parallel", type=int, default=4)
    s.set_defaults(fn=cmd_seed)

    s = sub.add_parser("df-time")
    s.add_argument("--socket", default="/var/run/docker.sock")
    s.add_argument("-n", type=int, default=5)
    s.add_argument("--timeout", type=float, default=300)
    s.add_argument("--prefix", default="")
    s.add_argument("--dockerd-pid", type=int, default=0)
    s.set_defaults(fn=cmd_df_time)

    s = sub.add_parser("wait-disk")
    s.add_argument("--url", required=True)
    s.add_argument("--volumes", type=float, default=0)
    s.add_argument("--timeout", type=float, default=120)
    s.set_defaults(fn=cmd_wait_disk)

    s = sub.add_parser("window")
    s.add_argument("--seconds", type=float, default=60)
    s.add_argument("--agent", action="append", help="NAME=PID")
    s.add_argument("--fake-log", action="append", help="NAME=fake engine request log")
    s.add_argument("--relay-log", action="append", help="NAME=relay log")
    s.add_argument("--docker-events", action="store_true")
    s.set_defaults(fn=cmd_window)

    s = sub.add_parser("latency")
    s.add_argument("--target", action="append", required=True, help="NAME=http://host:port/metrics")
    s.add_argument("--pid", action="append", help="NAME=PID of the agent behind a target")
    s.add_argument("-n", type=int, default=500)
    s.add_argument("--warmup", type=int, default=20)
    s.add_argument("--gzip", action="store_true")
    s.set_defaults(fn=cmd_latency)

    s = sub.add_parser("report")
    s.add_argument("--dir", required=True)
    s.set_defaults(fn=cmd_report)

    a = p.parse_args()
    try:
        a.fn(a)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
