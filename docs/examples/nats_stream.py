#!/usr/bin/env python3
"""Stream candidate patches to `bestpatch serve` as they are sampled, over NATS.

Standard library only (the small NATS client of nats_select.py). The script
opens a job with the task and no candidate (bestpatch.v1.open: the daemon
starts the base runs at once), then, for each sample (one predictions file
per sample, as an agent would write them one after another), appends its
candidate (bestpatch.v1.append.ID), waits for the standing verdict
(bestpatch.v1.standing.ID) and prints it; it stops sampling as soon as the
verdict says stop or abstain, closes the job, and prints the outcome. The
messages are docs/DAEMON.md's (Open jobs):

    python3 examples/nats_stream.py --task task.json --preds run_00.jsonl run_01.jsonl ... \\
        --target-confidence 0.8 --confidence-model confidence.json

The exit status is that of `bestpatch select --stream`: 0 when a candidate
was chosen, 2 when none could be, 3 when the job abstained for want of
evidence, 4 when the stop rule abstained (the budget spent and no choice
good enough), 1 on any error.
"""

import argparse
import json
import os
import secrets
import sys

from nats_select import NATS, NATSError, report


def candidates(preds, instance_id):
    """The task's candidate in each predictions file, in sample order."""
    for sample, path in enumerate(preds):
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                p = json.loads(line)
                if p.get("instance_id") == instance_id:
                    model = p.get("model_name_or_path") or os.path.splitext(os.path.basename(path))[0]
                    yield {"id": f"{sample}/{model}", "patch": p.get("model_patch") or "",
                           "model_name_or_path": model, "sample": sample}


def wait_standing(nc, standing_sid, samples):
    """The first standing verdict on at least `samples` candidates."""
    while True:
        _, sid, _, data = nc.next_msg()
        if sid != standing_sid:
            continue
        s = json.loads(data)
        if s["samples"] >= samples:
            return s


def print_standing(s):
    conf = f"confidence {s['confidence']:.2f}" if "confidence" in s else "no calibrated confidence"
    print(f"after {s['samples']}: {s['recommendation']} (choice {s.get('choice') or 'none'}, {conf}): {s['why']}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"), help="the NATS server (default $NATS_URL or nats://127.0.0.1:4222)")
    p.add_argument("--token", default=os.environ.get("BESTPATCH_NATS_TOKEN"), help="the daemon's token (default $BESTPATCH_NATS_TOKEN)")
    p.add_argument("--user", help="the NATS user, with --password")
    p.add_argument("--password", default=os.environ.get("BESTPATCH_NATS_PASSWORD"))
    p.add_argument("--task", required=True, help="a task in the daemon's form (docs/DAEMON.md, Task)")
    p.add_argument("--preds", nargs="+", required=True, help="predictions files, one per sample, in the order they are sampled")
    p.add_argument("--target-confidence", type=float, default=0, help="the stop rule's target (default the daemon's, 0.5)")
    p.add_argument("--confidence-model", help="confidence models (JSON, from bestpatch eval or batch --fit-confidence) for the job")
    args = p.parse_args()
    with open(args.task) as f:
        task = json.load(f)
    cands = list(candidates(args.preds, task["instance_id"]))
    job_id = "py-stream-" + secrets.token_hex(6)
    opening = {"id": job_id, "task": task, "stream": {"max_samples": len(cands)}}
    if args.target_confidence:
        opening["stream"]["target_confidence"] = args.target_confidence
    if args.confidence_model:
        with open(args.confidence_model) as f:
            models = json.load(f)
        opening["options"] = {"confidence_models": models if isinstance(models, list) else [models]}
    try:
        nc = NATS(args.server, token=args.token, user=args.user, password=args.password)
    except (OSError, NATSError) as e:
        print(f"bestpatch: cannot connect to {args.server}: {e}", file=sys.stderr)
        return 1
    try:
        # Subscribed before the job exists: no verdict is missed.
        standing = nc.subscribe(f"bestpatch.v1.standing.{job_id}")
        verdicts = nc.subscribe(f"bestpatch.v1.verdict.{job_id}")
        nc.flush()
        _, data = nc.request("bestpatch.v1.open", json.dumps(opening).encode())
        print(f"job {json.loads(data)['job']}: open", flush=True)
        last = None
        for c in cands:  # each sample, as the agent produces it
            _, data = nc.request(f"bestpatch.v1.append.{job_id}", json.dumps({"candidates": [c]}).encode())
            stored = json.loads(data)  # the candidate is stored: the daemon may die, it is not lost
            last = wait_standing(nc, standing, stored["samples"])
            print_standing(last)
            if last["recommendation"] != "continue":
                break
        nc.request(f"bestpatch.v1.append.{job_id}", json.dumps({"close": True}).encode())
        while True:
            _, sid, _, data = nc.next_msg()
            if sid == verdicts:
                status = report(json.loads(data))
                if status == 0 and last is not None and last["recommendation"] == "abstain":
                    return 4
                return status
    except (OSError, NATSError) as e:
        print(f"bestpatch: {e}", file=sys.stderr)
        return 1
    finally:
        nc.close()


if __name__ == "__main__":
    sys.exit(main())
