#!/usr/bin/env python3
"""A fake Docker engine on a unix socket, for measuring composewatch's own costs.

A fake engine is used where a real one cannot serve the measurement:
- event throughput (bench/run.sh): a real dockerd cannot emit lifecycle events at this
  rate on demand (a real `docker pause` / `unpause` costs milliseconds of runc and cgroup
  work per event, so the real engine tops out at a few hundred events/s here);
- the disk collector (bench/disk/run.sh): a generated GET /system/df of any size, answered
  at once, so that the agent's own cost per collection is not hidden behind the engine's
  (a real df walks every layer and volume).
Everything else runs against the real engine.

It speaks just enough of Engine API 1.41 for the agent to start up:
  GET /_ping                       -> "OK", header Api-Version: 1.41
  GET /version, /v1.41/version     -> Engine 20.10-like version document
  GET /v1.41/info                  -> minimal info document
  GET /v1.41/containers/json       -> [] (or the --containers C containers)
  GET /v1.41/containers/{id}/json  -> 404 {"message":"No such container: …"} (or the
                                      inspect of one of the C containers)
  GET /v1.41/events                -> chunked stream of K synthetic container events
                                      (first request only), then kept open and idle
  GET /v1.41/system/df, images, volumes, networks -> empty documents, unless
                                      --df-volumes N / --df-images M / --containers C
  anything else                    -> 404, and logged

With --df-volumes N, --df-images M and --containers C it serves a host of the shape
make_disk_host() describes: /system/df, /volumes, /images/json, /containers/json and the
inspects all tell the same story, and --compose-file writes the compose file that the
containers' labels point to. The documents are generated once, at start-up.

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


# --------------------------------------------------------------------------- disk host

BASE_IMAGE_SIZE = 1985581  # composewatch-test/busybox:1, the layer every image shares


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int((t % 1) * 1e9)


def make_disk_host(n_volumes, m_images, c_containers, project, compose_file, now):
    """A generated host, consistent across the endpoints that show it.

    Images i < M: cwfake/app-<i>:1 (every 10th also :latest, every 20th untagged, every
    3rd with a digest), the shared base layer plus 4-32 KiB of its own.
    Volumes k < N, by k % 4: 0 a Compose volume the compose file declares
    (<project>_data<k>), 1 a Compose volume it no longer declares (<project>_old<k>, an
    orphan), 2 an anonymous volume (64-hex name, no labels), 3 a named volume without
    Compose labels. k % 3 == 0 is empty (0 bytes), the others hold 4-32 KiB.
    Containers j < C: Compose service svc<j> of `project`, image j % M, running since two
    hours (every 5th exited), mounting volumes 2j and 2j+1 when they exist; so the
    mounted empty Compose volumes are dead-volume findings and the old<k> volumes
    orphan-volume findings. The compose file declares svc0..svc<C+4> (the last five have
    no container: their image size comes from the image reference) and the data<k>
    volumes.

    Returns a dict of JSON-ready documents: df, volumes, images, containers, inspect (by
    id), and the compose file's text."""
    images_df, images_list = [], []
    layers = BASE_IMAGE_SIZE
    image_ids = []
    for i in range(m_images):
        iid = "sha256:" + hexid(i, "image")
        image_ids.append(iid)
        own = 4096 * (1 + i % 8)
        layers += own
        tags = ["cwfake/app-%d:1" % i] + (["cwfake/app-%d:latest" % i] if i % 10 == 0 else [])
        digests = ["cwfake/app-%d@sha256:%s" % (i, hexid(i, "digest"))] if i % 3 == 0 else []
        if i % 20 == 19:
            tags, digests = ["<none>:<none>"], ["<none>@<none>"]
        doc = {"Containers": 0, "Created": int(now) - 3600 * i, "Id": iid,
               "Labels": {"cwfake.image": str(i), "org.opencontainers.image.title": "app %d" % i},
               "ParentId": "", "RepoDigests": digests, "RepoTags": tags,
               "SharedSize": BASE_IMAGE_SIZE, "Size": BASE_IMAGE_SIZE + own,
               "VirtualSize": BASE_IMAGE_SIZE + own}
        images_df.append(doc)

    def image_ref(i):
        return "cwfake/app-%d:1" % i

    volumes = []
    for k in range(n_volumes):
        kind = k % 4
        labels = None
        if kind == 0:
            name = "%s_data%d" % (project, k)
            labels = {"com.docker.compose.project": project, "com.docker.compose.version": "2.20.2",
                      "com.docker.compose.volume": "data%d" % k}
        elif kind == 1:
            name = "%s_old%d" % (project, k)
            labels = {"com.docker.compose.project": project, "com.docker.compose.version": "2.20.2",
                      "com.docker.compose.volume": "old%d" % k}
        elif kind == 2:
            name = hexid(k, "volume")
        else:
            name = "cwfake-cache-%d" % k
            labels = {"cwfake.volume": "cache"}
        volumes.append({"CreatedAt": rfc3339(now - 86400 - 60 * k).split(".")[0] + "Z",
                        "Driver": "local", "Labels": labels,
                        "Mountpoint": "/var/lib/docker/volumes/%s/_data" % name, "Name": name,
                        "Options": None, "Scope": "local",
                        "UsageData": {"RefCount": 0, "Size": 0 if k % 3 == 0 else 1024 * (4 + k % 29)}})

    workdir = os.path.dirname(compose_file) if compose_file else "/srv/" + project
    files = compose_file or workdir + "/docker-compose.yml"
    containers_df, containers_list, inspect = [], [], {}
    for j in range(c_containers):
        cid = hexid(j, "disk-container")
        running = j % 5 != 4
        name = "%s-svc%d-1" % (project, j)
        i = j % m_images if m_images else j
        iid = image_ids[i] if m_images else "sha256:" + hexid(i, "image")
        labels = {"com.docker.compose.config-hash": hexid(j, "hash"),
                  "com.docker.compose.container-number": "1", "com.docker.compose.oneoff": "False",
                  "com.docker.compose.project": project,
                  "com.docker.compose.project.config_files": files,
                  "com.docker.compose.project.working_dir": workdir,
                  "com.docker.compose.service": "svc%d" % j, "com.docker.compose.version": "2.20.2"}
        mounts = []
        for slot, k in (("a", 2 * j), ("b", 2 * j + 1)):
            if k < n_volumes:
                v = volumes[k]
                v["UsageData"]["RefCount"] += 1
                mounts.append({"Type": "volume", "Name": v["Name"], "Source": v["Mountpoint"],
                               "Destination": "/data/" + slot, "Driver": "local", "Mode": "z",
                               "RW": True, "Propagation": ""})
        if m_images:
            images_df[i]["Containers"] += 1
        started = now - 7200
        networks = {"none": {"IPAMConfig": None, "Links": None, "Aliases": None,
                             "NetworkID": hexid(0, "network-none"),
                             "EndpointID": hexid(j, "endpoint") if running else "", "Gateway": "",
                             "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                             "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "",
                             "DriverOpts": None}}
        listing = {"Id": cid, "Names": ["/" + name], "Image": image_ref(i), "ImageID": iid,
                   "Command": "sleep 36000", "Created": int(started) - 5, "Ports": [],
                   "Labels": labels, "State": "running" if running else "exited",
                   "Status": "Up 2 hours" if running else "Exited (0) 1 hour ago",
                   "HostConfig": {"NetworkMode": "none"},
                   "NetworkSettings": {"Networks": networks}, "Mounts": mounts}
        containers_list.append(listing)
        in_df = dict(listing)
        if j % 2:
            in_df["SizeRw"] = 4096 * j  # the engine leaves out a SizeRw of 0
        in_df["SizeRootFs"] = BASE_IMAGE_SIZE + 4096 * j
        containers_df.append(in_df)
        inspect[cid] = {
            "Id": cid, "Created": rfc3339(started - 5), "Path": "sleep", "Args": ["36000"],
            "State": {"Status": "running" if running else "exited", "Running": running,
                      "Paused": False, "Restarting": False, "OOMKilled": False, "Dead": False,
                      # No process: the agent's cgroup reader skips it, as for a vanished one.
                      "Pid": 0, "ExitCode": 0, "Error": "", "StartedAt": rfc3339(started),
                      "FinishedAt": "0001-01-01T00:00:00Z" if running else rfc3339(now - 3600)},
            "Image": iid, "Name": "/" + name, "RestartCount": 0, "Driver": "overlay2",
            "Platform": "linux", "Mounts": mounts,
            "HostConfig": {"NetworkMode": "none", "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
                           "Memory": 0, "MemoryReservation": 0, "CgroupParent": ""},
            "Config": {"Hostname": cid[:12], "Image": image_ref(i), "Labels": labels, "Tty": False,
                       "Cmd": ["sleep", "36000"]},
            "NetworkSettings": {"Networks": networks},
        }

    lines = ["# Generated by bench/fake_engine.py for the disk benchmark.", "services:"]
    declared = [k for k in range(n_volumes) if k % 4 == 0]
    for j in range(c_containers + 5):
        i = j % m_images if m_images else j
        lines += ["  svc%d:" % j, "    image: %s" % image_ref(i), "    command: sleep 36000",
                  "    network_mode: none"]
        mine = [k for k in (2 * j, 2 * j + 1) if k in declared and j < c_containers]
        if mine:
            lines.append("    volumes:")
            lines += ["      - data%d:/data/%s" % (k, "a" if k == 2 * j else "b") for k in mine]
    if declared:
        lines.append("volumes:")
        lines += ["  data%d: {}" % k for k in declared]
    compose_text = "\n".join(lines) + "\n"

    for d in images_df:
        images_list.append(dict(d, Containers=-1, SharedSize=-1))
    return {
        "df": {"LayersSize": layers if m_images else 0, "Images": images_df, "Containers": containers_df,
               "Volumes": volumes, "BuildCache": [], "BuilderSize": 0},
        "volumes": {"Volumes": [{k: v for k, v in vol.items() if k != "UsageData"} for vol in volumes],
                    "Warnings": None},
        "images": images_list,
        "containers": containers_list,
        "inspect": inspect,
        "compose": compose_text,
    }


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.events_requests = 0
        self.log = open(args.request_log, "a", buffering=1) if args.request_log else None
        self.status = {"events": args.events, "state": "waiting"}
        self.host = None
        self.bodies = {}
        if args.df_volumes or args.df_images or args.containers:
            self.host = make_disk_host(args.df_volumes, args.df_images, args.containers, args.project,
                                       args.compose_file, time.time())
            if args.compose_file:
                os.makedirs(os.path.dirname(os.path.abspath(args.compose_file)), exist_ok=True)
                with open(args.compose_file, "w") as f:
                    f.write(self.host["compose"])
            # Encoded once: answering a df costs this process a write, not a json.dumps.
            df = self.host["df"]
            if args.df_volumes == 0 and args.df_images == 0:
                df = EMPTY_DF
            self.bodies = {"/system/df": json_body(df), "/volumes": json_body(self.host["volumes"]),
                           "/images/json": json_body(self.host["images"]),
                           "/containers/json": json_body(self.host["containers"])}
            self.status["df_bytes"] = len(self.bodies["/system/df"])
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


