#!/usr/bin/env python3
"""A fake Docker engine on a unix socket, for measuring composewatch's event throughput.

A fake engine is used ONLY because a real dockerd cannot emit lifecycle events at this
rate on demand (a real `docker pause` / `unpause` costs milliseconds of runc and cgroup
work per event, so the real engine tops out at a few hundred events/s here). Everything
else in the benchmark runs against the real engine.

It speaks just enough of Engine API 1.41 for the agent to start up:
  GET /_ping                       -> "OK", header Api-Version: 1.41
  GET /version, /v1.41/version     -> Engine 20.10-like version document
  GET /v1.41/info                  -> minimal info document
  GET /v1.41/containers/json       -> []
  GET /v1.41/containers/{id}/json  -> 404 {"message":"No such container: …"}
  GET /v1.41/events                -> chunked stream of K synthetic container events
                                      (first request only), then kept open and idle
  GET /v1.41/system/df, images, volumes, networks -> empty documents
  anything else                    -> 404, and logged

The events are newline-delimited JSON shaped like the engine's: one event per chunk,
as dockerd flushes them; distinct timeNano values; a lifecycle mix of create, start,
health_status: healthy, exec_create/exec_start: sh -c x, die (exitCode), destroy, over a
fixed pool of compose-labelled container names (new container IDs per lifecycle, like
`docker compose up` recreating containers), so the agent's series count stays bounded.

Every request is appended to the request log (one line: method, path, query), and a JSON
status file records when the first and last event bytes were written.
"""

import argparse
import hashlib
import json
import os
import select
import signal
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

API = "1.41"

LIFECYCLE = [
    "create",
    "start",
    "health_status: healthy",
    "exec_create: sh -c x",
    "exec_start: sh -c x",
    "die",
    "destroy",
]


def hexid(n, salt):
    # Deterministic 64-hex IDs, distinct per lifecycle, shaped like the engine's.
    return hashlib.sha256(b"%s/%d" % (salt.encode(), n)).hexdigest()


def make_events(k, names, base_ns, project):
    """Returns (list of encoded chunks, {action label: count})."""
    chunks = []
    counts = {}
    image = "composewatch-test/busybox:1"
    lifecycle_no = 0
    i = 0
    while i < k:
        cid = hexid(lifecycle_no, "container")
        name_no = lifecycle_no % len(names)
        name = names[name_no]
        service = "svc%d" % name_no
        exec_id = hexid(lifecycle_no, "exec")
        for action in LIFECYCLE:
            if i >= k:
                break
            t_ns = base_ns + i * 1000  # distinct timeNano, 1 us apart
            attrs = {
                "com.docker.compose.config-hash": "0" * 64,
                "com.docker.compose.container-number": "1",
                "com.docker.compose.oneoff": "False",
                "com.docker.compose.project": project,
                "com.docker.compose.project.config_files": "docker-compose.yml",
                "com.docker.compose.project.working_dir": "/srv/" + project,
                "com.docker.compose.service": service,
                "com.docker.compose.version": "1.29.2",
                "image": image,
                "name": name,
            }
            if action == "die":
                attrs["exitCode"] = str((lifecycle_no % 3) * 137 % 256)  # 0, 137, 18
            if action.startswith("exec_"):
                attrs["execID"] = exec_id
            ev = {
                "status": action,
                "id": cid,
                "from": image,
                "Type": "container",
                "Action": action,
                "Actor": {"ID": cid, "Attributes": attrs},
                "scope": "local",
                "time": t_ns // 1_000_000_000,
                "timeNano": t_ns,
            }
            line = (json.dumps(ev, separators=(",", ":")) + "\n").encode()
            chunks.append(b"%x\r\n%s\r\n" % (len(line), line))
            label = action.split(":", 1)[0]
            counts[label] = counts.get(label, 0) + 1
            i += 1
        lifecycle_no += 1
    return chunks, counts


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.events_requests = 0
        self.log = open(args.request_log, "a", buffering=1) if args.request_log else None
        self.status = {"events": args.events, "state": "waiting"}
        self.write_status()

    def log_request(self, method, path):
        if self.log:
            with self.lock:
                self.log.write("%.6f %s %s\n" % (time.time(), method, path))

    def write_status(self):
        if not self.args.status_file:
            return
        tmp = self.args.status_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.status, f)
        os.replace(tmp, self.args.status_file)


def json_body(obj):
    return json.dumps(obj).encode()


