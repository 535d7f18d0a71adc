#!/usr/bin/env python3
"""Choose the best of N candidate patches with `bestpatch serve`, over NATS.

Standard library only: the NATS client is the small one below, which speaks
the NATS text protocol over a socket (https://docs.nats.io/reference/reference-protocols/nats-protocol):
CONNECT, SUB, PUB and HPUB out; MSG, HMSG, PING and errors in. It has no
TLS and no reconnection; a scaffold that can add a dependency may use the
official client (nats-py) instead, with the same subjects and messages.

The script subscribes to the job's events and verdict subjects, submits the
job on bestpatch.v1.submit, prints the events as they come, then the
verdict. The daemon is `bestpatch serve` (docs/DAEMON.md):

    python3 docs/examples/nats_select.py --job job.json
    python3 docs/examples/nats_select.py --server nats://127.0.0.1:4222 --token "$BESTPATCH_NATS_TOKEN" --job job.json

The exit status is that of `bestpatch select`: 0 when a candidate was
chosen, 2 when none could be, 3 when the job abstained for want of evidence,
4 when the verdict asks for more samples, 1 on any error.
"""

import argparse
import collections
import json
import os
import secrets
import socket
import sys
import urllib.parse


class NATSError(Exception):
    pass


class NATS:
    """A minimal NATS client: one connection, subscriptions, requests."""

    def __init__(self, url, token=None, user=None, password=None, timeout=10):
        u = urllib.parse.urlparse(url)
        if u.scheme not in ("nats", ""):
            raise NATSError(f"{url}: only nats:// URLs (no TLS in this client)")
        if u.username and not u.password and not token:
            token = urllib.parse.unquote(u.username)  # nats://TOKEN@host
        elif u.username and not user:
            user, password = urllib.parse.unquote(u.username), urllib.parse.unquote(u.password or "")
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 4222), timeout=timeout)
        # The server pings every 2 minutes: a read that waits longer than
        # this has lost the server.
        self.sock.settimeout(300)
        self.rfile = self.sock.makefile("rb")
        self.sid = 0
        self.pending = collections.deque()  # messages read while waiting for another
        line = self._line()
        if not line.startswith("INFO "):
            raise NATSError(f"{url}: not a NATS server (it said {line!r})")
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "protocol": 1, "lang": "python", "version": "0.1", "name": "bestpatch example"}
        if token:
            connect["auth_token"] = token
        if user:
            connect["user"], connect["pass"] = user, password or ""
        self._send(f"CONNECT {json.dumps(connect)}\r\n")
        self.flush()

    def _send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _line(self):
        line = self.rfile.readline()
        if not line:
            raise NATSError("the server closed the connection")
        return line.decode().rstrip("\r\n")

    def flush(self):
        """Waits until the server has processed everything sent so far."""
        self._send("PING\r\n")
        while True:
            msg = self._read()
            if msg == "PONG":
                return
            self.pending.append(msg)

    def _read(self):
        """Reads the next message (subject, sid, headers, payload), or "PONG"."""
        while True:
            line = self._line()
            op = line.split(" ", 1)[0]
            if op == "PING":
                self._send("PONG\r\n")
            elif op == "PONG":
                return "PONG"
            elif op in ("+OK", "INFO"):
                continue
            elif op == "-ERR":
                raise NATSError(line[5:].strip("' "))
            elif op == "MSG":  # MSG <subject> <sid> [reply-to] <#bytes>
                parts = line.split(" ")
                size = int(parts[-1])
                payload = self.rfile.read(size + 2)[:size]
                return parts[1], int(parts[2]), {}, payload
            elif op == "HMSG":  # HMSG <subject> <sid> [reply-to] <#header bytes> <#total bytes>
                parts = line.split(" ")
                hsize, total = int(parts[-2]), int(parts[-1])
                data = self.rfile.read(total + 2)[:total]
                return parts[1], int(parts[2]), parse_headers(data[:hsize]), data[hsize:]
            else:
                raise NATSError(f"unexpected from the server: {line!r}")

    def next_msg(self):
        """The next message on any subscription."""
        while self.pending:
            msg = self.pending.popleft()
            if msg != "PONG":
                return msg
        while True:
            msg = self._read()
            if msg != "PONG":
                return msg

    def subscribe(self, subject):
        self.sid += 1
        self._send(f"SUB {subject} {self.sid}\r\n")
        return self.sid

    def request(self, subject, payload, headers=None):
        """Sends a request and returns the reply (headers, payload)."""
        inbox = "_INBOX." + secrets.token_hex(11)
        sid = self.subscribe(inbox)
        if headers:
            head = "NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            self._send(f"HPUB {subject} {inbox} {len(head)} {len(head) + len(payload)}\r\n".encode() + head.encode() + payload + b"\r\n")
        else:
            self._send(f"PUB {subject} {inbox} {len(payload)}\r\n".encode() + payload + b"\r\n")
        while True:
            msg = self._read()
            if msg != "PONG" and msg[1] == sid:
                self._send(f"UNSUB {sid}\r\n")
                _, _, hdrs, data = msg
                if hdrs.get(":status") == "503":
                    raise NATSError(f"no bestpatch daemon answers on {subject}: start one with `bestpatch serve`")
                if "Nats-Service-Error-Code" in hdrs:
                    reply = json.loads(data) if data else {}
                    raise NATSError(f"{hdrs['Nats-Service-Error-Code']}: {reply.get('error') or hdrs.get('Nats-Service-Error')}")
                return hdrs, data
            if msg != "PONG":
                self.pending.append(msg)

    def close(self):
        self.sock.close()


