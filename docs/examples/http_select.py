#!/usr/bin/env python3
"""Choose the best of N candidate patches with `bestpatch serve`, over HTTP.

Standard library only: a synchronous scaffold (SWE-agent, Agentless,
OpenHands evaluation scripts) can copy this file as it is. It submits a job
to the daemon's HTTP gateway, prints the job's progress as it streams in
(server-sent events), then the verdict, and can write the chosen patch as a
SWE-bench predictions line.

Start the daemon with its gateway (docs/DAEMON.md, "HTTP gateway"):

    bestpatch serve --http-listen 127.0.0.1:8080

then, with a task in the daemon's form (docs/DAEMON.md, "Job") and one
SWE-bench predictions file (JSONL) per sample:

    python3 docs/examples/http_select.py --task task.json --preds run_00.jsonl run_01.jsonl --out chosen.jsonl

or with a whole job (task, candidates, options) in one file:

    python3 docs/examples/http_select.py --job job.json

The exit status is that of `bestpatch select`: 0 when a candidate was
chosen, 2 when none could be, 3 when the job abstained for want of evidence,
4 when the verdict asks for more samples, 1 on any error.
"""

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.request


class GatewayError(Exception):
    """An error reply: its code (the HTTP status) and what to do."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def load_job(args):
    """The job to submit: --job as it is, or --task with --preds."""
    if args.job:
        with open(args.job) as f:
            return json.load(f)
    with open(args.task) as f:
        task = json.load(f)
    candidates = []
    for sample, path in enumerate(args.preds):
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                pred = json.loads(line)
                if pred.get("instance_id") != task["instance_id"]:
                    continue
                model = pred.get("model_name_or_path", "")
                candidates.append({"id": f"{sample}/{model}", "patch": pred.get("model_patch") or "",
                                   "model_name_or_path": model, "sample": sample})
    job = {"task": task, "candidates": candidates}
    if args.id:
        job["id"] = args.id
    return job


def open_url(args, method, path, body=None):
    """Sends a request to the gateway; an error reply raises GatewayError."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    if args.token:
        headers["Authorization"] = "Bearer " + args.token
    elif args.user:
        creds = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
        headers["Authorization"] = "Basic " + creds
    req = urllib.request.Request(args.url.rstrip("/") + path, data=body, method=method, headers=headers)
    try:
        # The timeout bounds each read; an event stream sends a comment
        # every 15 s, so a long job never trips it.
        return urllib.request.urlopen(req, timeout=60)
    except urllib.error.HTTPError as e:
        try:
            reply = json.load(e)
        except ValueError:
            reply = {"code": str(e.code), "error": e.reason}
        raise GatewayError(reply.get("code", str(e.code)), reply.get("error", "")) from None


def events(resp):
    """Yields (kind, data) for each server-sent event of a stream."""
    kind, data = None, []
    for raw in resp:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if kind is not None:
                yield kind, json.loads("\n".join(data))
            kind, data = None, []
        elif line.startswith(":"):
            continue  # a comment: the stream's header, or a keep-alive
        elif line.startswith("event:"):
            kind = line[len("event:"):].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:"):].strip())


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


def report(outcome, job, out):
    """Prints the outcome and returns the exit status."""
    rep = outcome.get("report")
    if rep is not None:
        v = rep["verdict"]
        print(f"chosen: {v.get('chosen') or '(none)'}")
        print(f"why: {v['why']}")
        if "confidence" in v:
            print(f"confidence: {v['confidence']:.2f}")
        basis = v["basis"]
        print(f"evidence: {basis['execution']}, {basis['base_cases']} base case(s); decided by {basis.get('decided_by', '-')}")
        for r in v["ranking"][:5]:
            signals = ", ".join(f"{k}={val:g}" for k, val in sorted(r["signals"].items()))
            print(f"  {r['rank']:>2} {r['id']}: {signals}{' (out: ' + r['out'] + ')' if r.get('out') else ''}")
        print(f"{len(rep['runs'])} runs in {rep['duration_seconds']:.1f}s")
    if outcome["state"] != "done":
        print(f"job {outcome['job']} {outcome['state']}: {outcome.get('error', '')}", file=sys.stderr)
        return 3 if outcome.get("error", "").startswith("abstained:") else 1
    v = rep["verdict"]
    if v.get("sample_more"):
        return 4
    if not v.get("chosen"):
        return 2
    if out:
        chosen = next(c for c in job["candidates"] if c["id"] == v["chosen"])
        with open(out, "w") as f:
            json.dump({"instance_id": rep["instance_id"], "model_name_or_path": "bestpatch",
                       "model_patch": chosen["patch"]}, f)
            f.write("\n")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default=os.environ.get("BESTPATCH_URL", "http://127.0.0.1:8080"), help="the gateway (default $BESTPATCH_URL or http://127.0.0.1:8080)")
    p.add_argument("--token", default=os.environ.get("BESTPATCH_NATS_TOKEN"), help="the daemon's token (default $BESTPATCH_NATS_TOKEN)")
    p.add_argument("--user", help="the daemon's user, with --password")
    p.add_argument("--password", default=os.environ.get("BESTPATCH_NATS_PASSWORD"))
    p.add_argument("--job", help="a job file: task, candidates, options")
    p.add_argument("--task", help="a task file in the daemon's form (with --preds)")
    p.add_argument("--preds", nargs="+", default=[], help="SWE-bench predictions files (JSONL), one per sample")
    p.add_argument("--id", help="the job's ID (default: the daemon picks one)")
    p.add_argument("--out", help="write the chosen patch here as a SWE-bench predictions line")
    args = p.parse_args()
    if not args.job and not (args.task and args.preds):
        p.error("give --job, or --task with --preds")
    job = load_job(args)
    try:
        with open_url(args, "POST", "/v1/jobs", job) as resp:
            submitted = json.load(resp)
        print(f"job {submitted['job']}: {submitted['state']}", flush=True)
        outcome = None
        with open_url(args, "GET", f"/v1/jobs/{submitted['job']}/events") as resp:
            for kind, data in events(resp):
                if kind == "outcome":
                    outcome = data
                    break
                if kind == "error":
                    raise GatewayError(data["code"], data["error"])
                print_event(data)
                sys.stdout.flush()
        if outcome is None:
            raise GatewayError("500", "the event stream ended without the outcome: ask GET /v1/jobs/" + submitted["job"])
    except GatewayError as e:
        print(f"bestpatch: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"bestpatch: cannot reach the gateway at {args.url}: {e} (is `bestpatch serve --http-listen` running?)", file=sys.stderr)
        return 1
    return report(outcome, job, args.out)


if __name__ == "__main__":
    sys.exit(main())
