#!/bin/bash
# What a zone costs (docs/BENCHMARKS.md, "Zones"): a VT_ZONE_BEGIN + vt_zone_end pair with
# recording off (no recorder), recording under VITALS_TRACE (libvitals loads the agent, zones
# only) and under `vitals run` (the agent preloaded, allocations traced too), on one and two
# threads; and for scale one rdtsc and one clock_gettime. The first 200,000 calls of a run are
# also written as spans (VITALS_ZONE_SPANS); the rows with VITALS_ZONE_SPANS=0 show the cost of
# a pair after them.
#
#   bench/zones.sh [RUNS]      (default 5 runs of each; medians are reported)
#
# Builds bench/zones_bench.c with gcc -O2 against the shared libvitals of the build tree BUILD
# (default build) and prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
BUILD=${BUILD:-build}
B=$(cd "$BUILD" && pwd)
[ -f "$B/libvitals.so" ] && [ -x "$B/vitals" ] || { echo "bench: build vitals first (make)" >&2; exit 1; }
OUT=$(mktemp -d /tmp/vitals-zonebench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -pthread -Iinclude bench/zones_bench.c -L"$B" -lvitals -Wl,-rpath,"$B" -o "$OUT/zb"
export VITALS_AGENT="$B/libvitals-agent.so"
unset VITALS_TRACE LD_PRELOAD

# "median (least)": on a machine shared with other work the least is the better estimate of
# the intrinsic cost, the median says how much the sharing adds.
median() { sort -g | awk '{a[NR]=$1} END {printf "%.1f (%.1f)", a[int((NR+1)/2)], a[1]}'; }

# run LABEL N THREADS MODE: ns per pair over RUNS runs, each the recording thread's CPU time
# (the slowest thread's) divided by its pairs
run() {
    local n=$2 threads=$3 mode=$4
    for ((i = 0; i < RUNS; i++)); do
        case $mode in
        off) "$OUT/zb" pair "$n" "$threads" ;;
        trace) VITALS_TRACE="$OUT/z.vtr" "$OUT/zb" pair "$n" "$threads"; rm -f "$OUT/z.vtr" ;;
        trace0) VITALS_ZONE_SPANS=0 VITALS_TRACE="$OUT/z.vtr" "$OUT/zb" pair "$n" "$threads"; rm -f "$OUT/z.vtr" ;;
        run) "$B/vitals" run -q -o "$OUT/r.vtr" -- "$OUT/zb" pair "$n" "$threads"; rm -f "$OUT/r.vtr" ;;
        esac
    done | median
}

clocks=$(for ((i = 0; i < RUNS; i++)); do "$OUT/zb" clocks 10000000; done | sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
# the writer thread's share: the whole process's CPU time per pair under VITALS_TRACE
total=$(for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f "%U %S" env VITALS_TRACE="$OUT/t.vtr" "$OUT/zb" pair 2000000 1 2>&1 >/dev/null |
        awk '{printf "%.1f\n", ($1 + $2) * 1e9 / 2000000}'
    rm -f "$OUT/t.vtr"
done | median)
echo "| what | threads | ns of thread CPU time per begin+end pair: median (least) of $RUNS |"
echo "| --- | --- | --- |"
echo "| recording off (no recorder) | 1 | $(run off 200000000 1 off) |"
echo "| recording off (no recorder) | 2 | $(run off 200000000 2 off) |"
echo "| recording, VITALS_TRACE (zones only) | 1 | $(run trace 2000000 1 trace) |"
echo "| recording, VITALS_TRACE (zones only) | 2 | $(run trace 2000000 2 trace) |"
echo "| recording, VITALS_TRACE, VITALS_ZONE_SPANS=0 (no spans) | 1 | $(run trace0 2000000 1 trace0) |"
echo "| recording, VITALS_TRACE, VITALS_ZONE_SPANS=0 (no spans) | 2 | $(run trace0 2000000 2 trace0) |"
echo "| recording, vitals run | 1 | $(run run 2000000 1 run) |"
echo "| recording, vitals run | 2 | $(run run 2000000 2 run) |"
echo
echo "The whole process (the recording thread and the agent's writer) under VITALS_TRACE: $total ns of CPU per pair (1 thread; /usr/bin/time, 10 ms resolution)."
echo "For scale: one rdtsc $(echo "$clocks" | cut -d' ' -f1) ns, one clock_gettime(CLOCK_MONOTONIC) $(echo "$clocks" | cut -d' ' -f2) ns."
echo "Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs."