VERSION_DOC = {
    "Platform": {"Name": "fake engine (composewatch bench)"},
    "Version": "20.10.24+fake",
    "ApiVersion": API,
    "MinAPIVersion": "1.12",
    "GitCommit": "0000000",
    "GoVersion": "go1.19.8",
    "Os": "linux",
    "Arch": "amd64",
    "KernelVersion": os.uname().release,
    "Components": [{"Name": "Engine", "Version": "20.10.24+fake", "Details": {"ApiVersion": API}}],
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Docker/20.10.24+fake (linux)"
    sys_version = ""

    def log_message(self, fmt, *a):  # quiet; the request log is ours
        pass

    def address_string(self):
        return "unix"

    def send_doc(self, code, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json_body(body)
        self.send_response(code)
        self.send_header("Api-Version", API)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        st.log_request(self.command, self.path)
        self.send_doc(404, {"message": "fake engine: not implemented"})

    def do_GET(self):
        st = self.server.state
        st.log_request(self.command, self.path)
        path = urlsplit(self.path).path
        # Strip an optional /vX.YY prefix.
        bare = path
        parts = path.split("/", 2)
        if len(parts) > 2 and parts[1].startswith("v1."):
            bare = "/" + parts[2]
        if bare == "/_ping":
            return self.send_doc(200, b"OK", "text/plain; charset=utf-8")
        if bare == "/version":
            return self.send_doc(200, VERSION_DOC)
        if bare == "/info":
            return self.send_doc(200, {
                "ID": "FAKE", "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0,
                "ContainersStopped": 0, "Images": 0, "Driver": "overlay2",
                "DockerRootDir": st.args.root_dir, "CgroupDriver": "cgroupfs",
                "CgroupVersion": "1", "ServerVersion": "20.10.24+fake", "Name": "fake",
                "OperatingSystem": "fake", "NCPU": os.cpu_count(), "MemTotal": 0,
                "KernelVersion": os.uname().release,
            })
        if bare == "/containers/json":
            return self.send_doc(200, [])
        if bare.startswith("/containers/") and bare.endswith("/json"):
            cid = bare[len("/containers/"):-len("/json")]
            return self.send_doc(404, {"message": "No such container: " + cid})
        if bare == "/images/json":
            return self.send_doc(200, [])
        if bare == "/volumes":
            return self.send_doc(200, {"Volumes": [], "Warnings": None})
        if bare == "/networks":
            return self.send_doc(200, [])
        if bare == "/system/df":
            return self.send_doc(200, {"LayersSize": 0, "Images": [], "Containers": [],
                                       "Volumes": [], "BuildCache": []})
        if bare == "/events":
            return self.stream_events()
        return self.send_doc(404, {"message": "fake engine: page not found"})

    def stream_events(self):
        st = self.server.state
        with st.lock:
            st.events_requests += 1
            first = st.events_requests == 1
        self.send_response(200)
        self.send_header("Api-Version", API)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        if first:
            a = st.args
            names = ["%s_svc%d_1" % (a.project, n) for n in range(a.names)]
            t0 = time.time()
            chunks, counts = make_events(a.events, names, time.time_ns(), a.project)
            st.status.update(state="sending", generated_in_s=time.time() - t0, sent_by_action=counts)
            st.write_status()
            sock = self.connection
            # Send in batches of whole chunks (one event per chunk, as dockerd flushes
            # them). The socket is non-blocking so that the time spent waiting for the
            # agent to make room (blocked_s) can be told from the time spent writing: a
            # writer that mostly waits means the agent is the bottleneck, not this script.
            batch = max(1, a.batch)
            first_byte = None
            blocked = 0.0
            cpu0 = time.process_time()
            sock.setblocking(False)
            try:
                for j in range(0, len(chunks), batch):
                    view = memoryview(b"".join(chunks[j:j + batch]))
                    if first_byte is None:
                        first_byte = time.time()
                        st.status["first_byte_time"] = first_byte
                        st.write_status()
                    while view:
                        try:
                            n = sock.send(view)
                            view = view[n:]
                        except BlockingIOError:
                            t = time.perf_counter()
                            select.select([], [sock], [], 5.0)
                            blocked += time.perf_counter() - t
                st.status.update(state="sent", last_byte_time=time.time())
            except OSError as e:
                st.status.update(state="send failed: %s" % e, failed_time=time.time())
            finally:
                sock.setblocking(True)
            # process_time is the whole process: the sender and the inspect answers.
            st.status.update(blocked_s=blocked, cpu_s=time.process_time() - cpu0)
            st.write_status()
            del chunks
        # Keep the stream open and idle, as a quiet engine does (no heartbeats).
        try:
            while True:
                r = self.connection.recv(4096)
                if not r:
                    break
        except OSError:
            pass
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--events", type=int, default=200000, help="events to stream (K)")
    p.add_argument("--names", type=int, default=50, help="container name pool")
    p.add_argument("--project", default="cwfake")
    p.add_argument("--batch", type=int, default=64, help="events per write()")
    p.add_argument("--root-dir", default="/var/lib/docker")
    p.add_argument("--request-log")
    p.add_argument("--status-file")
    a = p.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    srv = Server(a.socket, Handler)
    srv.state = State(a)
    os.chmod(a.socket, 0o660)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("fake engine listening on %s (%d events)" % (a.socket, a.events), file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        os.unlink(a.socket)


if __name__ == "__main__":
    main()
