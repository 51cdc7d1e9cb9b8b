#!/usr/bin/env python3
"""End-to-end: examples/pool_churn under `vitals run`, with and without --pool. vitals itself
must see the pool remove at least 80% of the allocation calls (heap.alloc_calls of
`vitals report --format json`), and the program must compute the same thing both ways.

Usage: pool_churn_e2e.py --vitals PATH --agent-dir DIR --example PATH --work DIR
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

TIMEOUT = 60


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vitals", required=True)
    ap.add_argument("--agent-dir", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env["VITALS_AGENT"] = str(Path(args.agent_dir).resolve() / "libvitals-agent.so")
    env["LC_ALL"] = "C"
    env["VITALS_HISTORY"] = str(work / "history.db")  # never the user's
    problems = []
    runs = {}
    for label, flags in (("plain", []), ("pool", ["--pool"])):
        trace = work / f"{label}.vtr"
        r = subprocess.run([args.vitals, "run", "-q", "-o", trace, "--", args.example] + flags,
                           capture_output=True, env=env, timeout=TIMEOUT)
        if r.returncode != 0:
            print(f"FAIL pool_churn: 'vitals run -- pool_churn {' '.join(flags)}' exited "
                  f"{r.returncode}; stderr:\n{r.stderr.decode(errors='replace')}", file=sys.stderr)
            return 1
        rep = subprocess.run([args.vitals, "report", trace, "--format", "json"],
                             capture_output=True, env=env, timeout=TIMEOUT)
        if rep.returncode != 0:
            print(f"FAIL pool_churn: vitals report '{trace}' exited {rep.returncode}:\n"
                  f"{rep.stderr.decode(errors='replace')}", file=sys.stderr)
            return 1
        heap = json.loads(rep.stdout)["heap"]
        out = r.stdout.decode()
        m = re.search(r"^(\d+) messages, checksum (\d+)$", out, re.M)
        if not m:
            print(f"FAIL pool_churn: unexpected output of pool_churn {flags}: {out!r}",
                  file=sys.stderr)
            return 1
        runs[label] = (heap["alloc_calls"], heap["free_calls"], m.groups())
        print(f"{label}: heap.alloc_calls {heap['alloc_calls']}, heap.free_calls "
              f"{heap['free_calls']}, {m.group(1)} messages")
    plain, pool = runs["plain"], runs["pool"]
    messages = int(plain[2][0])
    if plain[2] != pool[2]:
        problems.append(f"the two runs computed different results: {plain[2]} vs {pool[2]}")
    if plain[0] < messages:
        problems.append(f"plain: {plain[0]} allocation calls, fewer than its {messages} messages")
    removed = 1 - pool[0] / plain[0]
    print(f"the pool removed {100 * removed:.2f}% of the allocation calls "
          f"({plain[0]} -> {pool[0]})")
    if removed < 0.80:
        problems.append(f"the pool removed only {100 * removed:.1f}% of the allocation calls")
    if problems:
        print("FAIL pool_churn:\n  - " + "\n  - ".join(problems), file=sys.stderr)
        return 1
    print("PASS pool_churn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
