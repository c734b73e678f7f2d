#!/usr/bin/env python3
"""A byte-for-byte relay between the agent and the real engine's unix socket, logging
each connection: for counting the agent's GET /system/df calls on the real engine and
timing them as the agent saw them (the agent exports neither).

The agent opens one connection per request (the event stream is one long connection),
so each connection is logged as one line of JSON when it closes: the first request line,
the answer's status, when the request was sent, when the first and the last answer byte
came back, and the bytes each way. The relay changes nothing in what either side sends.

  engine_relay.py --listen /tmp/x/relay.sock --log /tmp/x/relay.jsonl \
                  [--upstream /var/run/docker.sock]

Python standard library only; two threads per connection.
"""

import argparse
import json
import os
import re
import signal
import socket
import sys
import threading
import time

REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]\r\n")
STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3})")


class Connection:
    def __init__(self, relay, client, number):
        self.relay = relay
        self.client = client
        self.number = number
        self.upstream = None
        self.rec = {"conn": number, "accepted": time.time(), "request": None, "requests": 0,
                    "t_request": None, "status": None, "t_first_byte": None, "t_last_byte": None,
                    "bytes_up": 0, "bytes_down": 0}
        self.lock = threading.Lock()
        self.open_halves = 2

    def start(self):
        try:
            self.upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.upstream.connect(self.relay.upstream_path)
        except OSError as e:
            self.rec["error"] = "upstream: %s" % e
            self.client.close()
            self.relay.write(self.rec)
            return
        threading.Thread(target=self.pump_up, daemon=True).start()
        threading.Thread(target=self.pump_down, daemon=True).start()

    def pump_up(self):
        """Agent to engine: notes each request line (requests without a body, as the agent
        sends them; a body that happens to start like a request line would be miscounted)."""
        head = b""
        try:
            while True:
                data = self.client.recv(65536)
                if not data:
                    break
                now = time.time()
                self.rec["bytes_up"] += len(data)
                if self.rec["t_request"] is None:
                    self.rec["t_request"] = now
                head += data
                while b"\r\n\r\n" in head:
                    block, head = head.split(b"\r\n\r\n", 1)
                    m = REQUEST_LINE.match(block + b"\r\n")
                    if m:
                        self.rec["requests"] += 1
                        if self.rec["request"] is None:
                            self.rec["request"] = "%s %s" % (m.group(1).decode(), m.group(2).decode("latin-1"))
                head = head[-65536:]
                self.upstream.sendall(data)
        except OSError:
            pass
        self.half_closed(self.upstream)

    def pump_down(self):
        try:
            while True:
                data = self.upstream.recv(262144)
                if not data:
                    break
                now = time.time()
                if self.rec["t_first_byte"] is None:
                    self.rec["t_first_byte"] = now
                    m = STATUS_LINE.match(data)
                    if m:
                        self.rec["status"] = int(m.group(1))
                self.rec["t_last_byte"] = now
                self.rec["bytes_down"] += len(data)
                self.client.sendall(data)
        except OSError:
            pass
        self.half_closed(self.client)

    def half_closed(self, peer):
        try:
            peer.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self.lock:
            self.open_halves -= 1
            done = self.open_halves == 0
        if done:
            self.rec["closed"] = time.time()
            for s in (self.client, self.upstream):
                try:
                    s.close()
                except OSError:
                    pass
            self.relay.write(self.rec)


class Relay:
    def __init__(self, args):
        self.upstream_path = args.upstream
        self.log = open(args.log, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, rec):
        with self.lock:
            self.log.write(json.dumps(rec) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True, help="unix socket to listen on")
    p.add_argument("--upstream", default="/var/run/docker.sock")
    p.add_argument("--log", required=True, help="one JSON line per finished connection")
    a = p.parse_args()
    if os.path.exists(a.listen):
        os.unlink(a.listen)
    relay = Relay(a)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.listen)
    os.chmod(a.listen, 0o660)
    srv.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("relay %s -> %s" % (a.listen, a.upstream), file=sys.stderr, flush=True)
    n = 0
    try:
        while True:
            client, _ = srv.accept()
            n += 1
            Connection(relay, client, n).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.close()
        os.unlink(a.listen)


if __name__ == "__main__":
    main()
