#!/bin/bash
# What a zone costs (docs/BENCHMARKS.md, "Zones"): a VT_ZONE_BEGIN + vt_zone_end pair with
# recording off (no recorder), recording under VITALS_TRACE (libvitals loads the agent, zones
# only) and under `vitals run` (the agent preloaded, allocations traced too), on one and two
# threads; and for scale one rdtsc and one clock_gettime.
#
# The first 200,000 calls of a process (VITALS_ZONE_SPANS) are also written as spans, rows for
# the Chrome trace; the later ones only update the thread's figures. So the cost is shown in
# separate rows: a pair past the spans (steady state: VITALS_ZONE_SPANS=0), a pair written as a
# span (every call of the run a span), the whole of a default run of 20 million pairs per
# thread, and the spans' one-time cost: (span pair - steady pair) x 200,000 calls.
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

# run N THREADS MODE: ns per pair over RUNS runs, each the recording thread's CPU time (the
# slowest thread's) divided by its pairs; with RAW=1 the values, else "median (least)"
run() {
    local n=$1 threads=$2 mode=$3 all=$(($1 * $2))
    for ((i = 0; i < RUNS; i++)); do
        case $mode in
        off) "$OUT/zb" pair "$n" "$threads" ;;
        trace) VITALS_TRACE="$OUT/z.vtr" "$OUT/zb" pair "$n" "$threads" ;;
        trace0) VITALS_ZONE_SPANS=0 VITALS_TRACE="$OUT/z.vtr" "$OUT/zb" pair "$n" "$threads" ;;
        traceall) VITALS_ZONE_SPANS=$all VITALS_TRACE="$OUT/z.vtr" "$OUT/zb" pair "$n" "$threads" ;;
        run) "$B/vitals" run -q -o "$OUT/z.vtr" -- "$OUT/zb" pair "$n" "$threads" ;;
        run0) VITALS_ZONE_SPANS=0 "$B/vitals" run -q -o "$OUT/z.vtr" -- "$OUT/zb" pair "$n" "$threads" ;;
        runall) VITALS_ZONE_SPANS=$all "$B/vitals" run -q -o "$OUT/z.vtr" -- "$OUT/zb" pair "$n" "$threads" ;;
        esac
        rm -f "$OUT/z.vtr"
    done | if [ "${RAW:-}" ]; then sort -g; else median; fi
}
mid() { awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
clocks=$(for ((i = 0; i < RUNS; i++)); do "$OUT/zb" clocks 10000000; done | sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
# the writer thread's share: the whole process's CPU time per pair under VITALS_TRACE
total=$(for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f "%U %S" env VITALS_TRACE="$OUT/t.vtr" "$OUT/zb" pair 20000000 1 2>&1 >/dev/null |
        awk '{printf "%.1f\n", ($1 + $2) * 1e9 / 20000000}'
    rm -f "$OUT/t.vtr"
done | median)
SPANS=200000
echo "| what | threads | ns of thread CPU time per begin+end pair: median (least) of $RUNS |"
echo "| --- | --- | --- |"
for threads in 1 2; do
    echo "| recording off (no recorder) | $threads | $(run 200000000 $threads off) |"
done
for mode in trace run; do
    label="VITALS_TRACE (zones only)"
    [ $mode = run ] && label="vitals run"
    for threads in 1 2; do
        steady=$(RAW=1 run 2000000 $threads ${mode}0)
        span=$(RAW=1 run 2000000 $threads ${mode}all)
        echo "| $label, past the spans (VITALS_ZONE_SPANS=0), 2,000,000 pairs | $threads | $(echo "$steady" | median) |"
        echo "| $label, every call a span, 2,000,000 pairs | $threads | $(echo "$span" | median) |"
        echo "| $label, default: the first 200,000 calls spans, 20,000,000 pairs | $threads | $(run 20000000 $threads $mode) |"
        once=$(awk -v a="$(echo "$span" | mid)" -v b="$(echo "$steady" | mid)" -v n=$SPANS \
            'BEGIN {printf "%.1f", (a - b) * n / 1e6}')
        notes="${notes:-}
- $label, $threads thread$([ $threads = 1 ] || echo s): the 200,000 spans cost $once ms of CPU once per process ((span pair - steady pair) x 200,000, medians)."
    done
done
echo "$notes"
echo
echo "The whole process (the recording thread and the agent's writer) under VITALS_TRACE: $total ns of CPU per pair (1 thread, 20,000,000 pairs, default spans; /usr/bin/time, 10 ms resolution)."
echo "For scale: one rdtsc $(echo "$clocks" | cut -d' ' -f1) ns, one clock_gettime(CLOCK_MONOTONIC) $(echo "$clocks" | cut -d' ' -f2) ns."
echo "Load average: $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after, on $(nproc) CPUs."
