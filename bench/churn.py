#!/usr/bin/env python3
"""Container churn on the real engine through its API (python3 standard library only).

Drives containers of composewatch-test/busybox:1 through lifecycles that end in OOM
kills, exits with chosen codes, kills, manual and policy restarts, and removal, with
keep-alive HTTP over the engine's unix socket and several workers (much faster than one
docker CLI process per step on 2 cores). Used by the storm test
(tests/storm/storm_test.cpp), bench/storm/run.sh and bench/soak/run.sh.

Subcommands (each prints one JSON object on stdout when it ends):
  storm    N containers with unique names PREFIX00000..., each through one lifecycle and
           removed; per name, what the driver expects the engine to report
  churn    for --seconds, a fixed pool of names re-created over and over (state stays
           bounded, as with `docker compose up` re-creating a service's containers)
  cleanup  removes every container labelled cwchurn.run=RUN

Every container runs with no network, carries the Compose labels of project --project
(service = the lifecycle) and the label cwchurn.run=RUN, and is removed by the driver
(force) once its lifecycle is over; `cleanup` removes what an interrupted run left.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cwbench import UnixHTTPConnection  # noqa: E402  (HTTP over the engine's unix socket)

IMAGE = "composewatch-test/busybox:1"
HOG = "x=aaaaaaaa; while true; do x=$x$x; done"
MIB = 1024 * 1024

# name: (what the container runs and what is done to it). Expectations per container:
# oom = oom events, restarts = starts after a die, exits = {code: dies}.
LIFECYCLES = ["oom", "exit", "kill", "manual_restart", "policy_restart", "oom_then_policy", "created"]


class EngineError(RuntimeError):
    pass


class Engine:
    """One keep-alive connection; reconnects once on a broken connection."""

    def __init__(self, sock, api):
        self.sock, self.api = sock, api
        self.conn = UnixHTTPConnection(sock, timeout=120)
        self.calls = 0

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        for attempt in (0, 1):
            try:
                self.conn.request(method, "/v%s%s" % (self.api, path), body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = UnixHTTPConnection(self.sock, timeout=120)
                if attempt:
                    raise
        self.calls += 1
        if r.status not in ok:
            raise EngineError("%s %s: HTTP %d %s" % (method, path, r.status, payload[:300].decode("utf-8", "replace")))
        return json.loads(payload) if payload and r.getheader("Content-Type", "").startswith("application/json") else None

    def close(self):
        self.conn.close()


def container_spec(kind, code, project, service, number, run):
    hc = {"NetworkMode": "none"}
    cmd = ["sleep", "600"]
    if kind == "oom":
        hc.update(Memory=16 * MIB, MemorySwap=16 * MIB)
        cmd = ["sh", "-c", HOG]
    elif kind == "exit":
        cmd = ["sh", "-c", "exit %d" % code]
    elif kind == "policy_restart":
        hc["RestartPolicy"] = {"Name": "on-failure", "MaximumRetryCount": 1}
        cmd = ["sh", "-c", "exit %d" % code]
    elif kind == "oom_then_policy":
        # OOM-killed on the first run only (the file system outlives a policy restart).
        hc.update(Memory=16 * MIB, MemorySwap=16 * MIB)
        hc["RestartPolicy"] = {"Name": "on-failure", "MaximumRetryCount": 1}
        cmd = ["sh", "-c", "if [ -f /done ]; then exit %d; fi; touch /done; %s" % (code, HOG)]
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": service,
              "com.docker.compose.container-number": str(number), "com.docker.compose.oneoff": "False",
              "cwchurn.run": run}
    return {"Image": IMAGE, "Cmd": cmd, "Labels": labels, "HostConfig": hc, "NetworkDisabled": True}


def exit_code(kind, round_):
    """The exit code of the round-th container of a kind: 0..3, and 1..3 where a restart
    policy must see a failure."""
    return 1 + round_ % 3 if kind == "policy_restart" else round_ % 4


def expected(kind, code):
    """What the engine reports for one lifecycle: oom events, restarts, dies by exit code."""
    return {
        "oom": {"oom": 1, "restarts": 0, "exits": {"137": 1}},
        "exit": {"oom": 0, "restarts": 0, "exits": {str(code): 1}},
        "kill": {"oom": 0, "restarts": 0, "exits": {"137": 1}},
        "manual_restart": {"oom": 0, "restarts": 1, "exits": {"137": 2}},
        "policy_restart": {"oom": 0, "restarts": 1, "exits": {str(code): 2}},
        # The second run exits with `code`; 137 + code twice when code is 137 (never: 0..3).
        "oom_then_policy": {"oom": 1, "restarts": 1, "exits": {"137": 1, str(code): 1}},
        "created": {"oom": 0, "restarts": 0, "exits": {}},
    }[kind]


def wait_settled(eng, cid, restarts, deadline_s=120):
    """Polls inspect until the container has stopped for good after `restarts` policy restarts."""
    t0 = time.time()
    while True:
        st = eng.call("GET", "/containers/%s/json" % cid)
        s = st["State"]
        if st.get("RestartCount", 0) >= restarts and not s["Running"] and not s["Restarting"] and s["Status"] == "exited":
            return
        if time.time() - t0 > deadline_s:
            raise EngineError("container %s did not settle: %s" % (cid[:12], json.dumps(s)))
        time.sleep(0.1)


def lifecycle(eng, name, kind, code, project, number, run):
    """Creates `name`, takes it through `kind` and removes it. `code` is the exit code for
    the kinds that choose one (policy_restart needs a non-zero one: see exit_code())."""
    spec = container_spec(kind, code, project, kind, number, run)
    cid = eng.call("POST", "/containers/create?name=" + urllib.parse.quote(name), spec)["Id"]
    try:
        if kind == "created":
            return
        eng.call("POST", "/containers/%s/start" % cid)
        if kind in ("oom", "exit"):
            eng.call("POST", "/containers/%s/wait" % cid)
        elif kind == "kill":
            eng.call("POST", "/containers/%s/kill?signal=KILL" % cid)
            eng.call("POST", "/containers/%s/wait" % cid)
        elif kind == "manual_restart":
            for _ in range(2):
                eng.call("POST", "/containers/%s/kill?signal=KILL" % cid)
                eng.call("POST", "/containers/%s/wait" % cid)
                if _ == 0:
                    eng.call("POST", "/containers/%s/start" % cid)
        else:  # policy restarts
            wait_settled(eng, cid, 1)
    finally:
        eng.call("DELETE", "/containers/%s?force=1" % cid)


def run_workers(n_workers, job, next_item):
    errors = []
    lock = threading.Lock()
    calls = [0]

    def work(w):
        eng = job["engine"]()
        while True:
            item = next_item(w)
            if item is None:
                break
            try:
                job["do"](eng, item)
            except Exception as e:  # noqa: BLE001 - reported, the run goes on
                with lock:
                    errors.append("%s: %s" % (item, e))
        with lock:
            calls[0] += eng.calls
        eng.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, calls[0]


def cmd_storm(a):
    names = ["%s%05d" % (a.prefix, i) for i in range(a.containers)]
    plan = []
    for i, name in enumerate(names):
        kind = LIFECYCLES[i % len(LIFECYCLES)]
        code = exit_code(kind, i // len(LIFECYCLES))
        plan.append((name, kind, code, i))
    lock = threading.Lock()
    pos = [0]
    done_at = {}

    def next_item(_w):
        with lock:
            if pos[0] >= len(plan):
                return None
            pos[0] += 1
            return plan[pos[0] - 1]

    def do(eng, item):
        name, kind, code, i = item
        lifecycle(eng, name, kind, code, a.project, i + 1, a.run)
        with lock:
            done_at[name] = time.time()

    t0 = time.time()
    errors, calls = run_workers(a.parallel, {"engine": lambda: Engine(a.socket, a.api), "do": do}, next_item)
    t1 = time.time()
    out = {"containers": len(plan), "completed": len(done_at), "parallel": a.parallel,
           "t_start": t0, "t_end": t1, "seconds": t1 - t0, "api_calls": calls,
           "errors": errors[:20], "error_count": len(errors),
           "kinds": {k: sum(1 for p in plan if p[1] == k) for k in LIFECYCLES},
           "expected": {p[0]: expected(p[1], p[2]) for p in plan}}
    json.dump(out, sys.stdout)
    print()
    return 0 if not errors else 1


def cmd_churn(a):
    """A pool of --pool names, each worker re-creating its own names in turn until --seconds."""
    names = ["%s%03d" % (a.prefix, i) for i in range(a.pool)]
    own = [names[w::a.parallel] for w in range(a.parallel)]
    deadline = time.time() + a.seconds
    counters = [0] * a.parallel
    kinds = {k: 0 for k in LIFECYCLES}
    lock = threading.Lock()

    def next_item(w):
        if time.time() >= deadline:
            return None
        n = counters[w]
        counters[w] += 1
        mine = own[w]
        i = n * a.parallel + w
        if a.pause > 0:
            time.sleep(a.pause)
        kind = LIFECYCLES[i % len(LIFECYCLES)]
        return (mine[n % len(mine)], kind, exit_code(kind, i // len(LIFECYCLES)), n % len(mine) + 1)

    def do(eng, item):
        name, kind, code, number = item
        lifecycle(eng, name, kind, code, a.project, number, a.run)
        with lock:
            kinds[kind] += 1

    t0 = time.time()
    errors, calls = run_workers(a.parallel, {"engine": lambda: Engine(a.socket, a.api), "do": do}, next_item)
    t1 = time.time()
    json.dump({"lifecycles": sum(kinds.values()), "kinds": kinds, "pool": a.pool, "parallel": a.parallel,
               "t_start": t0, "t_end": t1, "seconds": t1 - t0, "api_calls": calls,
               "errors": errors[:20], "error_count": len(errors)}, sys.stdout)
    print()
    return 0


def cmd_cleanup(a):
    eng = Engine(a.socket, a.api)
    flt = urllib.parse.quote(json.dumps({"label": ["cwchurn.run=%s" % a.run]}))
    removed = 0
    for c in eng.call("GET", "/containers/json?all=1&filters=" + flt) or []:
        try:
            eng.call("DELETE", "/containers/%s?force=1" % c["Id"], ok=(204, 404))
            removed += 1
        except EngineError:
            pass
    eng.close()
    print(json.dumps({"removed": removed}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--socket", default="/var/run/docker.sock")
    p.add_argument("--api", default="1.41")
    p.add_argument("--run", required=True, help="value of the cwchurn.run label")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("storm")
    s.add_argument("--prefix", required=True)
    s.add_argument("--project", required=True)
    s.add_argument("--containers", type=int, default=200)
    s.add_argument("--parallel", type=int, default=8)
    s = sub.add_parser("churn")
    s.add_argument("--prefix", required=True)
    s.add_argument("--project", required=True)
    s.add_argument("--pool", type=int, default=20)
    s.add_argument("--parallel", type=int, default=2)
    s.add_argument("--seconds", type=float, default=1800)
    s.add_argument("--pause", type=float, default=0.0, help="sleep before each lifecycle (seconds)")
    sub.add_parser("cleanup")
    a = p.parse_args()
    return {"storm": cmd_storm, "churn": cmd_churn, "cleanup": cmd_cleanup}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
