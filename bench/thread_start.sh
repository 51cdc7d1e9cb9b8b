#!/bin/bash
# What following a thread from its start costs (docs/BENCHMARKS.md, "Threads sampled from their
# start"): bench/thread_start.c makes 2000 threads one after another, run plain and under
# `vitals run --cpu --no-alloc`, interleaved:
#
#   bench/thread_start.sh [BUILD] [RUNS] [AGENT_B]
#
# (default build, 7 runs of each; medians of µs per thread). With AGENT_B (another build's
# libvitals-agent.so, through VITALS_AGENT) a third kind of run compares two agents.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build} RUNS=${2:-7} AGENT_B=${3:-}
OUT=$(mktemp -d /tmp/vitals-thread-start.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -pthread bench/thread_start.c -o "$OUT/ts"
for ((i = 0; i < RUNS; i++)); do
    "$OUT/ts" >>"$OUT/plain"
    "$BUILD/vitals" run -q --cpu --no-alloc -o "$OUT/t.vtr" -- "$OUT/ts" >>"$OUT/vitals"
    if [ -n "$AGENT_B" ]; then
        VITALS_AGENT=$AGENT_B "$BUILD/vitals" run -q --cpu --no-alloc -o "$OUT/b.vtr" -- \
            "$OUT/ts" >>"$OUT/vitals-B"
    fi
done
med() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for s in plain vitals${AGENT_B:+ vitals-B}; do
    printf "%-9s µs per thread, median %s (min %s, max %s)\n" "$s" "$(med <"$OUT/$s")" \
        "$(sort -g "$OUT/$s" | head -1)" "$(sort -g "$OUT/$s" | tail -1)"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