EMPTY_DF = {"LayersSize": 0, "Images": [], "Containers": [], "Volumes": [], "BuildCache": []}


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
        if bare in st.bodies:
            return self.send_doc(200, st.bodies[bare])
        if bare == "/info":
            n_containers = len(st.host["containers"]) if st.host else 0
            return self.send_doc(200, {
                "ID": "FAKE", "Containers": n_containers, "ContainersRunning": n_containers,
                "ContainersPaused": 0, "ContainersStopped": 0,
                "Images": len(st.host["images"]) if st.host else 0, "Driver": "overlay2",
                "DockerRootDir": st.args.root_dir, "CgroupDriver": "cgroupfs",
                "CgroupVersion": "1", "ServerVersion": "20.10.24+fake", "Name": "fake",
                "OperatingSystem": "fake", "NCPU": os.cpu_count(), "MemTotal": 0,
                "KernelVersion": os.uname().release,
            })
        if bare == "/containers/json":
            return self.send_doc(200, [])
        if bare.startswith("/containers/") and bare.endswith("/json"):
            cid = bare[len("/containers/"):-len("/json")]
            if st.host:
                doc = st.host["inspect"].get(cid) or next(
                    (d for d in st.host["inspect"].values() if d["Name"] == "/" + cid
                     or d["Id"].startswith(cid)), None)
                if doc:
                    return self.send_doc(200, doc)
            return self.send_doc(404, {"message": "No such container: " + cid})
        if bare == "/images/json":
            return self.send_doc(200, [])
        if bare == "/volumes":
            return self.send_doc(200, {"Volumes": [], "Warnings": None})
        if bare == "/networks":
            return self.send_doc(200, [])
        if bare == "/system/df":
            return self.send_doc(200, EMPTY_DF)
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
    p.add_argument("--df-volumes", type=int, default=0, help="volumes on the generated host (N)")
    p.add_argument("--df-images", type=int, default=0, help="images on the generated host (M)")
    p.add_argument("--containers", type=int, default=0,
                   help="Compose containers on the generated host (C), listed and inspected")
    p.add_argument("--compose-file", help="write the generated host's compose file here")
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
