#!/bin/bash
# What live sampling costs: the CPU time vitals monitor and vitals top use, run side by side in
# one run (so the machine's other load weighs on every variant alike).
#
#   bench/monitor.sh [SECONDS]        (default 30)
#
# Starts one idle target (sleep) and, at the same time, for SECONDS:
#   A  vitals monitor --pid TARGET -i 100ms            (10 Hz, into a trace)
#   B  vitals monitor --pid TARGET -i 100ms --json --no-trace   (10 Hz, JSON lines)
#   C  vitals monitor --pid TARGET -i 10ms             (100 Hz, into a trace)
#   D  vitals top --batch N -d 1 -n 20                 (every process, once a second)
# and prints each one's CPU time (user + system, from wait4) as a share of one core, and the
# allocation calls of A over 1 s and 3 s of sampling (vitals run on vitals monitor: the same
# count means no allocation per tick). BUILD (default build) is the vitals build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_=${1:-30}
BUILD=${BUILD:-build}
VITALS=$BUILD/vitals
[ -x "$VITALS" ] || { echo "bench: build vitals first (make)" >&2; exit 1; }
OUT=$(mktemp -d /tmp/vitals-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
python3 - "$VITALS" "$SECONDS_" "$OUT" <<'PY'
import json, os, subprocess, sys, time
vitals, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
target = subprocess.Popen(["sleep", str(secs + 30)])
pid = str(target.pid)
variants = [
    ("A: monitor 10 Hz, trace", ["monitor", "--pid", pid, "-i", "100ms", "-t", f"{secs}s", "-q",
                                 "-o", f"{out}/a.vtr"]),
    ("B: monitor 10 Hz, JSON lines", ["monitor", "--pid", pid, "-i", "100ms", "-t", f"{secs}s",
                                      "-q", "--json", "--no-trace"]),
    ("C: monitor 100 Hz, trace", ["monitor", "--pid", pid, "-i", "10ms", "-t", f"{secs}s", "-q",
                                  "-o", f"{out}/c.vtr"]),
    ("D: top --batch, 1 s", ["top", "--batch", str(int(secs)), "-d", "1", "-n", "20"]),
]
procs = []
start = time.monotonic()
for name, args in variants:
    procs.append((name, subprocess.Popen([vitals] + args, stdout=subprocess.DEVNULL)))
rows = []
for name, p in procs:
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    cpu = ru.ru_utime + ru.ru_stime
    rows.append((name, cpu, wall, 100.0 * cpu / wall))
target.kill()
print("| variant | CPU s | wall s | share of one core |")
print("| --- | --- | --- | --- |")
for name, cpu, wall, pct in rows:
    print(f"| {name} | {cpu:.3f} | {wall:.1f} | {pct:.2f}% |")
for path in (f"{out}/a.vtr", f"{out}/c.vtr"):
    print(f"trace {os.path.basename(path)}: {os.path.getsize(path)} bytes")
# Allocation calls of the monitor itself, for 1 s and 3 s of 10 Hz sampling.
t2 = subprocess.Popen(["sleep", "30"])
counts = []
for d in ("1s", "3s"):
    tr = f"{out}/self{d}.vtr"
    subprocess.run([vitals, "run", "-q", "-o", tr, "--", vitals, "monitor", "--pid",
                    str(t2.pid), "-i", "100ms", "-t", d, "-q", "--no-anomalies", "-o",
                    f"{out}/m{d}.vtr"], check=True)
    rep = json.loads(subprocess.run([vitals, "report", tr, "-f", "json"], check=True,
                                    capture_output=True).stdout)
    counts.append((d, rep["heap"]["alloc_calls"]))
t2.kill()
print("allocation calls of vitals monitor (10 Hz): " +
      ", ".join(f"{n} over {d}" for d, n in counts))
PY