def parse_headers(block):
    """Headers of an HMSG: "NATS/1.0 [status]" then "Key: Value" lines."""
    lines = block.decode().split("\r\n")
    headers = {}
    status = lines[0].split(" ", 2)
    if len(status) > 1:
        headers[":status"] = status[1]
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip()] = v.strip()
    return headers


def print_event(e):
    kind = e["kind"]
    if kind == "accepted":
        print(f"accepted: {e.get('candidates', 0)} candidates, {e.get('distinct', 0)} distinct")
    elif kind == "run_started":
        print(f"  run {e['run']} started")
    elif kind == "run_finished":
        cached = " (cached)" if e.get("cached") else ""
        print(f"  run {e['run']} {e['status']} in {e.get('duration_seconds', 0):.1f}s{cached}")
    else:
        print(f"{kind}: {e.get('chosen') or e.get('message', '')}")
    sys.stdout.flush()


def report(outcome):
    """Prints the outcome and returns the exit status."""
    rep = outcome.get("report")
    if rep is None and outcome.get("report_object"):
        print(f"the report is too big for one message: it is object {outcome['report_object']} in object store bestpatch-payloads "
              "(`nats object get`), or ask the HTTP gateway (GET /v1/jobs/ID)")
    if rep is not None:
        v = rep["verdict"]
        print(f"chosen: {v.get('chosen') or '(none)'}")
        print(f"why: {v['why']}")
        if "confidence" in v:
            print(f"confidence: {v['confidence']:.2f}")
        print(f"{len(rep['runs'])} runs in {rep['duration_seconds']:.1f}s")
    if outcome["state"] != "done":
        print(f"job {outcome['job']} {outcome['state']}: {outcome.get('error', '')}", file=sys.stderr)
        return 3 if outcome.get("error", "").startswith("abstained:") else 1
    if rep is None:
        return 0
    if rep["verdict"].get("sample_more"):
        return 4
    return 0 if rep["verdict"].get("chosen") else 2


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"), help="the NATS server (default $NATS_URL or nats://127.0.0.1:4222)")
    p.add_argument("--token", default=os.environ.get("BESTPATCH_NATS_TOKEN"), help="the daemon's token (default $BESTPATCH_NATS_TOKEN)")
    p.add_argument("--user", help="the NATS user, with --password")
    p.add_argument("--password", default=os.environ.get("BESTPATCH_NATS_PASSWORD"))
    p.add_argument("--job", required=True, help="a job file: task, candidates, options (docs/DAEMON.md, Job)")
    args = p.parse_args()
    with open(args.job) as f:
        job = json.load(f)
    # The job's ID names its subjects: choose it, so that the subscriptions
    # are in place before the first event.
    job.setdefault("id", "py-" + secrets.token_hex(8))
    try:
        nc = NATS(args.server, token=args.token, user=args.user, password=args.password)
    except (OSError, NATSError) as e:
        print(f"bestpatch: cannot connect to {args.server}: {e}", file=sys.stderr)
        return 1
    try:
        events = nc.subscribe(f"bestpatch.v1.events.{job['id']}")
        verdicts = nc.subscribe(f"bestpatch.v1.verdict.{job['id']}")
        nc.flush()
        _, data = nc.request("bestpatch.v1.submit", json.dumps(job).encode())
        submitted = json.loads(data)
        print(f"job {submitted['job']}: {submitted['state']}", flush=True)
        if submitted["state"] in ("done", "failed", "cancelled"):
            # Submitted before and over: its outcome is in its status.
            _, data = nc.request("bestpatch.v1.status", json.dumps({"job": job["id"]}).encode())
            return report(json.loads(data)["outcome"])
        while True:
            _, sid, _, data = nc.next_msg()
            if sid == events:
                print_event(json.loads(data))
            elif sid == verdicts:
                return report(json.loads(data))
    except (OSError, NATSError) as e:
        print(f"bestpatch: {e}", file=sys.stderr)
        return 1
    finally:
        nc.close()


if __name__ == "__main__":
    sys.exit(main())
